import FoundationEssentials
import MariaDB

/// Failed logins per (normalized email, client address), shared by every worker through the database.
/// Callers pass the email cut to 254 and the address to 45 characters (the column sizes).
///
/// A login records its attempt *before* it counts: concurrent attempts near the limit each see the others'
/// rows, so no more than the limit can ever be verifying at once (a race can only refuse one too many, never
/// let one too many through). A wrong password leaves its row as the failure; a right one clears them all.
public struct LoginAttemptsRepository {
    let db: Connection
    public init(_ db: Connection) { self.db = db }

    /// Records an attempt starting now; returns its id, for `withdraw` when the attempt is refused.
    public func begin(email: String, address: String, now: Date) throws -> Int64 {
        try db.execute("INSERT INTO login_attempts (email_normalized, client_address, attempted_at) VALUES (LOWER(?), ?, ?)",
                       [.string(email), .string(address), .date(now)]).lastInsertID
    }

    /// Attempts since `since` (including one just begun) and the oldest of them (the window ends `window`
    /// seconds after it).
    public func attempts(email: String, address: String, since: Date) throws -> (count: Int, oldest: Date?) {
        let row = try db.query("""
            SELECT COUNT(*) AS n, MIN(attempted_at) AS oldest FROM login_attempts
            WHERE email_normalized = LOWER(?) AND client_address = ? AND attempted_at > ?
            """, [.string(email), .string(address), .date(since)]).first
        guard let row else { return (0, nil) }
        let count: Int64 = try row.get("n")
        return (Int(count), try row.get("oldest"))
    }

    /// Takes back a refused attempt, so that knocking while locked out does not extend the lockout.
    public func withdraw(id: Int64) throws {
        try db.execute("DELETE FROM login_attempts WHERE id = ?", [.int(id)])
    }

    /// A right password clears the count; old rows of anyone are purged on the way.
    public func clear(email: String, address: String, olderThan cutoff: Date) throws {
        try db.execute("DELETE FROM login_attempts WHERE email_normalized = LOWER(?) AND client_address = ?",
                       [.string(email), .string(address)])
        try db.execute("DELETE FROM login_attempts WHERE attempted_at < ? LIMIT 1000", [.date(cutoff)])
    }
}
