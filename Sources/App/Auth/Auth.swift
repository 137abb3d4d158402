import FoundationEssentials
import MariaDB
import Sodium
import Web

/// The authenticated caller: their user row, read with the session check, the session their access
/// token belongs to, and what the token may do now.
public struct CurrentUser {
    public let user: User
    public let sessionID: Int64
    /// The token's scope as far as the user's current roles still allow it: a role taken away is gone from
    /// the next request on, whatever the token says.
    public let permissions: Permissions

    public var id: Int64 { user.id }
    public var isSuperuser: Bool { user.isSuperuser }

    public func has(_ permission: Permission) -> Bool { permissions.contains(permission) }

    /// 403 with RFC 6750's `insufficient_scope` challenge naming the scope needed, unless the caller has it.
    public func require(_ needed: Permission...) throws {
        guard needed.allSatisfy(has) else { throw HTTPError.insufficientScope(needed) }
    }
}

extension HTTPError {
    static func insufficientScope(_ needed: [Permission]) -> HTTPError {
        let scope = needed.map(\.rawValue).joined(separator: " ")
        return HTTPError(
            .forbidden, detail: "Not enough permissions",
            headers: [.wwwAuthenticate: #"Bearer error="insufficient_scope", scope="\#(scope)""#])
    }
}

/// How a route authenticates, declared on the route (`users.get("/me", .bearer, ...)`): the router runs the
/// check before reading the body or query and passes the caller to the handler (see `RouteSecurity`).
struct BearerAuth: RouteSecurity {
    var security: Security { .bearer }

    /// 401 without a valid token of a live session, 403 when the user is inactive.
    func authenticate(_ request: Request, _ context: AppContext) throws -> CurrentUser {
        if let claims = context.tokenClaims { return try context.caller(claims: claims) }
        guard let token = request.bearerToken else { throw HTTPError.unauthorized("Not authenticated") }
        return try context.caller(token: token)
    }
}

/// A bearer route that needs permissions (`.permission(.usersRead)`): 403 `insufficient_scope` without
/// them. The same value puts the scopes in the OpenAPI operation.
struct PermissionAuth: RouteSecurity {
    let needed: [Permission]
    var security: Security { .bearer }
    var scopes: [String] { needed.map(\.rawValue) }

    func authenticate(_ request: Request, _ context: AppContext) throws -> CurrentUser {
        let caller = try BearerAuth().authenticate(request, context)
        guard needed.allSatisfy(caller.has) else { throw HTTPError.insufficientScope(needed) }
        return caller
    }
}

/// A route that anyone may call and a caller may call with a token: nil without one, 401 with a bad one.
struct OptionalBearerAuth: RouteSecurity {
    var security: Security { .optionalBearer }

    func authenticate(_ request: Request, _ context: AppContext) throws -> CurrentUser? {
        if let claims = context.tokenClaims { return try context.caller(claims: claims) }
        guard let token = request.bearerToken else { return nil }
        return try context.caller(token: token)
    }
}

extension RouteSecurity where Self == BearerAuth {
    static var bearer: BearerAuth { BearerAuth() }
}
extension RouteSecurity where Self == PermissionAuth {
    static func permission(_ needed: Permission...) -> PermissionAuth { PermissionAuth(needed: needed) }
    /// What "superuser" meant before roles: changing users (`users:admin`).
    static var superuser: PermissionAuth { PermissionAuth(needed: [.usersAdmin]) }
}
extension RouteSecurity where Self == OptionalBearerAuth {
    static var optionalBearer: OptionalBearerAuth { OptionalBearerAuth() }
}

extension AppContext {
    /// Verifies the token with the configured algorithm and keys only, then reads session and user (with
    /// their roles) in one query, so logout, revocation, deactivation, deletion and a role taken away take
    /// effect at once.
    func caller(token: String) throws -> CurrentUser {
        guard let claims = try? config.auth.signer.verify(token, now: now) else { throw HTTPError.unauthorized("Could not validate credentials") }
        return try caller(claims: claims)
    }

    /// The caller of a token whose claims have been verified (by `caller(token:)`, or by the rate limit
    /// before the route ran).
    func caller(claims: JWTClaims) throws -> CurrentUser {
        let invalid = HTTPError.unauthorized("Could not validate credentials")
        guard let userID = Int64(claims.sub), let sessionID = Int64(claims.sid),
            let session = try AuthRepository(database()).liveSessionUser(sessionID: sessionID, userID: userID, now: now)
        else { throw invalid }
        let user = session.user
        guard user.isActive else { throw HTTPError(.forbidden, detail: "Inactive user") }
        // `last_used_at` for the session list, written at most once a minute per session: a request within
        // a minute of the last write (most of them) costs nothing more than the read above.
        let touchInterval: TimeInterval = 60
        if now.timeIntervalSince(session.lastUsedAt) >= touchInterval {
            try AuthRepository(database()).touch(sessionID: sessionID, now: now, ifLastUsedBefore: now.addingTimeInterval(-touchInterval))
        }
        // A token from before scopes (no claim) grants what the user has, as it did then.
        let granted = claims.scope.map(Permissions.init(scope:)) ?? user.permissions
        return CurrentUser(user: user, sessionID: sessionID, permissions: granted.intersection(user.permissions))
    }
}
