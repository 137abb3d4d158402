import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A raw FastCGI client for tests: well-formed requests and deliberately broken records on a unix socket.
public final class FastCGIConnection {
    public let fd: Int32

    public init(unixPath: String, receiveTimeout: Double = 10) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: unixPath.utf8.prefix($0.count - 1)) }
        let ok = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0 }
        }
        guard ok else {
            close(fd)
            throw SupportError("cannot connect to \(unixPath): \(String(cString: strerror(errno)))")
        }
        var timeout = timeval(tv_sec: Int(receiveTimeout), tv_usec: Int((receiveTimeout - Double(Int(receiveTimeout))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// A TCP connection to host:port (IPv4), optionally from a chosen local address such as 127.0.0.2.
    public init(host: String, port: Int, from localAddress: String? = nil, receiveTimeout: Double = 10) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if let localAddress {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            local.sin_addr.s_addr = inet_addr(localAddress)
            _ = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr(host)
        address.sin_port = UInt16(port).bigEndian
        let ok = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard ok else {
            close(fd)
            throw SupportError("cannot connect to \(host):\(port)")
        }
        var timeout = timeval(tv_sec: Int(receiveTimeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    public static func record(type: UInt8, requestID: UInt16 = 1, content: [UInt8]) -> [UInt8] {
        [
            1, type, UInt8(requestID >> 8), UInt8(requestID & 0xff),
            UInt8((content.count >> 8) & 0xff), UInt8(content.count & 0xff), 0, 0
        ] + content
    }

    public static func beginRequest(keepConnection: Bool = false, requestID: UInt16 = 1) -> [UInt8] {
        record(type: 1, requestID: requestID, content: [0, 1, keepConnection ? 1 : 0, 0, 0, 0, 0, 0])
    }

    public static func encodeLength(_ length: Int) -> [UInt8] {
        length < 128
            ? [UInt8(length)]
            : [UInt8((length >> 24) & 0x7f) | 0x80, UInt8((length >> 16) & 0xff), UInt8((length >> 8) & 0xff), UInt8(length & 0xff)]
    }

    public static func params(_ values: [String: String], requestID: UInt16 = 1) -> [UInt8] {
        var content: [UInt8] = []
        for (name, value) in values {
            content += encodeLength(name.utf8.count) + encodeLength(value.utf8.count) + Array(name.utf8) + Array(value.utf8)
        }
        return record(type: 4, requestID: requestID, content: content) + record(type: 4, requestID: requestID, content: [])
    }

    public static func stdin(_ body: [UInt8], requestID: UInt16 = 1, end: Bool = true) -> [UInt8] {
        var bytes: [UInt8] = []
        var offset = 0
        while offset < body.count {
            let chunk = Array(body[offset..<min(body.count, offset + 65_535)])
            bytes += record(type: 5, requestID: requestID, content: chunk)
            offset += chunk.count
        }
        if end { bytes += record(type: 5, requestID: requestID, content: []) }
        return bytes
    }

    /// A complete GET-style request's bytes.
    public static func request(_ params: [String: String], body: [UInt8] = [], keepConnection: Bool = false) -> [UInt8] {
        var all = params
        if !body.isEmpty { all["CONTENT_LENGTH"] = "\(body.count)" }
        return beginRequest(keepConnection: keepConnection) + self.params(all) + stdin(body)
    }

    @discardableResult
    public func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if count <= 0 { return false }
            offset += count
        }
        return true
    }

    /// Reads records until FCGI_END_REQUEST and returns the concatenated stdout (nil on EOF/timeout first).
    public func readResponse() -> String? {
        var stdout: [UInt8] = []
        while true {
            guard let header = readExactly(8) else { return nil }
            let length = Int(header[4]) << 8 | Int(header[5])
            guard let content = readExactly(length + Int(header[6])) else { return nil }
            switch header[1] {
            case 6: stdout += content.prefix(length)
            case 3: return String(decoding: stdout, as: UTF8.self)
            default: continue
            }
        }
    }

    /// True when the server closed the connection (EOF) within the receive timeout.
    public func closedByPeer() -> Bool {
        var byte: UInt8 = 0
        while true {
            let count = recv(fd, &byte, 1, 0)
            if count == 0 { return true }
            if count < 0 { return errno == ECONNRESET }
        }
    }

    private func readExactly(_ count: Int) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + filled, count - filled, 0) }
            if got <= 0 { return nil }
            filled += got
        }
        return buffer
    }
}

/// The params of a GET through a web server, for raw FastCGI tests.
public func fastCGIParams(_ uri: String, method: String = "GET", remoteAddress: String = "127.0.0.1") -> [String: String] {
    [
        "REQUEST_METHOD": method, "REQUEST_URI": uri, "QUERY_STRING": "", "REMOTE_ADDR": remoteAddress,
        "SERVER_PROTOCOL": "HTTP/1.1", "GATEWAY_INTERFACE": "CGI/1.1"
    ]
}
