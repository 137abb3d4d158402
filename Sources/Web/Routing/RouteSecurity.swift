/// What a route asks of its caller, as the OpenAPI document states it.
public enum Security: String, Sendable {
    /// No credentials needed (named so `.anonymous` never collides with Optional's `.none`).
    case anonymous, bearer, optionalBearer
}

/// A route's security, declared once where the route is registered (FastAPI's `Depends(get_current_user)`).
/// The same value documents the route (`security`) and enforces it: the router calls `authenticate` before
/// the body or query is read, so 401 and 403 come before 422, and hands its result to the handler. A
/// handler of a protected route therefore cannot forget the check: it has no way to run without a caller.
public protocol RouteSecurity<Context> {
    associatedtype Context: RequestContext
    /// What the handler receives: the caller, or an optional caller for optional credentials.
    associatedtype Caller
    var security: Security { get }
    /// The OAuth2 scopes the route needs (all of them), for the OpenAPI document; `authenticate` enforces them.
    var scopes: [String] { get }
    /// Throws the route's 401 or 403.
    func authenticate(_ request: Request, _ context: Context) throws -> Caller
}

extension RouteSecurity {
    public var scopes: [String] { [] }
}
