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
    /// Nodes of routes without parameters by their path as sent (`/api/v1/health`): one dictionary step
    /// instead of splitting and walking the path. The trie would find the same node: literals come first.
    private var literalPaths: [String: TrieNode<Route<Context>>] = [:]
    private(set) var routes: [Route<Context>] = []

    public init() {}

    public var router: Router<Context> { self }
    public var prefix: PathPattern { PathPattern("") }
    public var middleware: [any RouterMiddleware<Context>] { [] }
    public var defaults: RouteDoc { RouteDoc() }

    func add(_ route: Route<Context>) {
        let node = root.insert(route.pattern, method: route.method, value: route)
        if route.pattern.parameters.isEmpty { literalPaths[route.pattern.template] = node }
        routes.append(route)
    }

    enum Match {
        case found(Route<Context>, Parameters)
        case methodNotAllowed([HTTPRequest.Method])
        case notFound
    }

    func match(_ request: Request) -> Match {
        let path = request.path
        var captured: [String] = []
        let found: TrieNode<Route<Context>>?
        if let literal = literalPaths[path], !path.utf8.contains(UInt8(ascii: "%")) {
            found = literal
        } else {
            let segments = PathPattern.split(path).map { FormURLEncoding.decode($0, plusIsSpace: false) }
            found = root.find(segments[...], &captured)
        }
        guard let node = found else { return .notFound }
        let method = request.method
        let route = node.value(for: method) ?? (method == .head ? node.value(for: .get) : nil)
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

    /// Every route, in registration order (`RouteInfo.index`).
    public var routeInfos: [RouteInfo] { routes.map(\.info) }

    /// The route a request reaches, or nil (404, 405); for an answer whose route an error left unnamed.
    public func route(for request: Request) -> RouteInfo? {
        if case .found(let route, _) = match(request) { return route.info }
        return nil
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
            throw HTTPError(
                .methodNotAllowed, detail: "Method Not Allowed",
                headers: [.allow: allow.map(\.rawValue).joined(separator: ", ")])
        case .found(let route, let parameters):
            var req = request
            req.parameters = parameters
            req.route = route.info
            var response = try route.responder(req, context)
            if request.method == .head { response.body = [] }
            response.route = route.info
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
