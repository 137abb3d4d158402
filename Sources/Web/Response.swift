import HTTPTypes

/// What a handler answers: a status, header fields and body bytes.
public struct Response: Sendable {
    public var status: HTTPResponse.Status
    public var headerFields: HTTPFields
    public var body: [UInt8]
    /// The route the router dispatched to, so that middleware outside it need not match the path again.
    public internal(set) var route: RouteInfo?

    public init(status: HTTPResponse.Status = .ok, headerFields: HTTPFields = [:], body: [UInt8] = []) {
        self.status = status
        self.headerFields = headerFields
        self.body = body
    }

    public static let jsonContentType = "application/json; charset=utf-8"

    /// A JSON body from a JSON value.
    public static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = jsonContentType
        return Response(status: status, headerFields: fields, body: value.encoded())
    }

    /// A JSON body from a value with a schema (the same schema the OpenAPI document shows).
    public static func json<T: SchemaEncodable>(_ value: T, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        json(T.schema.encode(value), status: status, headers: headers)
    }

    /// A JSON array of values with a schema.
    public static func json<T: SchemaEncodable>(_ values: [T], status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        json(.array(values.map(T.schema.encode)), status: status, headers: headers)
    }

    public static var noContent: Response { Response(status: .noContent) }

    public static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headerFields: [.contentType: "text/html; charset=utf-8"], body: Array(text.utf8))
    }

    public static func text(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headerFields: [.contentType: "text/plain; charset=utf-8"], body: Array(text.utf8))
    }
}
