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
        json(body: value.encoded(), status: status, headers: headers)
    }

    /// A JSON body from a value with a schema (the same schema the OpenAPI document shows).
    public static func json<T: SchemaEncodable>(_ value: T, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var body: [UInt8] = []
        body.reserveCapacity(1024)  // one allocation for most objects, instead of growing (and copying) several times
        T.schema.write(value, into: &body)
        return json(body: body, status: status, headers: headers)
    }

    /// A JSON array of values with a schema.
    public static func json<T: SchemaEncodable>(_ values: [T], status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var body: [UInt8] = [UInt8(ascii: "[")]
        for (index, value) in values.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            T.schema.write(value, into: &body)
        }
        body.append(UInt8(ascii: "]"))
        return json(body: body, status: status, headers: headers)
    }

    private static func json(body: [UInt8], status: HTTPResponse.Status, headers: HTTPFields) -> Response {
        var fields = headers
        // Room for the fields added on the way out (ETag, the rate limit's two, nosniff, Cache-Control, the
        // request id), so that the list is allocated once instead of grown three or four times.
        fields.reserveCapacity(headers.count + 7)
        fields.set(.jsonContentType)
        return Response(status: status, headerFields: fields, body: body)
    }

    public static var noContent: Response { Response(status: .noContent) }

    public static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headerFields: [.contentType: "text/html; charset=utf-8"], body: Array(text.utf8))
    }

    public static func text(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headerFields: [.contentType: "text/plain; charset=utf-8"], body: Array(text.utf8))
    }
}
