/// One request as the web server handed it over: CGI parameters and the body read up to the limit.
public struct FastCGIRequest {
    /// CGI/FastCGI parameters: REQUEST_METHOD, REQUEST_URI, QUERY_STRING, HTTP_*, CONTENT_TYPE, REMOTE_ADDR...
    public var params: CGIParams
    public var body: [UInt8]
    /// The declared or sent body exceeded the pool's limit; `body` is empty and the handler should answer 413.
    public var bodyTooLarge: Bool
    /// Tells the pool which request id the handler settled on, so that the master's logs can name it.
    public var reportRequestID: (String) -> Void

    public init(params: CGIParams, body: [UInt8] = [], bodyTooLarge: Bool = false,
                reportRequestID: @escaping (String) -> Void = { _ in }) {
        self.params = params
        self.body = body
        self.bodyTooLarge = bodyTooLarge
        self.reportRequestID = reportRequestID
    }
}

/// What goes back to the web server: a CGI `Status:` line, headers and a body.
public struct FastCGIResponse {
    public var status: Int
    public var reason: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

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
