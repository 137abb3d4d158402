import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A child process run with posix_spawn and reaped with waitpid (Foundation's Process can hang in
/// waitUntilExit on Linux). The child gets an empty signal mask, so SIGTERM works on it.
struct Subprocess {
    let pid: pid_t

    /// Starts `/bin/sh -c command`.
    init(shell command: String) throws {
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGTERM)
        sigaddset(&defaults, SIGINT)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var child: pid_t = 0
        let args = ["/bin/sh", "-c", command]
        var argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let rc = posix_spawn(&child, "/bin/sh", nil, &attr, &argv, environ)
        guard rc == 0 else { throw NSError(domain: "spawn", code: Int(rc)) }
        pid = child
    }

    /// Waits up to `timeout` seconds; kills the child and returns nil when it runs longer.
    func wait(timeout: TimeInterval) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        while Date() < deadline {
            if waitpid(pid, &status, WNOHANG) == pid { return (status & 0x7f) == 0 ? (status >> 8) & 0xff : -1 }
            usleep(20_000)
        }
        stop()
        return nil
    }

    func stop() {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }

    /// Runs a shell command to completion, returning its exit status and combined output.
    static func run(_ command: String, timeout: TimeInterval = 120) throws -> (Int32, String) {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("perch-sub-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: out) }
        let p = try Subprocess(shell: "\(command) > '\(out.path)' 2>&1")
        let status = p.wait(timeout: timeout) ?? -1
        let text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
        return (status, status == -1 && text.isEmpty ? "timed out or killed" : text)
    }
}
