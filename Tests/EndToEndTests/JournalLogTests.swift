import Foundation
import TestSupport
import Testing

/// A pool whose stderr is "the journal" (JOURNAL_STREAM names the device and inode of its log file, as
/// systemd names its stream) prefixes every line with its syslog priority; PERCH_LOG_FORMAT=json makes each
/// line one JSON object. With JOURNAL_STREAM naming another stream, no prefix.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct JournalLogTests {
    @Test(arguments: [true, false])
    func poolLinesCarryJournalPrioritiesAndAreJSON(journal: Bool) throws {
        let directory = Paths.makeTemporaryDirectory("perch-journal")
        let logPath = directory + "/stderr.log"
        try #require(FileManager.default.createFile(atPath: logPath, contents: nil))
        var status = stat()
        try #require(stat(logPath, &status) == 0)
        let socketPath = directory + "/perch.sock"
        let process = try ChildProcess(
            [Paths.perchBinary, "serve"],
            environment: [
                "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "PERCH_LISTEN": "unix:" + socketPath,
                "PERCH_WORKERS": "1", "PERCH_ENV": "development", "PERCH_LOG_FORMAT": "json",
                "JOURNAL_STREAM": "\(status.st_dev):\(status.st_ino + (journal ? 0 : 1))"
            ], logPath: logPath)
        defer { process.terminate() }
        try #require(eventually(seconds: 20) { FileManager.default.fileExists(atPath: socketPath) && process.children.count == 1 }, "\(process.log)")
        let connection = try FastCGIConnection(unixPath: socketPath)
        connection.send(FastCGIConnection.request(fastCGIParams("/api/v1/health")))
        #expect(connection.readResponse()?.hasPrefix("Status: 200 OK") == true)
        process.signal(SIGTERM)
        #expect(process.wait(seconds: 20) == 0)

        let lines = process.log.split(separator: "\n").map(String.init)
        #expect(lines.count >= 3, "\(process.log)")
        var objects: [[String: Any]] = []
        for line in lines {
            var text = line[...]
            if journal {
                let prefix = text.prefix(3)
                #expect(prefix.count == 3 && prefix.first == "<" && prefix.last == ">" && "234567".contains(prefix.dropFirst().first!), "\(line)")
                text = text.dropFirst(3)
            }
            let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not one JSON object: \(line)")
            #expect(object["timestamp"] is String && object["level"] is String && object["message"] is String, "\(line)")
            objects.append(object)
        }
        #expect(lines.contains { $0.hasPrefix(journal ? "<5>{" : "{") && $0.contains(#""message":"pool stopped""#) }, "a notice: \(process.log)")
        let access = try #require(objects.first { $0["message"] as? String == "request" }, "\(process.log)")
        #expect(access["path"] as? String == "/api/v1/health" && access["status"] as? Int == 200)
        #expect((access["request_id"] as? String)?.isEmpty == false, "the request id is in the metadata")
        if journal { #expect(lines.contains { $0.hasPrefix("<6>") && $0.contains(#""message":"request""#) }) }
    }
}
