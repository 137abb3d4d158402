import CFastCGI
import Glibc

/// sd_notify(3) without libsystemd: each message is one datagram to the unix socket named by
/// `$NOTIFY_SOCKET` (a path, or `@name` for the abstract namespace). Nothing happens outside systemd.
enum SystemdNotify {
    static let socketPath: String? = {
        guard let path = ProcessEnvironment()["NOTIFY_SOCKET"], !path.isEmpty else { return nil }
        return path
    }()

    /// Half of `WATCHDOG_USEC` (systemd's advice), when the watchdog is on and meant for this process.
    static let watchdogInterval: Int64? = {
        let env = ProcessEnvironment()
        if let pid = env["WATCHDOG_PID"], pid_t(pid) != getpid() { return nil }
        guard let text = env["WATCHDOG_USEC"], let usec = Int64(text), usec > 0 else { return nil }
        return usec * 1_000 / 2
    }()

    static var isEnabled: Bool { socketPath != nil }

    /// Sends `message` (lines like `READY=1`); a lost datagram is not an error worth failing over.
    static func send(_ message: String) {
        guard let path = socketPath else { return }
        var bytes = Array(path.utf8)
        let abstract = bytes.first == UInt8(ascii: "@")
        if abstract { bytes[0] = 0 }
        var address = sockaddr_un()
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 0 : 1))
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var text = Array(message.utf8)
        _ = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, &text, text.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL), $0, length) }
        }
    }
}
