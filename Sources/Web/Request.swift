import HTTPTypes

/// One HTTP request as the handlers see it: the head (method, path with query, header fields), the body,
/// the peer address, and the path parameters the router matched.
public struct Request: Sendable {
    public var head: HTTPRequest
    public var body: [UInt8]
    public var remoteAddress: String
    /// Filled by the router from the matched route's `{name}` segments (percent-decoded).
    public var parameters: Parameters = Parameters()
    /// The route the router matched (for middleware that reads its declared security).
    public var route: RouteInfo?
    /// How long the request waited for a worker before the app saw it (the server's `X-Request-Start`, read by
    /// the pool); nil when unknown. QueueLimitMiddleware and the access line use it.
    public var queueMicros: Int64?

    public init(head: HTTPRequest, body: [UInt8] = [], remoteAddress: String = "") {
        self.head = head
        self.body = body
        self.remoteAddress = remoteAddress
    }

    /// `uri` is the request target as sent (path and query, e.g. CGI's REQUEST_URI).
    public init(method: HTTPRequest.Method, uri: String, headerFields: HTTPFields = [:], body: [UInt8] = [], remoteAddress: String = "") {
        self.init(
            head: HTTPRequest(method: method, scheme: nil, authority: nil, path: uri, headerFields: headerFields),
            body: body, remoteAddress: remoteAddress)
    }

    public var method: HTTPRequest.Method { head.method }
    /// The first field named `name`. HTTPFields' subscript joins every field of the name into a new String,
    /// which copied a bearer token on each of the three reads a request made.
    public func firstValue(of name: HTTPField.Name) -> String? {
        let fields = head.headerFields
        return fields.index(of: name, from: fields.startIndex).map { fields[$0].value }
    }
    public var headerFields: HTTPFields { head.headerFields }
    /// Path and query as sent.
    public var uri: String { head.path ?? "/" }

    /// The path without the query, still percent-encoded (the router decodes segment by segment).
    public var path: String {
        var u = uri
        // On contiguous bytes: this runs several times a request, and the UTF-8 view's firstIndex cost about 500
        // instructions a call.
        guard let query = u.withUTF8({ $0.firstIndex(of: UInt8(ascii: "?")) }) else { return u }
        return String(u.utf8.prefix(query))!
    }

    /// The raw query string (after `?`), empty when there is none.
    public var queryString: Substring {
        let u = uri
        guard let q = u.utf8.firstIndex(of: UInt8(ascii: "?")) else { return "" }
        return Substring(u.utf8[u.utf8.index(after: q)...])
    }

    /// Decoded query parameters in order.
    public var queryItems: [(String, String)] { FormURLEncoding.parse(queryString) }

    /// The last value of a query parameter.
    public func query(_ name: String) -> String? { queryItems.last(where: { $0.0 == name })?.1 }

    /// The media type of the body, lower-cased, without parameters (e.g. "application/json").
    /// The media type without parameters, trimmed and in lower case: `Application/JSON; charset=utf-8` gives
    /// `application/json`. On bytes: media types are ASCII, and Character-wise trimming and lowercasing cost
    /// a JSON POST about 5% of its CPU.
    public var contentType: String? {
        guard let raw = head.headerFields.value(of: .contentType) else { return nil }
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        var type = Array(raw.utf8.prefix { $0 != UInt8(ascii: ";") }.drop(while: isBlank))
        while let last = type.last, isBlank(last) { type.removeLast() }
        for index in type.indices where (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(type[index]) { type[index] += 32 }
        return String(decoding: type, as: UTF8.self)
    }

    public var isJSON: Bool { contentType.map(Self.isJSON) ?? false }

    public var isForm: Bool { contentType.map(Self.isForm) ?? false }

    /// `application/json` or any `application/...+json`, for a `contentType` value.
    static func isJSON(_ type: String) -> Bool {
        type == "application/json" || (type.hasPrefix("application/") && type.hasSuffix("+json"))
    }

    static func isForm(_ type: String) -> Bool { type == "application/x-www-form-urlencoded" }

    /// The body as JSON; malformed JSON throws a 422 `json_invalid` like FastAPI's.
    public func json() throws -> JSONValue {
        do {
            return try JSONValue.parse(body)
        } catch let e as JSONParseError {
            throw ValidationError(
                type: "json_invalid", loc: ["body", .index(e.offset)], msg: "JSON decode error",
                input: [:], ctx: ["error": .string(e.message)])
        }
    }

    /// The body as form fields.
    public func form() -> [(String, String)] { FormURLEncoding.parse(body) }

    /// The bearer token of the Authorization header, if it has that scheme.
    public var bearerToken: String? {
        guard let auth = firstValue(of: .authorization) else { return nil }
        let parts = auth.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingSpaces()
        return token.isEmpty ? nil : token
    }
}

extension StringProtocol {
    /// Without the leading and trailing characters that match (FoundationEssentials has no trimmingCharacters).
    public func trimming(while matches: (Character) -> Bool) -> String {
        guard let first = firstIndex(where: { !matches($0) }), let last = lastIndex(where: { !matches($0) }) else { return "" }
        return String(self[first...last])
    }

    func trimmingSpaces() -> String { trimming { $0 == " " || $0 == "\t" } }
}
