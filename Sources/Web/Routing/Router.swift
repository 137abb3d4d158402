import HTTPTypes

/// A registered route.
struct Route<Context> {
    let method: HTTPRequest.Method
    let pattern: PathPattern
    let doc: RouteDoc
    let info: RouteInfo
    let bodyMediaType: BodyMediaType?
    let bodySchema: ((SchemaRegistry) -> JSONValue)?
    let queryParameters: ((SchemaRegistry) -> [JSONValue])?
    let responder: Responder<Context>
}

/// Method + path routing over a trie, with 404 and 405 (+ `Allow`) answers in FastAPI's shape.
public final class Router<Context: RequestContext>: RouteBuilder {
    private let root = TrieNode<Route<Context>>()
    private(set) var routes: [Route<Context>] = []

    public init() {}

    public var router: Router<Context> { self }
    public var prefix: PathPattern { PathPattern("") }
    public var middleware: [any RouterMiddleware<Context>] { [] }
    public var defaults: RouteDoc { RouteDoc() }

    func add(_ route: Route<Context>) {
        root.insert(route.pattern, method: route.method, value: route)
        routes.append(route)
    }

    enum Match {
        case found(Route<Context>, Parameters)
        case methodNotAllowed([HTTPRequest.Method])
        case notFound
    }

    func match(_ request: Request) -> Match {
        let segments = PathPattern.split(request.path).map { FormURLEncoding.decode(Substring($0), plusIsSpace: false) }
        var captured: [String] = []
        guard let node = root.find(segments[...], &captured) else { return .notFound }
        let method = request.method
        let route = node.routes.first(where: { $0.0 == method })?.1
            ?? (method == .head ? node.routes.first(where: { $0.0 == .get })?.1 : nil)
        guard let route else {
            var allow: [HTTPRequest.Method] = []
            for (m, _) in node.routes {
                allow.append(m)
                if m == .get, !node.routes.contains(where: { $0.0 == .head }) { allow.append(.head) }
            }
            return .methodNotAllowed(allow)
        }
        let names = route.pattern.parameters.map(\.name)
        return .found(route, Parameters(Array(zip(names, captured))))
    }

    /// Whether the route a request would reach is flagged sensitive.
    func isSensitive(_ request: Request) -> Bool {
        if case .found(let route, _) = match(request) { return route.info.sensitive }
        return false
    }

    /// Dispatches to the matched route's middleware and handler.
    public func respond(_ request: Request, context: Context) throws -> Response {
        switch match(request) {
        case .notFound:
            throw HTTPError.notFound
        case .methodNotAllowed(let allow):
            throw HTTPError(.methodNotAllowed, detail: "Method Not Allowed",
                            headers: [.allow: allow.map(\.rawValue).joined(separator: ", ")])
        case .found(let route, let parameters):
            var req = request
            req.parameters = parameters
            req.route = route.info
            var response = try route.responder(req, context)
            if request.method == .head { response.body = [] }
            return response
        }
    }
}

/// A group of routes under a path prefix sharing middleware and documentation defaults.
public struct RouteGroup<Context: RequestContext>: RouteBuilder {
    public let router: Router<Context>
    public let prefix: PathPattern
    public let middleware: [any RouterMiddleware<Context>]
    public let defaults: RouteDoc
}
