import HTTPTypes

/// Route registration, shared by the router and its groups. A route names its security (when it has one),
/// its inputs, its documentation and its handler:
///
///     let users = router.group("/api/v1/users", tags: ["users"])
///     users.post("", .json(UserCreate.self), RouteDoc(summary: "Sign up"), use: signUp)
///     users.get("/me", .bearer, RouteDoc(summary: "The caller's account"), use: me)   // me(request, context, caller)
public protocol RouteBuilder {
    associatedtype Context: RequestContext
    var router: Router<Context> { get }
    var prefix: PathPattern { get }
    var middleware: [any RouterMiddleware<Context>] { get }
    var defaults: RouteDoc { get }
}

extension RouteBuilder {
    /// A nested group: the prefix is appended, middleware runs after this group's, tags and flags merge.
    public func group(
        _ path: String, tags: [String] = [], sensitive: Bool = false,
        responses: [ResponseDoc] = [], middleware: [any RouterMiddleware<Context>] = []
    ) -> RouteGroup<Context> {
        var d = defaults
        d.tags += tags
        d.sensitive = d.sensitive || sensitive
        d.responses += responses
        return RouteGroup(router: router, prefix: prefix.appending(PathPattern(path)), middleware: self.middleware + middleware, defaults: d)
    }

    /// Registers a route: its security runs first (401/403), then the body's media type is checked (415),
    /// then path parameters, query and body are validated with every problem reported in one 422, and only
    /// then does the handler run, with the caller and the decoded inputs.
    public func on<S: RouteSecurity, Input>(
        _ method: HTTPRequest.Method, _ path: String, _ security: S, _ inputs: RouteInputs<Input>,
        _ doc: RouteDoc = RouteDoc(),
        use handler: @escaping (Request, Context, S.Caller, Input) throws -> Response
    ) where S.Context == Context {
        add(method, path, security.security, security.scopes, security.authenticate, inputs, doc, handler)
    }

    /// Registers a route that anyone may call.
    public func on<Input>(
        _ method: HTTPRequest.Method, _ path: String, _ inputs: RouteInputs<Input>, _ doc: RouteDoc = RouteDoc(),
        use handler: @escaping (Request, Context, Input) throws -> Response
    ) {
        add(method, path, .anonymous, [], { _, _ in () }, inputs, doc) { request, context, _, input in try handler(request, context, input) }
    }

    private func add<Caller, Input>(
        _ method: HTTPRequest.Method, _ path: String, _ security: Security, _ scopes: [String],
        _ authenticate: @escaping (Request, Context) throws -> Caller, _ inputs: RouteInputs<Input>,
        _ doc: RouteDoc, _ handler: @escaping (Request, Context, Caller, Input) throws -> Response
    ) {
        let pattern = prefix.appending(PathPattern(path))
        var d = doc
        d.tags = defaults.tags + doc.tags.filter { !defaults.tags.contains($0) }
        d.sensitive = doc.sensitive || defaults.sensitive
        d.responses = doc.responses + defaults.responses.filter { r in !doc.responses.contains { $0.status == r.status } }
        let operationID = doc.operationID ?? defaultOperationID(method, pattern)
        let info = RouteInfo(
            method: method, template: pattern.template, security: security, scopes: scopes, sensitive: d.sensitive,
            operationID: operationID, index: router.routes.count)
        let mediaType = inputs.bodyMediaType
        let endpoint: Responder<Context> = { request, context in
            let caller = try authenticate(request, context)
            try checkContentType(request, accepts: mediaType)
            var issues: [ValidationIssue] = []
            pattern.validate(request.parameters, issues: &issues)
            let value = try inputs.decode(request, &issues)
            guard issues.isEmpty, let value else { throw ValidationError(issues) }
            return try handler(request, context, caller, value)
        }
        router.add(
            Route(
                method: method, pattern: pattern, doc: d, info: info, bodyMediaType: mediaType, bodySchema: inputs.bodySchema,
                queryParameters: inputs.queryParameters, responder: chain(middleware, endpoint)))
    }
}

/// No body or query inputs.
private let noInputs = RouteInputs<Void>(bodyMediaType: nil, bodySchema: nil, queryParameters: nil, decode: { _, _ in () })

// The verbs, with and without security and inputs (boilerplate: each forwards to `on`).
extension RouteBuilder {
    public func on(
        _ method: HTTPRequest.Method, _ path: String, _ doc: RouteDoc = RouteDoc(),
        use handler: @escaping (Request, Context) throws -> Response
    ) {
        on(method, path, noInputs, doc) { r, c, _ in try handler(r, c) }
    }
    public func on<S: RouteSecurity>(
        _ method: HTTPRequest.Method, _ path: String, _ security: S, _ doc: RouteDoc = RouteDoc(),
        use handler: @escaping (Request, Context, S.Caller) throws -> Response
    ) where S.Context == Context {
        on(method, path, security, noInputs, doc) { r, c, caller, _ in try handler(r, c, caller) }
    }

    public func get(_ path: String, _ doc: RouteDoc = RouteDoc(), use handler: @escaping (Request, Context) throws -> Response) {
        on(.get, path, doc, use: handler)
    }
    public func get<I>(_ path: String, _ inputs: RouteInputs<I>, _ doc: RouteDoc = RouteDoc(), use handler: @escaping (Request, Context, I) throws -> Response)
    {
        on(.get, path, inputs, doc, use: handler)
    }
    public func get<S: RouteSecurity>(
        _ path: String, _ security: S, _ doc: RouteDoc = RouteDoc(),
        use handler: @escaping (Request, Context, S.Caller) throws -> Response
    ) where S.Context == Context {
        on(.get, path, security, doc, use: handler)
    }
    public func get<S: RouteSecurity, I>(
        _ path: String, _ security: S, _ inputs: RouteInputs<I>, _ doc: RouteDoc = RouteDoc(),
        use handler: @escaping (Request, Context, S.Caller, I) throws -> Response
    ) where S.Context == Context {
        on(.get, path, security, inputs, doc, use: handler)
    }

    public func post(_ path: String, _ doc: RouteDoc = RouteDoc(), use handler: @escaping (Request, Context) throws -> Response) {
        on(.post, path, doc, use: handler)
    }
    public func post<I>(_ path: String, _ inputs: RouteInputs<I>, _ doc: RouteDoc = RouteDoc(), use handler: @escaping (Request, Context, I) throws -> Response)
    {
        on(.post, path, inputs, doc, use: handler)
    }
    public func post<S: RouteSecurity>(
        _ path: String, _ security: S, _ doc: RouteDoc = RouteDoc(),
        use handler: @escaping (Request, Context, S.Caller) throws -> Response
    ) where S.Context == Context {
        on(.post, path, security, doc, use: handler)
    }
    public func post<S: RouteSecurity, I>(
        _ path: String, _ security: S, _ inputs: RouteInputs<I>, _ doc: RouteDoc = RouteDoc(),
        use handler: @escaping (Request, Context, S.Caller, I) throws -> Response
    ) where S.Context == Context {
        on(.post, path, security, inputs, doc, use: handler)
    }

    public func put(_ path: String, _ doc: RouteDoc = RouteDoc(), use handler: @escaping (Request, Context) throws -> Response) {
        on(.put, path, doc, use: handler)
    }
    public func put<I>(_ path: String, _ inputs: RouteInputs<I>, _ doc: RouteDoc = RouteDoc(), use handler: @escaping (Request, Context, I) throws -> Response)
    {
        on(.put, path, inputs, doc, use: handler)
    }
    public func put<S: RouteSecurity>(
        _ path: String, _ security: S, _ doc: RouteDoc = RouteDoc(),
        use handler: @escaping (Request, Context, S.Caller) throws -> Response
    ) where S.Context == Context {
        on(.put, path, security, doc, use: handler)
    }
    public func put<S: RouteSecurity, I>(
        _ path: String, _ security: S, _ inputs: RouteInputs<I>, _ doc: RouteDoc = RouteDoc(),
        use handler: @escaping (Request, Context, S.Caller, I) throws -> Response
    ) where S.Context == Context {
        on(.put, path, security, inputs, doc, use: handler)
    }

    public func patch(_ path: String, _ doc: RouteDoc = RouteDoc(), use handler: @escaping (Request, Context) throws -> Response) {
        on(.patch, path, doc, use: handler)
    }
    public func patch<I>(
        _ path: String, _ inputs: RouteInputs<I>, _ doc: RouteDoc = RouteDoc(), use handler: @escaping (Request, Context, I) throws -> Response
    ) {
        on(.patch, path, inputs, doc, use: handler)
    }
    public func patch<S: RouteSecurity>(
        _ path: String, _ security: S, _ doc: RouteDoc = RouteDoc(),
        use handler: @escaping (Request, Context, S.Caller) throws -> Response
    ) where S.Context == Context {
        on(.patch, path, security, doc, use: handler)
    }
    public func patch<S: RouteSecurity, I>(
        _ path: String, _ security: S, _ inputs: RouteInputs<I>, _ doc: RouteDoc = RouteDoc(),
        use handler: @escaping (Request, Context, S.Caller, I) throws -> Response
    ) where S.Context == Context {
        on(.patch, path, security, inputs, doc, use: handler)
    }

    public func delete(_ path: String, _ doc: RouteDoc = RouteDoc(), use handler: @escaping (Request, Context) throws -> Response) {
        on(.delete, path, doc, use: handler)
    }
    public func delete<I>(
        _ path: String, _ inputs: RouteInputs<I>, _ doc: RouteDoc = RouteDoc(), use handler: @escaping (Request, Context, I) throws -> Response
    ) {
        on(.delete, path, inputs, doc, use: handler)
    }
    public func delete<S: RouteSecurity>(
        _ path: String, _ security: S, _ doc: RouteDoc = RouteDoc(),
        use handler: @escaping (Request, Context, S.Caller) throws -> Response
    ) where S.Context == Context {
        on(.delete, path, security, doc, use: handler)
    }
    public func delete<S: RouteSecurity, I>(
        _ path: String, _ security: S, _ inputs: RouteInputs<I>, _ doc: RouteDoc = RouteDoc(),
        use handler: @escaping (Request, Context, S.Caller, I) throws -> Response
    ) where S.Context == Context {
        on(.delete, path, security, inputs, doc, use: handler)
    }
}

/// FastAPI-like: `post_api_v1_users`, `get_api_v1_posts_id`.
private func defaultOperationID(_ method: HTTPRequest.Method, _ pattern: PathPattern) -> String {
    let words = pattern.segments.map { seg -> String in
        switch seg {
        case .literal(let s): return String(s.map { $0.isLetter || $0.isNumber ? $0 : "_" })
        case .parameter(let n, _): return n
        }
    }.filter { !$0.isEmpty }
    return ([method.rawValue.lowercased()] + words).joined(separator: "_")
}

/// 415 when a body comes with a type the route does not take (a body without a Content-Type is taken as
/// the route's own type, as FastAPI reads it as JSON).
private func checkContentType(_ request: Request, accepts mediaType: BodyMediaType?) throws {
    guard !request.body.isEmpty else { return }
    guard let mediaType else { throw HTTPError.unsupportedMediaType }
    guard let type = request.contentType else { return }
    switch mediaType {
    case .json: if !Request.isJSON(type) { throw HTTPError.unsupportedMediaType }
    case .form: if !Request.isForm(type) { throw HTTPError.unsupportedMediaType }
    }
}
