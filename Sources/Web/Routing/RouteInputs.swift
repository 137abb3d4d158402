/// The body a route takes, for the 415 check and the document.
public enum BodyMediaType: String, Sendable {
    case json = "application/json"
    case form = "application/x-www-form-urlencoded"
}

/// The decoded inputs of a route beyond its path: a JSON or form body, query parameters, or both.
/// Each comes from one schema, which also documents it.
public struct RouteInputs<Value> {
    let bodyMediaType: BodyMediaType?
    let bodySchema: ((SchemaRegistry) -> JSONValue)?
    let queryParameters: ((SchemaRegistry) -> [JSONValue])?
    let decode: (Request, inout [ValidationIssue]) throws -> Value?
}

extension RouteInputs where Value: SchemaDecodable {
    /// A JSON body (`application/json`; a body without a Content-Type is read as JSON too, as FastAPI does).
    public static func json(_ type: Value.Type) -> RouteInputs<Value> {
        RouteInputs(
            bodyMediaType: .json, bodySchema: { $0.reference(Value.self) }, queryParameters: nil,
            decode: { req, issues in try decodeJSONBody(Value.self, req, &issues) })
    }

    /// An `application/x-www-form-urlencoded` body (the OAuth2 password login).
    public static func form(_ type: Value.Type) -> RouteInputs<Value> {
        RouteInputs(
            bodyMediaType: .form, bodySchema: { $0.reference(Value.self) }, queryParameters: nil,
            decode: { req, issues in try Value.schema.validate(text: req.form(), loc: ["body"], issues: &issues) })
    }

    /// Query parameters, validated at ["query", name].
    public static func query(_ type: Value.Type) -> RouteInputs<Value> {
        RouteInputs(
            bodyMediaType: nil, bodySchema: nil, queryParameters: { queryParameterDocs(Value.self, $0) },
            decode: { req, issues in try Value.schema.validate(text: req.queryItems, loc: ["query"], issues: &issues) })
    }
}

extension RouteInputs {
    /// A JSON body and query parameters; every problem of both is reported together.
    public static func json<B: SchemaDecodable, Q: SchemaDecodable>(_ body: B.Type, query: Q.Type) -> RouteInputs<(B, Q)> where Value == (B, Q) {
        RouteInputs<(B, Q)>(
            bodyMediaType: .json, bodySchema: { $0.reference(B.self) }, queryParameters: { queryParameterDocs(Q.self, $0) },
            decode: { req, issues in
                let q = try Q.schema.validate(text: req.queryItems, loc: ["query"], issues: &issues)
                let b = try decodeJSONBody(B.self, req, &issues)
                guard let b, let q else { return nil }
                return (b, q)
            })
    }
}

private func decodeJSONBody<B: SchemaDecodable>(_ type: B.Type, _ req: Request, _ issues: inout [ValidationIssue]) throws -> B? {
    if req.body.isEmpty {
        issues.append(ValidationIssue(type: "missing", loc: ["body"], msg: "Field required", input: .null))
        return nil
    }
    let json: JSONValue
    do {
        json = try req.json()
    } catch let e as ValidationError {
        issues += e.issues
        return nil
    }
    return try B.schema.validate(json: json, loc: ["body"], issues: &issues)
}

private func queryParameterDocs<Q: SchemaDecodable>(_ type: Q.Type, _ registry: SchemaRegistry) -> [JSONValue] {
    Q.schema.fields.map { field in
        var p: JSONValue = ["name": .string(field.name), "in": "query", "required": .bool(field.required), "schema": field.propertySchema(registry)]
        if let d = field.description { p.set("description", .string(d)) }
        return p
    }
}
