import Foundation
import Glibc
import Logging
import Testing
import Web

@testable import App

/// journald priorities and JSON lines (PERCH_LOG_FORMAT=json): the shapes journald and log shippers read.
@Suite struct LogStyleTests {
    private let time = timespec(tv_sec: 1_700_000_000, tv_nsec: 5_999_999)

    private func object(_ line: [UInt8], droppingPrefix prefix: String = "") throws -> [String: Any] {
        var text = String(decoding: line, as: UTF8.self)
        #expect(text.hasPrefix(prefix) && text.hasSuffix("}\n") && text.filter { $0 == "\n" }.count == 1, "\(text)")
        text.removeFirst(prefix.count)
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
    }

    @Test func jsonLinesHoldTimeLevelMessageAndMetadata() throws {
        let line = LogLine.render(
            time: time, level: .warning, message: "a \"quoted\"\nmessage\u{1}",
            fields: [("bytes", "22"), ("error", "disk \\ full"), ("pid", "42"), ("request_id", "abc-1"), ("status", "not a number")],
            style: LogLine.Style(format: .json))
        let json = try object(line)
        #expect(json["timestamp"] as? String == "2023-11-14T22:13:20.005Z")
        #expect(json["level"] as? String == "warning")
        #expect(json["message"] as? String == "a \"quoted\"\nmessage\u{1}")
        #expect(json["request_id"] as? String == "abc-1" && json["error"] as? String == "disk \\ full")
        #expect(json["bytes"] as? Int == 22 && json["pid"] as? Int == 42, "numbers stay numbers")
        #expect(json["status"] as? String == "not a number", "a value that is no number stays a string")
    }

    @Test func accessLinesInJSONCarryTheRequestFields() throws {
        var handler = LogLine(label: "test", level: .info, style: LogLine.Style(format: .json, journalPriorities: true))
        handler[metadataKey: "request_id"] = "r-7"
        let entry = AccessLogEntry(method: "GET", path: "/api/v1/posts/7", status: 404, durationMicros: 1_234, bytes: 22)
        let json = try object(handler.accessLine(entry, time: time), droppingPrefix: "<6>")
        #expect(json["message"] as? String == "request" && json["level"] as? String == "info")
        #expect(json["status"] as? Int == 404 && json["duration_ms"] as? Double == 1.234 && json["path"] as? String == "/api/v1/posts/7")
        #expect(json["request_id"] as? String == "r-7" && json["pid"] as? Int == Int(getpid()))
    }

    @Test(arguments: [
        (Logger.Level.trace, "<7>"), (.debug, "<7>"), (.info, "<6>"), (.notice, "<5>"), (.warning, "<4>"), (.error, "<3>"), (.critical, "<2>")
    ])
    func journalLinesStartWithTheSyslogPriority(level: Logger.Level, prefix: String) {
        let line = String(
            decoding: LogLine.render(time: time, level: level, message: "m", fields: [], style: LogLine.Style(journalPriorities: true)), as: UTF8.self)
        #expect(line == "\(prefix)2023-11-14T22:13:20.005Z level=\(level.rawValue) msg=m\n")
        let access = LogLine(label: "t", level: .info, style: LogLine.Style(journalPriorities: true))
            .accessLine(AccessLogEntry(method: "GET", path: "/", status: 200, durationMicros: 1, bytes: 2), time: time)
        #expect(String(decoding: access, as: UTF8.self).hasPrefix("<6>2023-11-14T22:13:20.005Z level=info msg=request "))
    }

    @Test func stderrIsTheJournalOnlyWhenDeviceAndInodeMatch() throws {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        defer { fds.forEach { close($0) } }
        var status = stat()
        try #require(fstat(fds[1], &status) == 0)
        #expect(LogLine.stderrIsJournal("\(status.st_dev):\(status.st_ino)", fd: fds[1]))
        #expect(!LogLine.stderrIsJournal("\(status.st_dev):\(status.st_ino + 1)", fd: fds[1]), "another stream")
        let other = open("/dev/null", O_WRONLY)
        defer { close(other) }
        #expect(!LogLine.stderrIsJournal("\(status.st_dev):\(status.st_ino)", fd: other), "stderr redirected elsewhere")
        for bad in [nil, "", "12", "a:b", "1:2:3", "-1:5"] as [String?] { #expect(!LogLine.stderrIsJournal(bad, fd: fds[1])) }
    }
}
