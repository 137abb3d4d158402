import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Where `perch serve` binds (Listener): a socket another server answers on is never taken over, a socket file
/// left by a crashed run is replaced, and an address it cannot have is a clear startup error, not a silent pool.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct ListenerErrorTests {
    private let environment = ["PATH": "/usr/bin:/bin", "PERCH_ENV": "development", "PERCH_WORKERS": "2"]

    private func health(_ socketPath: String) throws -> CommandResult {
        try run(
            ["/usr/bin/cgi-fcgi", "-bind", "-connect", socketPath],
            environment: ["REQUEST_METHOD": "GET", "REQUEST_URI": "/api/v1/health", "PATH": "/usr/bin:/bin"], seconds: 20)
    }

    private func serve(listen: String) throws -> CommandResult {
        var env = environment
        env["PERCH_LISTEN"] = listen
        return try run([Paths.perchBinary, "serve"], environment: env, seconds: 30)
    }

    @Test func aSocketInUseIsNotTakenOver() throws {
        let pool = try PerchPool(workers: 2)
        let second = try serve(listen: "unix:" + pool.socketPath)
        #expect(second.status != 0)
        #expect(second.output.contains("is in use by a running server"), "\(second.output)")
        #expect(try health(pool.socketPath).output.contains("Status: 200 OK"), "the first pool still owns its socket")
        #expect(pool.process.poll() == nil)
    }

    @Test func aStaleSocketFileIsReplaced() throws {
        let directory = Paths.makeTemporaryDirectory()
        let path = directory + "/stale.sock"
        close(try listeningUnixSocket(path))  // the file stays, nobody answers: what a killed master leaves
        #expect(FileManager.default.fileExists(atPath: path))
        var env = environment
        env["PERCH_LISTEN"] = "unix:" + path
        let child = try ChildProcess([Paths.perchBinary, "serve"], environment: env, logPath: directory + "/log")
        defer { child.terminate() }
        #expect(eventually(seconds: 20) { child.children.count == 2 }, "\(child.log)")
        #expect(try health(path).output.contains("Status: 200 OK"), "\(child.log)")
    }

    @Test func aBusyPortIsAClearError() throws {
        let (fd, port) = try listeningLoopbackSocket(backlog: 8)
        defer { close(fd) }
        let result = try serve(listen: "127.0.0.1:\(port)")
        #expect(result.status != 0)
        #expect(result.output.contains("cannot listen on 127.0.0.1:\(port)"), "\(result.output)")
    }

    @Test func anUnknownHostIsAClearError() throws {
        let result = try serve(listen: "no-such-host.invalid:9000")
        #expect(result.status != 0)
        #expect(result.output.contains("cannot resolve listen host \"no-such-host.invalid\""), "\(result.output)")
    }
}
