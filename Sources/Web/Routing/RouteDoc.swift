import HTTPTypes

/// One documented response of a route.
public struct ResponseDoc {
    public var status: HTTPResponse.Status
    public var description: String
    let schema: ((SchemaRegistry) -> JSONValue)?
    public var headers: [(String, String)]
    public var example: JSONValue?

    /// A JSON body with a schema.
    public static func json<T: SchemaEncodable>(
        _ status: HTTPResponse.Status = .ok, _ type: T.Type, _ description: String? = nil,
        headers: [(String, String)] = [], example: JSONValue? = nil
    ) -> ResponseDoc {
        ResponseDoc(status: status, description: description ?? status.reasonPhrase, schema: { $0.reference(T.self) }, headers: headers, example: example)
    }

    /// A JSON array of a schema.
    public static func jsonArray<T: SchemaEncodable>(_ status: HTTPResponse.Status = .ok, _ type: T.Type, _ description: String? = nil) -> ResponseDoc {
        ResponseDoc(
            status: status, description: description ?? status.reasonPhrase, schema: { ["type": "array", "items": $0.reference(T.self)] }, headers: [],
            example: nil)
    }

    /// A JSON body described by a raw JSON Schema (e.g. `{"type": "object"}`).
    public static func json(_ status: HTTPResponse.Status = .ok, schema: JSONValue, _ description: String? = nil, example: JSONValue? = nil) -> ResponseDoc {
        ResponseDoc(status: status, description: description ?? status.reasonPhrase, schema: { _ in schema }, headers: [], example: example)
    }

    /// An error answer: `{"detail": "..."}` (the HTTPError component).
    public static func error(_ status: HTTPResponse.Status, _ description: String? = nil, headers: [(String, String)] = []) -> ResponseDoc {
        ResponseDoc(
            status: status, description: description ?? status.reasonPhrase, schema: { _ in ["$ref": "#/components/schemas/HTTPError"] },
            headers: headers, example: nil)
    }

    /// No body (204, 304).
    public static func empty(_ status: HTTPResponse.Status, _ description: String? = nil, headers: [(String, String)] = []) -> ResponseDoc {
        ResponseDoc(status: status, description: description ?? status.reasonPhrase, schema: nil, headers: headers, example: nil)
    }
}

/// A request header a route reads (its handler checks it; the document shows it).
public struct HeaderDoc {
    public var name: String
    public var description: String
    public var schema: JSONValue
    public var required: Bool

    public init(_ name: String, description: String, schema: JSONValue, required: Bool = false) {
        self.name = name
        self.description = description
        self.schema = schema
        self.required = required
    }
}

/// What the OpenAPI document says about a route, plus the flags middleware reads.
public struct RouteDoc {
    public var summary: String?
    public var description: String?
    public var tags: [String]
    public var operationID: String?
    public var deprecated: Bool
    /// Answers get `Cache-Control: no-store` (API.md: auth routes).
    public var sensitive: Bool
    public var responses: [ResponseDoc]
    public var parameterDescriptions: [String: String]
    public var headers: [HeaderDoc]
    public var includeInSchema: Bool

    public init(
        summary: String? = nil, description: String? = nil, tags: [String] = [], operationID: String? = nil,
        deprecated: Bool = false, sensitive: Bool = false, responses: [ResponseDoc] = [],
        parameterDescriptions: [String: String] = [:], headers: [HeaderDoc] = [], includeInSchema: Bool = true
    ) {
        self.summary = summary
        self.description = description
        self.tags = tags
        self.operationID = operationID
        self.deprecated = deprecated
        self.sensitive = sensitive
        self.responses = responses
        self.parameterDescriptions = parameterDescriptions
        self.headers = headers
        self.includeInSchema = includeInSchema
    }
}

/// The matched route as middleware and handlers see it (`Request.route`).
public struct RouteInfo: Sendable {
    public let method: HTTPRequest.Method
    public let template: String
    public let security: Security
    /// The OAuth2 scopes the route's security needs.
    public let scopes: [String]
    public let sensitive: Bool
    public let operationID: String
    /// The route's place in its router's `routeInfos` (registration order), for per-route metrics.
    public let index: Int
}
