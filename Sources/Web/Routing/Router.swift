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
    /// Bit `length % 64` is set for the length of every key of `literalPaths`: most other paths skip hashing
    /// for a lookup that would miss.
    private var literalLengths: UInt64 = 0
    private(set) var routes: [Route<Context>] = []

    public init() {}

    public var router: Router<Context> { self }
    public var prefix: PathPattern { PathPattern("") }
    public var middleware: [any RouterMiddleware<Context>] { [] }
    public var defaults: RouteDoc { RouteDoc() }

    func add(_ route: Route<Context>) {
        let node = root.insert(route.pattern, method: route.method, value: route)
        if route.pattern.parameters.isEmpty {
            literalPaths[route.pattern.template] = node
            literalLengths |= 1 << UInt64(route.pattern.template.utf8.count % 64)
        }
        routes.append(route)
    }

    enum Match {
        case found(Route<Context>, Parameters)
        case methodNotAllowed([HTTPRequest.Method])
        case notFound
    }

    func match(_ request: Request) -> Match {
        let path = request.path
        if literalLengths & (1 << UInt64(path.utf8.count % 64)) != 0, let node = literalPaths[path], !path.utf8.contains(UInt8(ascii: "%")) {
            return match(request.method, at: node, captured: [])
        }
        var segments = PathPattern.split(path)
        // Segments are compared decoded; most paths have nothing to decode and keep their views into `path`.
        if path.utf8.contains(UInt8(ascii: "%")) { segments = segments.map { Substring(FormURLEncoding.decode($0, plusIsSpace: false)) } }
        var captured: [Substring] = []
        captured.reserveCapacity(segments.count)
        guard let node = root.find(segments[...], &captured) else { return .notFound }
        return match(request.method, at: node, captured: captured)
    }

    private func match(_ method: HTTPRequest.Method, at node: TrieNode<Route<Context>>, captured: [Substring]) -> Match {
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
        return .found(route, Parameters(zip(names, captured).map { ($0, String($1)) }))
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
