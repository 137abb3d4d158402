import Glibc

/// Logs go to stderr; with a log file configured, stderr is that file, reopened on USR1 for logrotate.
enum LogFile {
    static func reopen(_ path: String) {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            let message = "perch: cannot open log file \(path): \(errnoText())\n"
            _ = message.withCString { Glibc.write(2, $0, strlen($0)) }
            return
        }
        dup2(fd, 2)
        close(fd)
    }
}
