// CFastCGI too: its shim includes <sys/socket.h>, and in a whole-module build the socket constants are found
// only through the module that first imported that header.
import CFastCGI
import Glibc

/// The listening socket and where it came from, in DESIGN.md's order of precedence.
public struct Listener: Sendable {
    public enum Origin: Sendable, Equatable {
        /// Handed over by our own master across a reload (re-exec).
        case reloaded
        /// systemd socket activation (LISTEN_FDS, fd 3).
        case systemd
        /// A web server spawned us with the socket on fd 0 (spawn-fcgi, lighttpd, mod_fcgid).
        case spawned
        /// Bound by us from configuration.
        case bound(ListenAddress)
    }

    public let fd: Int32
    public let origin: Origin

    /// Variable through which a reloading master hands its socket to its next self.
    static let reloadVariable = "PERCH_LISTEN_FD"

    /// Finds the socket to serve on; nil means none: the caller serves one CGI request.
    public static func resolve(_ config: PoolConfiguration) throws -> Listener? {
        let env = ProcessEnvironment()
        if let text = env[reloadVariable], let fd = Int32(text), isListeningSocket(fd) {
            unsetenv(reloadVariable)
            return Listener(fd: fd, origin: .reloaded)
        }
        if let pid = env["LISTEN_PID"], pid_t(pid) == getpid(), let count = env["LISTEN_FDS"].flatMap(Int.init), count >= 1 {
            // Keep LISTEN_* away from anything we spawn; the fd number is all we need.
            unsetenv("LISTEN_PID")
            unsetenv("LISTEN_FDS")
            unsetenv("LISTEN_FDNAMES")
            guard isListeningSocket(3) else { throw ConfigurationError("LISTEN_FDS is set but fd 3 is not a listening socket") }
            return Listener(fd: 3, origin: .systemd)
        }
        if isListeningSocket(0) {
            return Listener(fd: 0, origin: .spawned)
        }
        if let address = config.listen {
            return Listener(fd: try bind(address, config), origin: .bound(address))
        }
        return nil
    }

    static func isListeningSocket(_ fd: Int32) -> Bool {
        var accepting: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &length) == 0 && accepting == 1
    }

    /// Whether the socket is TCP (where the allowed-clients list applies) rather than unix.
    public var isTCP: Bool {
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return ok == 0 && (Int32(address.ss_family) == AF_INET || Int32(address.ss_family) == AF_INET6)
    }

    private static func bind(_ address: ListenAddress, _ config: PoolConfiguration) throws -> Int32 {
        switch address {
        case .unix(let path): return try bindUnix(path, config)
        case .tcp(let host, let port): return try bindTCP(host, port, config.backlog)
        }
    }

    private static func bindUnix(_ path: String, _ config: PoolConfiguration) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ConfigurationError("cannot create a unix socket: \(errnoText())") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path.utf8.prefix(raw.count - 1))
        }
        // A socket file left by a previous run is stale only when nobody answers on it.
        if fileIsSocket(path) {
            if connectSucceeds(&address) {
                close(fd)
                throw ConfigurationError("\(path) is in use by a running server")
            }
            unlink(path)
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0 else {
            let reason = errnoText()
            close(fd)
            throw ConfigurationError("cannot bind \(path): \(reason)")
        }
        try applyOwnership(path, config)
        guard listen(fd, config.backlog) == 0 else { throw ConfigurationError("cannot listen on \(path): \(errnoText())") }
        return fd
    }

    private static func applyOwnership(_ path: String, _ config: PoolConfiguration) throws {
        var uid = uid_t.max
        var gid = gid_t.max  // -1: leave unchanged
        if let owner = config.socketOwner {
            guard let entry = getpwnam(owner) else { throw ConfigurationError("socket owner \"\(owner)\" is not a user") }
            uid = entry.pointee.pw_uid
        }
        if let group = config.socketGroup {
            guard let entry = getgrnam(group) else { throw ConfigurationError("socket group \"\(group)\" is not a group") }
            gid = entry.pointee.gr_gid
        }
        if uid != uid_t.max || gid != gid_t.max, chown(path, uid, gid) != 0 {
            throw ConfigurationError("cannot chown \(path): \(errnoText())")
        }
        guard chmod(path, config.socketMode) == 0 else { throw ConfigurationError("cannot chmod \(path): \(errnoText())") }
    }

    private static func fileIsSocket(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFSOCK
    }

    private static func connectSucceeds(_ address: inout sockaddr_un) -> Bool {
        let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(probe) }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(probe, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
            }
        }
    }

    private static func bindTCP(_ host: String, _ port: UInt16, _ backlog: Int32) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var results: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &results)
        guard rc == 0, let first = results else {
            throw ConfigurationError("cannot resolve listen host \"\(host)\": \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(results) }
        let fd = socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ConfigurationError("cannot create a TCP socket: \(errnoText())") }
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        guard Glibc.bind(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0, listen(fd, backlog) == 0 else {
            let reason = errnoText()
            close(fd)
            throw ConfigurationError("cannot listen on \(host):\(port): \(reason)")
        }
        return fd
    }
}

/// The peer's numeric address of an accepted TCP connection, or nil for a unix socket.
func peerAddress(_ fd: Int32) -> String? {
    var address = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    let ok = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
    }
    guard ok == 0, Int32(address.ss_family) == AF_INET || Int32(address.ss_family) == AF_INET6 else { return nil }
    var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
    let rc = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            getnameinfo($0, length, &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST)
        }
    }
    guard rc == 0 else { return nil }
    let text = String(cString: host)
    return text.hasPrefix("::ffff:") ? String(text.dropFirst(7)) : text
}

func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

/// The process environment as it is now (reads `environ`, so it sees setenv and unsetenv).
struct ProcessEnvironment {
    subscript(name: String) -> String? { getenv(name).map { String(cString: $0) } }
}
