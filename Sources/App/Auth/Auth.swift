import FoundationEssentials
import MariaDB
import Sodium
import Web

/// The authenticated caller: their user row, read with the session check, and the session their access
/// token belongs to.
public struct CurrentUser {
    public let user: User
    public let sessionID: Int64

    public var id: Int64 { user.id }
    public var isSuperuser: Bool { user.isSuperuser }
}

/// How a route authenticates, declared on the route (`users.get("/me", .bearer, ...)`): the router runs the
/// check before reading the body or query and passes the caller to the handler (see `RouteSecurity`).
struct BearerAuth: RouteSecurity {
    var security: Security { .bearer }

    /// 401 without a valid token of a live session, 403 when the user is inactive.
    func authenticate(_ request: Request, _ context: AppContext) throws -> CurrentUser {
        guard let token = request.bearerToken else { throw HTTPError.unauthorized("Not authenticated") }
        return try context.caller(token: token)
    }
}

/// A bearer route for superusers only: 403 for anyone else.
struct SuperuserAuth: RouteSecurity {
    var security: Security { .bearer }

    func authenticate(_ request: Request, _ context: AppContext) throws -> CurrentUser {
        let caller = try BearerAuth().authenticate(request, context)
        guard caller.isSuperuser else { throw HTTPError(.forbidden, detail: "The user doesn't have enough privileges") }
        return caller
    }
}

/// A route that anyone may call and a caller may call with a token: nil without one, 401 with a bad one.
struct OptionalBearerAuth: RouteSecurity {
    var security: Security { .optionalBearer }

    func authenticate(_ request: Request, _ context: AppContext) throws -> CurrentUser? {
        guard let token = request.bearerToken else { return nil }
        return try context.caller(token: token)
    }
}

extension RouteSecurity where Self == BearerAuth {
    static var bearer: BearerAuth { BearerAuth() }
}
extension RouteSecurity where Self == SuperuserAuth {
    static var superuser: SuperuserAuth { SuperuserAuth() }
}
extension RouteSecurity where Self == OptionalBearerAuth {
    static var optionalBearer: OptionalBearerAuth { OptionalBearerAuth() }
}

extension AppContext {
    /// Verifies the token with the configured algorithm and keys only, then reads session and user in one
    /// query, so logout, revocation, deactivation and deletion take effect at once.
    func caller(token: String) throws -> CurrentUser {
        let invalid = HTTPError.unauthorized("Could not validate credentials")
        guard let claims = try? config.auth.signer.verify(token, now: now),
            let userID = Int64(claims.sub), let sessionID = Int64(claims.sid),
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
        return CurrentUser(user: user, sessionID: sessionID)
    }
}
