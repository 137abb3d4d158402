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
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// For the metrics: the index of the route that answered in `PoolConfiguration.metricRoutes` (nil: none
    /// matched), and the outcome when the request was a login that failed or was throttled.
    public var route: Int?
    public var login: LoginOutcome?

    public init(status: Int, reason: String, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
    }

    /// The CGI response head: `Status:` then the headers, CRLF-terminated (header injection is refused).
    public var head: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(headers.reduce(reason.utf8.count + 16) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 })
        Self.append("Status: ", to: &bytes)
        Self.append(String(status), to: &bytes)
        bytes.append(32)
        Self.append(reason, to: &bytes)
        Self.endLine(&bytes)
        for (name, value) in headers {
            let start = bytes.count
            if Self.appendLine(name, to: &bytes) {
                bytes.append(58)
                bytes.append(32)
                if Self.appendLine(value, to: &bytes) {
                    Self.endLine(&bytes)
                    continue
                }
            }
            bytes.removeSubrange(start...)  // a CR or LF (header injection): the header is left out
        }
        Self.endLine(&bytes)
        return bytes
    }

    private static func endLine(_ bytes: inout [UInt8]) {
        bytes.append(13)
        bytes.append(10)
    }

    /// Contiguous copies: this runs for every header of every response.
    private static func append(_ text: String, to bytes: inout [UInt8]) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    /// Appends `text` unless it holds a CR or LF (false then); one pass over contiguous bytes, as this runs
    /// for every header name and value of every response.
    private static func appendLine(_ text: String, to bytes: inout [UInt8]) -> Bool {
        var text = text
        return text.withUTF8 { utf8 in
            for byte in utf8 where byte == 10 || byte == 13 { return false }
            bytes.append(contentsOf: utf8)
            return true
        }
    }
}

/// The app behind the pool. Built once per worker process, after fork, so each worker owns its state
/// (its database connection above all).
public protocol FastCGIHandler: AnyObject {
    func respond(to request: FastCGIRequest) -> FastCGIResponse
}
