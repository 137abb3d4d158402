import Foundation
import TestSupport
import Testing
import Web

/// The live client against a real HTTP server (Python's http.server on a free port), bounded in time.
@Suite struct LiveClientTests {
    @Test func getsAFileOverTCP() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("perch-live-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(#"{"hello":"world"}"#.utf8).write(to: dir.appendingPathComponent("hello.json"))
        let port = 20000 + Int(getpid() % 20000)
        let server = try ChildProcess(
            ["/usr/bin/env", "python3", "-m", "http.server", "\(port)", "--bind", "127.0.0.1", "--directory", dir.path],
            environment: ProcessInfo.processInfo.environment, logPath: dir.path + "/server.log")
        defer { server.terminate() }

        let client = LiveTestClient(host: "127.0.0.1", port: port, timeout: 5)
        var response: TestResponse?
        for _ in 0..<100 where response == nil {
            response = try? client.get("/hello.json")
            if response == nil { Thread.sleep(forTimeInterval: 0.05) }
        }
        let r = try #require(response)
        #expect(r.status == .ok)
        #expect(try r.json() == ["hello": "world"])
        #expect(try client.get("/missing").status == .notFound)
        #expect(throws: LiveClientError.self) { try LiveTestClient(port: 1, timeout: 1).get("/") }
    }
}
