import Foundation
import HTTPTypes

#if canImport(Glibc)
    import Glibc
#endif

public struct LiveClientError: Error, CustomStringConvertible {
    public var description: String
}

/// HTTP/1.1 over a plain TCP socket to host:port, one connection per request (`Connection: close`),
/// blocking with a timeout. Reads Content-Length and chunked answers. For end-to-end tests through nginx.
public struct LiveTestClient: TestClient {
    public var host: String
    public var port: Int
    public var timeout: TimeInterval

    public init(host: String = "127.0.0.1", port: Int, timeout: TimeInterval = 10) {
        self.host = host
        self.port = port
        self.timeout = timeout
    }

    public func execute(_ method: HTTPRequest.Method, _ path: String, headers: HTTPFields, body: [UInt8]) throws -> TestResponse {
        let fd = try connect()
        defer { close(fd) }
        var head = "\(method.rawValue) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n"
        for field in headers where field.name != .contentLength && field.name.canonicalName != "host" && field.name != .connection {
            head += "\(field.name.rawName): \(field.value)\r\n"
        }
        if !body.isEmpty || [.post, .put, .patch].contains(method) { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        try send(fd, Array(head.utf8) + body)
        return try parse(receiveAll(fd))
    }

    private func connect() throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
            throw LiveClientError(description: "cannot resolve \(host)")
        }
        defer { freeaddrinfo(list) }
        var lastError = "no address"
        var info: UnsafeMutablePointer<addrinfo>? = first
        while let ai = info {
            let fd = socket(ai.pointee.ai_family, ai.pointee.ai_socktype, ai.pointee.ai_protocol)
            if fd >= 0 {
                var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1_000_000))
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                if Glibc.connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 { return fd }
                lastError = String(cString: strerror(errno))
                close(fd)
            }
            info = ai.pointee.ai_next
        }
        throw LiveClientError(description: "cannot connect to \(host):\(port): \(lastError)")
    }

    private func send(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { throw LiveClientError(description: "send failed: \(String(cString: strerror(errno)))") }
            offset += n
        }
    }

    private func receiveAll(_ fd: Int32) throws -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return out }
            if n < 0 {
                if errno == EINTR { continue }
                throw LiveClientError(description: "receive failed (timeout?): \(String(cString: strerror(errno)))")
            }
            out += buffer[0..<n]
        }
    }

    private func parse(_ data: [UInt8]) throws -> TestResponse {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = data.indices.first(where: { data[$0...].starts(with: separator) }) else {
            throw LiveClientError(description: "incomplete response head")
        }
        let lines = String(decoding: data[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ", maxSplits: 2)
        guard statusParts.count >= 2, let code = Int(statusParts[1]) else { throw LiveClientError(description: "bad status line: \(lines[0])") }
        var headers = HTTPFields()
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":"), let name = HTTPField.Name(String(line[..<colon])) else { continue }
            headers.append(HTTPField(name: name, value: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        var body = Array(data[(end + 4)...])
        if headers[.transferEncoding]?.lowercased().contains("chunked") == true {
            body = try dechunk(body)
        } else if let length = headers[.contentLength].flatMap(Int.init), length <= body.count {
            body = Array(body[..<length])
        }
        return TestResponse(status: HTTPResponse.Status(code: code), headers: headers, body: body)
    }

    private func dechunk(_ data: [UInt8]) throws -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < data.count {
            guard let lineEnd = data[i...].indices.first(where: { data[$0] == 13 && $0 + 1 < data.count && data[$0 + 1] == 10 }) else { break }
            let sizeText = String(decoding: data[i..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else {
                throw LiveClientError(description: "bad chunk size")
            }
            if size == 0 { break }
            let start = lineEnd + 2
            guard start + size <= data.count else { throw LiveClientError(description: "truncated chunk") }
            out += data[start..<(start + size)]
            i = start + size + 2
        }
        return out
    }
}
