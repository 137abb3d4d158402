import HTTPTypes
import Web

/// One answer as a test sees it, in-process or through a live server.
public struct TestResponse: Sendable {
    public var status: HTTPResponse.Status
    public var headers: HTTPFields
    public var body: [UInt8]

    public init(status: HTTPResponse.Status, headers: HTTPFields, body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public var text: String { String(decoding: body, as: UTF8.self) }
    public func json() throws -> JSONValue { try JSONValue.parse(body) }
}

/// The same API for the in-process client and the live HTTP client (as Hummingbird's testing module does).
public protocol TestClient {
    func execute(_ method: HTTPRequest.Method, _ path: String, headers: HTTPFields, body: [UInt8]) throws -> TestResponse
}

extension TestClient {
    public func execute(_ method: HTTPRequest.Method, _ path: String, headers: HTTPFields = [:]) throws -> TestResponse {
        try execute(method, path, headers: headers, body: [])
    }

    public func get(_ path: String, headers: HTTPFields = [:]) throws -> TestResponse {
        try execute(.get, path, headers: headers, body: [])
    }

    public func delete(_ path: String, headers: HTTPFields = [:]) throws -> TestResponse {
        try execute(.delete, path, headers: headers, body: [])
    }

    /// A JSON body with `Content-Type: application/json`.
    public func execute(_ method: HTTPRequest.Method, _ path: String, json: JSONValue, headers: HTTPFields = [:]) throws -> TestResponse {
        var h = headers
        if h[.contentType] == nil { h[.contentType] = "application/json" }
        return try execute(method, path, headers: h, body: json.encoded())
    }

    /// Raw text as the body with the given content type (for malformed JSON and the like).
    public func execute(_ method: HTTPRequest.Method, _ path: String, raw: String, contentType: String?, headers: HTTPFields = [:]) throws -> TestResponse {
        var h = headers
        if let contentType { h[.contentType] = contentType }
        return try execute(method, path, headers: h, body: Array(raw.utf8))
    }

    /// An `application/x-www-form-urlencoded` body.
    public func execute(_ method: HTTPRequest.Method, _ path: String, form: [(String, String)], headers: HTTPFields = [:]) throws -> TestResponse {
        var h = headers
        h[.contentType] = "application/x-www-form-urlencoded"
        let body = form.map { FormURLEncoding.encode($0.0) + "=" + FormURLEncoding.encode($0.1) }.joined(separator: "&")
        return try execute(method, path, headers: h, body: Array(body.utf8))
    }
}
