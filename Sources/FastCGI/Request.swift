import Glibc

/// One request as the web server handed it over: CGI parameters and the body read up to the limit.
public struct FastCGIRequest {
    /// CGI/FastCGI parameters: REQUEST_METHOD, REQUEST_URI, QUERY_STRING, HTTP_*, CONTENT_TYPE, REMOTE_ADDR...
    public var params: CGIParams
    public var body: [UInt8]
    /// The declared or sent body exceeded the pool's limit; `body` is empty and the handler should answer 413.
    public var bodyTooLarge: Bool
    /// Tells the pool which request id the handler settled on, so that the master's logs can name it.
    public var reportRequestID: (String) -> Void
    /// How long the request waited between the web server and a worker, from the web server's clock in
    /// `X-Request-Start`; nil when it sent none.
    public var queueMicros: Int64?

    public init(
        params: CGIParams, body: [UInt8] = [], bodyTooLarge: Bool = false, queueMicros: Int64? = nil,
        reportRequestID: @escaping (String) -> Void = { _ in }
    ) {
        self.params = params
        self.body = body
        self.bodyTooLarge = bodyTooLarge
        self.queueMicros = queueMicros
        self.reportRequestID = reportRequestID
    }
}

/// The `X-Request-Start` convention APM tools read: the web server's clock when it received the request, as
/// `t=` and seconds (nginx's `${msec}`: `t=1733400000.123`), milliseconds or microseconds (Apache's `%t`).
public enum RequestStart {
    /// The time since `value`'s instant in microseconds (0 if the clocks disagree the other way), or nil
    /// when `value` is absent or not the convention.
    public static func queueMicros(_ value: String?, nowMicros: Int64 = wallClockMicros()) -> Int64? {
        guard var text = value?.utf8[...] else { return nil }
        if text.starts(with: "t=".utf8) { text = text.dropFirst(2) }
        guard let number = Double(Substring(text)), number.isFinite, number > 0 else { return nil }
        let micros: Double = number > 1e14 ? number : number > 1e11 ? number * 1e3 : number * 1e6
        return max(0, nowMicros - Int64(micros))
    }

    public static func wallClockMicros() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
    }
}

/// What goes back to the web server: a CGI `Status:` line, headers and a body.
public struct FastCGIResponse {
    public var status: Int
    public var reason: String
    public var body: [UInt8]
    /// For the metrics: the index of the route that answered in `PoolConfiguration.metricRoutes` (nil: none
    /// matched), and the outcome when the request was a login that failed or was throttled.
    public var route: Int?
    public var login: LoginOutcome?
    /// The header lines as they go out (`Name: value` and CRLF each) in the first `linesCount` bytes: written
    /// in place by `addHeader`, with no list of String pairs to make, keep and walk again. An Array's
    /// append checks its capacity and uniqueness at each call, which cost more than the copying.
    private var lines: [UInt8]
    private var linesCount = 0

    public init(status: Int, reason: String, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.reason = reason
        self.body = body
        lines = [UInt8](repeating: 0, count: 512)  // an API answer's headers fit; grown when they do not
        for (name, value) in headers { addHeader(name: name, value: value) }
    }

    /// Adds the header `name: value`, unless either holds a CR or LF (header injection): then it is left out
    /// and the answer is false.
    @discardableResult
    public mutating func addHeader(name: String, value: String) -> Bool {
        var name = name
        var value = value
        return name.withUTF8 { name in
            value.withUTF8 { value in
                guard Self.isOneLine(name), Self.isOneLine(value) else { return false }
                let count = name.count + value.count + 4
                if lines.count - linesCount < count { lines += repeatElement(0, count: max(count, lines.count)) }
                lines.withUnsafeMutableBufferPointer { buffer in
                    let line = UnsafeMutableBufferPointer(rebasing: buffer[linesCount..<(linesCount + count)])
                    _ = UnsafeMutableBufferPointer(rebasing: line[..<name.count]).initialize(fromContentsOf: name)
                    line[name.count] = UInt8(ascii: ":")
                    line[name.count + 1] = UInt8(ascii: " ")
                    _ = UnsafeMutableBufferPointer(rebasing: line[(name.count + 2)..<(count - 2)]).initialize(fromContentsOf: value)
                    line[count - 2] = 13
                    line[count - 1] = 10
                }
                linesCount += count
                return true
            }
        }
    }

    /// The CGI response head: `Status:` then the header lines and the empty line that ends them.
    public var head: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(reason.utf8.count + linesCount + 16)
        bytes += "Status: ".utf8
        bytes += String(status).utf8
        bytes.append(UInt8(ascii: " "))
        bytes += reason.utf8
        bytes.append(13)
        bytes.append(10)
        bytes += lines[..<linesCount]
        bytes.append(13)
        bytes.append(10)
        return bytes
    }

    /// No CR and no LF: memchr compares many bytes at once, and this runs for every header of every response.
    private static func isOneLine(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        return memchr(base, 10, bytes.count) == nil && memchr(base, 13, bytes.count) == nil
    }
}

/// The app behind the pool. Built once per worker process, after fork, so each worker owns its state
/// (its database connection above all).
public protocol FastCGIHandler: AnyObject {
    func respond(to request: FastCGIRequest) -> FastCGIResponse
}
