import HTTPTypes

/// Builds the OpenAPI 3.1 document from the registered routes and their schemas (nothing hand-kept).
enum OpenAPIGenerator {
    static func document<Context>(routes: [Route<Context>], info: OpenAPIInfo) -> JSONValue {
        let registry = SchemaRegistry()
        registry.add(
            "HTTPError",
            [
                "type": "object", "title": "HTTPError",
                "properties": ["detail": ["type": "string", "title": "Detail"]], "required": ["detail"]
            ])
        var paths: [(String, JSONValue)] = []
        var usesValidation = false
        for route in routes where route.doc.includeInSchema {
            let (op, validates) = operation(route, registry)
            usesValidation = usesValidation || validates
            let key = route.pattern.template
            let method = route.method.rawValue.lowercased()
            if let i = paths.firstIndex(where: { $0.0 == key }) { paths[i].1.set(method, op) } else { paths.append((key, [method: op])) }
        }
        if usesValidation {
            registry.add(
                "ValidationError",
                [
                    "type": "object", "title": "ValidationError",
                    "properties": [
                        "loc": ["type": "array", "title": "Location", "items": ["anyOf": [["type": "string"], ["type": "integer"]]]],
                        "msg": ["type": "string", "title": "Message"],
                        "type": ["type": "string", "title": "Error Type"],
                        "input": ["title": "Input"],
                        "ctx": ["type": "object", "title": "Context"]
                    ],
                    "required": ["loc", "msg", "type"]
                ])
            registry.add(
                "HTTPValidationError",
                [
                    "type": "object", "title": "HTTPValidationError",
                    "properties": ["detail": ["type": "array", "title": "Detail", "items": ["$ref": "#/components/schemas/ValidationError"]]]
                ])
        }
        var infoJSON: JSONValue = ["title": .string(info.title), "version": .string(info.version)]
        if let d = info.description { infoJSON.set("description", .string(d)) }
        return [
            "openapi": "3.1.0",
            "info": infoJSON,
            "paths": .object(paths),
            "components": [
                "schemas": registry.components,
                "securitySchemes": [
                    "OAuth2PasswordBearer": [
                        "type": "oauth2",
                        "flows": ["password": ["scopes": .object(info.scopes.map { ($0.name, .string($0.description)) }), "tokenUrl": .string(info.tokenURL)]]
                    ],
                    "HTTPBearer": ["type": "http", "scheme": "bearer", "bearerFormat": "JWT"]
                ]
            ]
        ]
    }

    private static func operation<Context>(_ route: Route<Context>, _ registry: SchemaRegistry) -> (JSONValue, Bool) {
        let doc = route.doc
        var op: JSONValue = [:]
        if !doc.tags.isEmpty { op.set("tags", .array(doc.tags.map(JSONValue.string))) }
        op.set("summary", .string(doc.summary ?? defaultSummary(route)))
        if let d = doc.description { op.set("description", .string(d)) }
        op.set("operationId", .string(route.info.operationID))
        if doc.deprecated { op.set("deprecated", true) }

        var parameters: [JSONValue] = route.pattern.parameters.map { p in
            var param: JSONValue = [
                "name": .string(p.name), "in": "path", "required": true,
                "schema": route.pattern.schema(p.type).merging(["title": .string(SchemaField<Void>.title(p.name))])
            ]
            if let d = doc.parameterDescriptions[p.name] { param.set("description", .string(d)) }
            return param
        }
        parameters += route.queryParameters?(registry) ?? []
        parameters += doc.headers.map { h in
            ["name": .string(h.name), "in": "header", "required": .bool(h.required), "description": .string(h.description), "schema": h.schema]
        }
        if !parameters.isEmpty { op.set("parameters", .array(parameters)) }

        if let media = route.bodyMediaType, let schema = route.bodySchema?(registry) {
            op.set("requestBody", ["required": true, "content": [media.rawValue: ["schema": schema]]])
        }

        var responses: [(String, JSONValue)] = []
        func add(_ r: ResponseDoc) {
            let code = String(r.status.code)
            guard !responses.contains(where: { $0.0 == code }) else { return }
            var resp: JSONValue = ["description": .string(r.description)]
            if let schema = r.schema?(registry) {
                var media: JSONValue = ["schema": schema]
                if let ex = r.example { media.set("example", ex) }
                resp.set("content", ["application/json": media])
            }
            if !r.headers.isEmpty {
                resp.set("headers", .object(r.headers.map { ($0.0, ["description": .string($0.1), "schema": ["type": "string"]]) }))
            }
            responses.append((code, resp))
        }
        // A route that needs scopes answers 403 with RFC 6750's challenge, however its own 403 is described.
        let challenge = ("WWW-Authenticate", #"Bearer error="insufficient_scope", scope="<needed>""#)
        let scoped = !route.info.scopes.isEmpty
        for var r in doc.responses {
            if scoped, r.status == .forbidden, !r.headers.contains(where: { $0.0 == challenge.0 }) { r.headers.append(challenge) }
            add(r)
        }
        if !doc.responses.contains(where: { (200..<300).contains($0.status.code) }) {
            add(.json(.ok, schema: [:], "Successful Response"))
        }
        let validates =
            route.pattern.parameters.contains { $0.type != .string } || route.bodyMediaType != nil || route.queryParameters != nil
            || !doc.headers.isEmpty
        if validates {
            add(
                ResponseDoc(
                    status: .unprocessableContent, description: "Validation Error",
                    schema: { _ in ["$ref": "#/components/schemas/HTTPValidationError"] }, headers: [], example: nil))
        }
        if route.bodyMediaType != nil {
            add(.error(.contentTooLarge, "Request body too large"))
            add(.error(.unsupportedMediaType, "Unsupported Media Type"))
        }
        switch route.info.security {
        case .bearer:
            add(.error(.unauthorized, "Not authenticated", headers: [("WWW-Authenticate", "Bearer")]))
            let scopes = JSONValue.array(route.info.scopes.map(JSONValue.string))
            op.set("security", [["OAuth2PasswordBearer": scopes], ["HTTPBearer": []]])
            if scoped { add(.error(.forbidden, "Not enough permissions: the token lacks a scope this operation needs", headers: [challenge])) }
        case .optionalBearer:
            add(.error(.unauthorized, "Invalid token", headers: [("WWW-Authenticate", "Bearer")]))
            op.set("security", [["OAuth2PasswordBearer": []], ["HTTPBearer": []], [:]])
        case .anonymous:
            break
        }
        op.set("responses", .object(responses.sorted { $0.0 < $1.0 }))
        return (op, validates)
    }

    /// FastAPI titles an operation from its function name; we title it from method and path.
    private static func defaultSummary<Context>(_ route: Route<Context>) -> String {
        "\(route.method.rawValue) \(route.pattern.template)"
    }
}

extension JSONValue {
    func merging(_ other: JSONValue) -> JSONValue {
        var o = self
        for (k, v) in other.objectValue ?? [] { o.set(k, v) }
        return o
    }
}
