import FoundationEssentials
import MariaDB

/// A refresh token's row, looked up by the SHA-256 of the token.
public struct RefreshTokenRecord {
    public let sessionID: Int64
    public let userID: Int64
    public let expiresAt: Date
    public let rotatedAt: Date?
    public let sessionRevokedAt: Date?
    public let sessionExpiresAt: Date
}

/// Sessions and their refresh tokens; prepared statements only. Refresh tokens are stored as hashes.
public struct SessionsRepository {
    let db: Connection
    public init(_ db: Connection) { self.db = db }

    /// A new session with a random positive id, ending `maxAge` seconds from `now` whatever happens.
    public func create(userID: Int64, now: Date, maxAge: Int) throws -> Int64 {
        let id = Int64.random(in: 1...Int64.max)
        try db.execute("INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
                       [.int(id), .int(userID), .date(now), .date(now.addingTimeInterval(TimeInterval(maxAge)))])
        return id
    }

    public func addRefreshToken(hash: [UInt8], sessionID: Int64, now: Date, expiresAt: Date) throws {
        try db.execute("INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
                       [.bytes(Data(hash)), .int(sessionID), .date(now), .date(expiresAt)])
    }

    /// The token's row with its session, locked for the rotation (call inside a transaction).
    public func refreshTokenForUpdate(hash: [UInt8]) throws -> RefreshTokenRecord? {
        guard let row = try db.query("""
            SELECT r.session_id, s.user_id, r.expires_at, r.rotated_at, s.revoked_at, s.expires_at AS session_expires_at
            FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id
            WHERE r.token_hash = ? FOR UPDATE
            """, [.bytes(Data(hash))]).first else { return nil }
        return RefreshTokenRecord(sessionID: try row.get("session_id"), userID: try row.get("user_id"),
                                  expiresAt: try row.get("expires_at"), rotatedAt: try row.get("rotated_at"),
                                  sessionRevokedAt: try row.get("revoked_at"), sessionExpiresAt: try row.get("session_expires_at"))
    }

    /// Marks a token used; true only for the caller that flipped it (a concurrent rotation loses).
    public func markRotated(hash: [UInt8], now: Date) throws -> Bool {
        try db.execute("UPDATE refresh_tokens SET rotated_at = ? WHERE token_hash = ? AND rotated_at IS NULL",
                       [.date(now), .bytes(Data(hash))]).affectedRows == 1
    }

    public func revoke(sessionID: Int64, now: Date) throws {
        try db.execute("UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", [.date(now), .int(sessionID)])
    }

    /// Ends every live session of a user except `keeping` (the caller's own, on password change).
    public func revokeAll(userID: Int64, except keeping: Int64? = nil, now: Date) throws {
        if let keeping {
            try db.execute("UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND id <> ? AND revoked_at IS NULL",
                           [.date(now), .int(userID), .int(keeping)])
        } else {
            try db.execute("UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL", [.date(now), .int(userID)])
        }
    }
}
