import Foundation
import MariaDB

/// Failed logins per (normalized email, client address), shared by every worker through the database.
/// Callers pass the email cut to 254 and the address to 45 characters (the column sizes).
public struct LoginAttemptsRepository {
    let db: Connection
    public init(_ db: Connection) { self.db = db }

    /// Failures since `since` and the oldest of them (the window ends `window` seconds after it).
    public func failures(email: String, address: String, since: Date) throws -> (count: Int, oldest: Date?) {
        let row = try db.query("""
            SELECT COUNT(*) AS n, MIN(attempted_at) AS oldest FROM login_attempts
            WHERE email_normalized = LOWER(?) AND client_address = ? AND attempted_at > ?
            """, [.string(email), .string(address), .date(since)]).first
        guard let row else { return (0, nil) }
        let count: Int64 = try row.get("n")
        return (Int(count), try row.get("oldest"))
    }

    public func recordFailure(email: String, address: String, now: Date) throws {
        try db.execute("INSERT INTO login_attempts (email_normalized, client_address, attempted_at) VALUES (LOWER(?), ?, ?)",
                       [.string(email), .string(address), .date(now)])
    }

    /// A success clears the count; old rows of anyone are purged on the way.
    public func clear(email: String, address: String, olderThan cutoff: Date) throws {
        try db.execute("DELETE FROM login_attempts WHERE email_normalized = LOWER(?) AND client_address = ?",
                       [.string(email), .string(address)])
        try db.execute("DELETE FROM login_attempts WHERE attempted_at < ? LIMIT 1000", [.date(cutoff)])
    }
}
