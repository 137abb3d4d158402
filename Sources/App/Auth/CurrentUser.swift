import MariaDB
import Sodium
import Web

/// The authenticated caller: the user and the session their access token belongs to.
public struct CurrentUser {
    public let id: Int64
    public let email: String
    public let fullName: String?
    public let isActive: Bool
    public let isSuperuser: Bool
    public let sessionID: Int64
}

extension AppContext {
    /// The caller of a bearer-only route: 401 without a valid token of a live session, 403 when inactive.
    public func requireUser(_ request: Request) throws -> CurrentUser {
        guard let token = request.bearerToken else { throw HTTPError.unauthorized("Not authenticated") }
        return try user(forToken: token)
    }

    /// The caller of an optional-bearer route: nil without a token, 401 with a bad one.
    public func optionalUser(_ request: Request) throws -> CurrentUser? {
        guard let token = request.bearerToken else { return nil }
        return try user(forToken: token)
    }

    /// Verifies the token with the configured algorithm and keys only, then loads user and session in one
    /// query, so logout, revocation, deactivation and deletion take effect at once.
    private func user(forToken token: String) throws -> CurrentUser {
        let claims: JWTClaims
        do {
            claims = try config.auth.signer.verify(token, now: now)
        } catch {
            throw HTTPError.unauthorized("Could not validate credentials")
        }
        guard let userID = Int64(claims.sub), let sessionID = Int64(claims.sid) else {
            throw HTTPError.unauthorized("Could not validate credentials")
        }
        let rows = try database().query("""
            SELECT u.id, u.email, u.full_name, u.is_active, u.is_superuser
            FROM sessions s JOIN users u ON u.id = s.user_id
            WHERE s.id = ? AND s.user_id = ? AND s.revoked_at IS NULL AND s.expires_at > ?
            """, [.int(sessionID), .int(userID), .date(now)])
        guard let row = rows.first else { throw HTTPError.unauthorized("Could not validate credentials") }
        let user = CurrentUser(id: try row.get("id"), email: try row.get("email"), fullName: try row.get("full_name"),
                               isActive: try row.get("is_active"), isSuperuser: try row.get("is_superuser"), sessionID: sessionID)
        guard user.isActive else { throw HTTPError(.forbidden, detail: "Inactive user") }
        return user
    }
}
