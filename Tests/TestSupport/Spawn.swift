import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Where things are: the package root (from this file's path) and the built `perch` binary.
public enum Paths {
    public static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// `PERCH_BIN`, or the debug build (the test command runs `swift build` before `swift test`).
    public static var perchBinary: String {
        ProcessInfo.processInfo.environment["PERCH_BIN"] ?? packageRoot + "/.build/debug/perch"
    }

    /// A new private folder under the system's temp dir, removed with everything in it when the test process
    /// exits (a suite run made about 300 and left 30 MB behind). PERCH_KEEP_TEST_FILES=1 keeps them.
    public static func makeTemporaryDirectory(_ prefix: String = "perch-test") -> String {
        var template = Array((NSTemporaryDirectory() + "/\(prefix)-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { fatalError("mkdtemp failed") }
        let path = String(cString: made)
        TemporaryFolders.remember(path)
        return path
    }
}

/// The folders `Paths.makeTemporaryDirectory` made, removed at exit (tests run on several threads).
private enum TemporaryFolders {
    static let paths = Locked<[String]>([])
    private static let exitHook: Void = {
        guard ProcessInfo.processInfo.environment["PERCH_KEEP_TEST_FILES"] != "1" else { return }
        atexit {
            for path in TemporaryFolders.paths.current { try? FileManager.default.removeItem(atPath: path) }
        }
    }()

    static func remember(_ path: String) {
        _ = exitHook
        paths.withLock { $0.append(path) }
    }
}

/// A child process started with posix_spawn, with chosen file descriptors (systemd puts the socket on fd 3,
/// spawn-fcgi on fd 0) and its stdout+stderr in a log file.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    public let logPath: String
    private var exitStatus: Int32?

    /// `fds` maps a target descriptor in the child to one of ours. `environment` replaces the child's whole
    /// environment; `environmentFromShellPID` makes sh export the variable set to its own pid before exec
    /// (LISTEN_PID must be the pid of the process that gets the socket).
    public init(
        _ arguments: [String], environment: [String: String], fds: [Int32: Int32] = [:], logPath: String,
        listenPIDVariable: String? = nil
    ) throws {
        self.logPath = logPath
        var argv = arguments
        if let name = listenPIDVariable {
            argv = ["/bin/sh", "-c", "\(name)=$$ exec \"$0\" \"$@\""] + arguments
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let log = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        if fds[0] == nil { posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0) }
        posix_spawn_file_actions_adddup2(&actions, log, 1)
        posix_spawn_file_actions_adddup2(&actions, log, 2)
        for (target, source) in fds { posix_spawn_file_actions_adddup2(&actions, source, target) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        let cArgs = argv.map { strdup($0) } + [nil]
        // perch refuses to serve as root unless told to (PERCH_ALLOW_ROOT); CI runs the tests as root. A test that
        // checks the refusal sets the variable itself.
        var environment = environment
        if geteuid() == 0 && environment["PERCH_ALLOW_ROOT"] == nil { environment["PERCH_ALLOW_ROOT"] = "1" }
        let cEnv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            cArgs.forEach { free($0) }
            cEnv.forEach { free($0) }
        }
        var child: pid_t = 0
        let rc = posix_spawn(&child, argv[0], &actions, &attributes, cArgs, cEnv)
        close(log)
        guard rc == 0 else { throw SupportError("cannot start \(argv[0]): \(String(cString: strerror(rc)))") }
        pid = child
    }

    public func signal(_ sig: Int32) { kill(pid, sig) }

    /// The exit status once the process has exited (nil while it runs). Signals give 128+N.
    public func poll() -> Int32? {
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
        exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return exitStatus
    }

    /// Waits up to `seconds` for exit; nil if still running.
    @discardableResult
    public func wait(seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let status = poll() { return status }
            usleep(20_000)
        }
        return poll()
    }

    /// Stops it for good (TERM, then KILL) and reaps it.
    public func terminate() {
        guard poll() == nil else { return }
        signal(SIGTERM)
        if wait(seconds: 10) == nil {
            signal(SIGKILL)
            wait(seconds: 5)
        }
    }

    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Direct children, from /proc (the pool's workers when this is the master).
    public var children: [pid_t] { ChildProcess.children(of: pid) }

    public static func children(of pid: pid_t) -> [pid_t] {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        return text.split(separator: " ").compactMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    public static func isAlive(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        // A zombie is dead for our purposes.
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        return !stat.contains(") Z ")
    }

    /// Resident memory of a process in kB (VmRSS).
    public static func residentKilobytes(_ pid: pid_t) -> Int? {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return nil }
        return Int(line.split(separator: " ").dropFirst().first ?? "")
    }
}

public struct SupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Polls `condition` every 20 ms for up to `seconds`.
public func eventually(seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    repeat {
        if condition() { return true }
        usleep(20_000)
    } while Date() < deadline
    return condition()
}
