import FoundationEssentials
import MariaDB
import Sodium

/// Mints the access token and a new refresh token of a session.
struct TokenIssuer {
    let settings: AuthSettings
    let db: Connection

    /// Signs an access token for the session, granting `permissions` (its `scope`), and stores a fresh
    /// refresh token (only its SHA-256).
    func issue(userID: Int64, sessionID: Int64, permissions: Permissions, now: Date) throws -> Token {
        let scope = permissions.scope
        let issued = Int(now.timeIntervalSince1970)
        let access = try settings.signer.sign(
            claims: JWTClaims(
                sub: "\(userID)", sid: "\(sessionID)", iat: issued,
                exp: issued + settings.accessTokenLifetime,
                jti: SecureRandom.token(bytes: 16), scope: scope))
        let refresh = SecureRandom.token(bytes: 32)  // 256 bits
        try AuthRepository(db).addRefreshToken(
            hash: sha256(refresh), sessionID: sessionID, now: now,
            expiresAt: now.addingTimeInterval(TimeInterval(settings.refreshTokenLifetime)))
        return Token(accessToken: access, tokenType: "bearer", expiresIn: settings.accessTokenLifetime, refreshToken: refresh, scope: scope)
    }
}
