import FoundationEssentials
import Glibc
import Logging

/// How this program was started, so that a reload can check and then become the (possibly new) binary.
public struct Command: Sendable {
    static let checkVariable = "PERCH_CHECK_ONLY"

    /// The path as given at start, made absolute but with symlinks kept, so that a deploy that moves a
    /// `current` link or replaces the file is picked up by the next HUP.
    public let path: String
    public let arguments: [String]

    public init(arguments: [String] = CommandLine.arguments) {
        var path = arguments.first ?? ""
        if !path.contains("/") {
            path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? path
        } else if !path.hasPrefix("/") {
            path = FileManager.default.currentDirectoryPath + "/" + path
        }
        self.path = path
        self.arguments = arguments
    }

    /// True when this process was started only to validate configuration and code before a reload.
    public static var isCheckOnly: Bool { ProcessEnvironment()[checkVariable] == "1" }

    /// Runs the binary with the same arguments in check-only mode and waits (bounded) for its verdict.
    func check(logger: Logger, timeoutSeconds: Double = 15) -> Bool {
        let pid = fork()
        if pid == 0 {
            Signals.resetForExec()
            setenv(Command.checkVariable, "1", 1)
            execArguments()
            _exit(127)
        }
        guard pid > 0 else { return false }
        let deadline = monotonicNanos() + Int64(timeoutSeconds * 1e9)
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            if monotonicNanos() > deadline {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                logger.error("reload check timed out")
                return false
            }
            usleep(10_000)
        }
        return status == 0
    }

    /// Replaces this process with the binary; returns only if exec failed.
    func exec() { execArguments() }

    private func execArguments() {
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        execv(path, &argv)
    }
}
