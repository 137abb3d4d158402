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
    public let sessionCredentialGeneration: Int64
    /// The scope the session's login asked for; nil: everything the user has.
    public let sessionScope: String?
}

/// A session as its user sees it in the list.
public struct SessionRecord {
    public let id: Int64
    public let createdAt: Date
    public let lastUsedAt: Date
    public let expiresAt: Date
    public let userAgent: String?

    init(row: Row) throws {
        id = try row.get("id")
        createdAt = try row.get("created_at")
        lastUsedAt = try row.get("last_used_at", as: Date?.self) ?? createdAt
        expiresAt = try row.get("expires_at")
        userAgent = try row.get("user_agent")
    }
}

/// Sessions, their refresh tokens and failed logins; prepared statements only. Refresh tokens are stored
/// as hashes.
public struct AuthRepository {
    let db: Connection
    public init(_ db: Connection) { self.db = db }

    /// The user of a live session (not revoked, not expired, of the user's current credential generation)
    /// that belongs to `userID`, in one statement:
    /// the check every bearer request makes, and the caller's row for whatever the route does next.
    /// Also returns when the session was last used, so that the caller can decide on `touch` without a query.
    public func liveSessionUser(sessionID: Int64, userID: Int64, now: Date) throws -> (user: User, lastUsedAt: Date)? {
        guard let row = try db.query(Self.liveSessionUserSQL, [.int(sessionID), .int(userID), .date(now)]).first else { return nil }
        // NULL only for a session written by a worker that predates the column.
        return (try User(row: row), try row.get("session_last_used_at", as: Date?.self) ?? .distantPast)
    }
    private static let liveSessionUserSQL = """
        SELECT \(UserRepository.columns(of: "u")), s.last_used_at AS session_last_used_at
        FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.id = ? AND s.user_id = ? AND s.revoked_at IS NULL AND s.expires_at > ?
          AND s.credential_generation = u.credential_generation
        """

    /// A new session with a random positive id, ending `maxAge` seconds from `now` whatever happens. It
    /// belongs to the credential generation whose password was verified (read before the verification).
    /// `userAgent`: the login's User-Agent, shown in the session list (cut to the column's 255 characters).
    /// `scope`: what the login asked for (nil: everything), which its refreshes keep asking for.
    public func createSession(
        userID: Int64, credentialGeneration: Int64, scope: String? = nil, now: Date, maxAge: Int, userAgent: String? = nil
    ) throws -> Int64 {
        let id = Int64.random(in: 1...Int64.max)
        let agent: DatabaseValue = userAgent.map { .string(String(String.UnicodeScalarView($0.unicodeScalars.prefix(255)))) } ?? .null
        try db.execute(
            """
            INSERT INTO sessions (id, user_id, credential_generation, scope, created_at, last_used_at, expires_at, user_agent)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .int(id), .int(userID), .int(credentialGeneration), DatabaseValue(scope), .date(now), .date(now),
                .date(now.addingTimeInterval(TimeInterval(maxAge))), agent
            ])
        return id
    }

    /// Records a use of the session, unless one was recorded after `since` (a concurrent request's write wins).
    public func touch(sessionID: Int64, now: Date, ifLastUsedBefore since: Date) throws {
        try db.execute(
            "UPDATE sessions SET last_used_at = ? WHERE id = ? AND (last_used_at < ? OR last_used_at IS NULL)", [.date(now), .int(sessionID), .date(since)])
    }

    /// The user's live sessions (as `liveSessionUser` judges them), newest first.
    public func liveSessions(of user: User, now: Date) throws -> [SessionRecord] {
        try db.query(
            """
            SELECT id, created_at, last_used_at, expires_at, user_agent FROM sessions
            WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ? AND credential_generation = ?
            ORDER BY created_at DESC, id DESC
            """, [.int(user.id), .date(now), .int(user.credentialGeneration)]
        ).map(SessionRecord.init(row:))
    }

    /// Ends one live session of the user; false when the user has no such session.
    public func revoke(sessionID: Int64, ofUser userID: Int64, now: Date) throws -> Bool {
        try db.execute(
            "UPDATE sessions SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL AND expires_at > ?",
            [.date(now), .int(sessionID), .int(userID), .date(now)]
        ).affectedRows == 1
    }

    /// Moves a session to its user's current credential generation: the session that changed the password
    /// stays alive.
    public func adoptCurrentGeneration(sessionID: Int64) throws {
        try db.execute(
            """
            UPDATE sessions s JOIN users u ON u.id = s.user_id SET s.credential_generation = u.credential_generation
            WHERE s.id = ?
            """, [.int(sessionID)])
    }

    public func addRefreshToken(hash: [UInt8], sessionID: Int64, now: Date, expiresAt: Date) throws {
        try db.execute(
            "INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
            [.bytes(Data(hash)), .int(sessionID), .date(now), .date(expiresAt)])
    }

    /// The token's row with its session, locked for the rotation (call inside a transaction).
    public func refreshTokenForUpdate(hash: [UInt8]) throws -> RefreshTokenRecord? {
        guard
            let row = try db.query(
                """
                SELECT r.session_id, s.user_id, r.expires_at, r.rotated_at, s.revoked_at, s.expires_at AS session_expires_at,
                       s.credential_generation, s.scope
                FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id
                WHERE r.token_hash = ? FOR UPDATE
                """, [.bytes(Data(hash))]
            ).first
        else { return nil }
        return RefreshTokenRecord(
            sessionID: try row.get("session_id"), userID: try row.get("user_id"),
            expiresAt: try row.get("expires_at"), rotatedAt: try row.get("rotated_at"),
            sessionRevokedAt: try row.get("revoked_at"), sessionExpiresAt: try row.get("session_expires_at"),
            sessionCredentialGeneration: try row.get("credential_generation"), sessionScope: try row.get("scope"))
    }

    /// Marks a token used; true only for the caller that flipped it (a concurrent rotation loses).
    public func markRotated(hash: [UInt8], now: Date) throws -> Bool {
        try db.execute(
            "UPDATE refresh_tokens SET rotated_at = ? WHERE token_hash = ? AND rotated_at IS NULL",
            [.date(now), .bytes(Data(hash))]
        ).affectedRows == 1
    }

    public func revoke(sessionID: Int64, now: Date) throws {
        try db.execute("UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", [.date(now), .int(sessionID)])
    }

    /// Ends every live session of a user except `keeping` (the caller's own, on password change).
    public func revokeAll(userID: Int64, except keeping: Int64? = nil, now: Date) throws {
        if let keeping {
            try db.execute(
                "UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND id <> ? AND revoked_at IS NULL",
                [.date(now), .int(userID), .int(keeping)])
        } else {
            try db.execute("UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL", [.date(now), .int(userID)])
        }
    }

    // MARK: Failed logins

    /// Failed logins per (normalized email, client address), shared by every worker through the database.
    /// Callers pass the email cut to 254 and the address to 45 characters (the column sizes).
    ///
    /// A login records its attempt *before* it counts: concurrent attempts near the limit each see the others'
    /// rows, so no more than the limit can ever be verifying at once (a race can only refuse one too many, never
    /// let one too many through). A wrong password leaves its row as the failure; a right one clears them all.

    /// Records an attempt starting now; returns its id, for `withdrawLoginAttempt` when the attempt is refused.
    public func beginLoginAttempt(email: String, address: String, now: Date) throws -> Int64 {
        try db.execute(
            "INSERT INTO login_attempts (email_normalized, client_address, attempted_at) VALUES (LOWER(?), ?, ?)",
            [.string(email), .string(address), .date(now)]
        ).lastInsertID
    }

    /// Attempts since `since` (including one just begun) and the oldest of them (the window ends `window`
    /// seconds after it).
    public func loginAttempts(email: String, address: String, since: Date) throws -> (count: Int, oldest: Date?) {
        let row = try db.query(
            """
            SELECT COUNT(*) AS n, MIN(attempted_at) AS oldest FROM login_attempts
            WHERE email_normalized = LOWER(?) AND client_address = ? AND attempted_at > ?
            """, [.string(email), .string(address), .date(since)]
        ).first
        guard let row else { return (0, nil) }
        let count: Int64 = try row.get("n")
        return (Int(count), try row.get("oldest"))
    }

    /// Attempts on the account from every client since `since`, and the oldest of them.
    public func loginAttempts(email: String, since: Date) throws -> (count: Int, oldest: Date?) {
        let row = try db.query(
            """
            SELECT COUNT(*) AS n, MIN(attempted_at) AS oldest FROM login_attempts
            WHERE email_normalized = LOWER(?) AND attempted_at > ?
            """, [.string(email), .date(since)]
        ).first
        guard let row else { return (0, nil) }
        let count: Int64 = try row.get("n")
        return (Int(count), try row.get("oldest"))
    }

    /// Whether the account logged in from this client since `since`.
    public func isKnownClient(email: String, address: String, since: Date) throws -> Bool {
        try !db.query(
            """
            SELECT 1 AS known FROM login_known_clients WHERE email_normalized = LOWER(?) AND client_address = ? AND last_success_at > ?
            """, [.string(email), .string(address), .date(since)]
        ).isEmpty
    }

    /// Remembers a client the account logged in from.
    public func rememberClient(email: String, address: String, now: Date) throws {
        try db.execute(
            """
            INSERT INTO login_known_clients (email_normalized, client_address, last_success_at) VALUES (LOWER(?), ?, ?)
            ON DUPLICATE KEY UPDATE last_success_at = VALUES(last_success_at)
            """, [.string(email), .string(address), .date(now)])
    }

    /// Takes back a refused attempt, so that knocking while locked out does not extend the lockout.
    public func withdrawLoginAttempt(id: Int64) throws {
        try db.execute("DELETE FROM login_attempts WHERE id = ?", [.int(id)])
    }

    /// A right password clears the count; old rows of anyone are purged on the way.
    public func clearLoginAttempts(email: String, address: String, olderThan cutoff: Date) throws {
        try db.execute(
            "DELETE FROM login_attempts WHERE email_normalized = LOWER(?) AND client_address = ?",
            [.string(email), .string(address)])
        try db.execute("DELETE FROM login_attempts WHERE attempted_at < ? LIMIT 1000", [.date(cutoff)])
    }
}
