import FoundationEssentials
import MariaDB

/// What a mailed token is for: each kind is redeemed only by its own endpoint.
public enum EmailTokenPurpose: String {
    case resetPassword = "reset_password"
    case verifyEmail = "verify_email"
}

/// A live token's user and the address it was mailed to.
public struct EmailTokenRecord {
    public let userID: Int64
    public let email: String
}

/// Password-reset and verification tokens (`email_tokens`); only their SHA-256 is stored, as for refresh
/// tokens. Prepared statements only.
public struct EmailTokenRepository {
    let db: Connection
    public init(_ db: Connection) { self.db = db }

    /// `userID` nil: a password recovery for an address with no active account (the same write as for one).
    public func create(hash: [UInt8], purpose: EmailTokenPurpose, userID: Int64?, email: String, now: Date, lifetime: Int) throws {
        try db.execute(
            "INSERT INTO email_tokens (token_hash, purpose, user_id, email, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
            [
                .bytes(Data(hash)), .string(purpose.rawValue), userID.map { .int($0) } ?? .null, .string(String(email.prefix(254))),
                .date(now), .date(now.addingTimeInterval(TimeInterval(lifetime)))
            ])
    }

    /// A live token (unspent, unexpired, of this purpose, of a user), without spending it.
    public func live(hash: [UInt8], purpose: EmailTokenPurpose, now: Date) throws -> EmailTokenRecord? {
        try db.query(Self.liveSQL, [.bytes(Data(hash)), .string(purpose.rawValue), .date(now)]).first.map {
            EmailTokenRecord(userID: try $0.get("user_id"), email: try $0.get("email"))
        }
    }
    private static let liveSQL = """
        SELECT user_id, email FROM email_tokens
        WHERE token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ? AND user_id IS NOT NULL
        """

    /// Spends a live token (call inside the transaction that acts on it): its record for the one caller that
    /// spent it, nil for any other (unknown, expired, spent, of another purpose, or spent concurrently).
    public func redeem(hash: [UInt8], purpose: EmailTokenPurpose, now: Date) throws -> EmailTokenRecord? {
        guard let record = try live(hash: hash, purpose: purpose, now: now),
            try db.execute(
                "UPDATE email_tokens SET used_at = ? WHERE token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?",
                [.date(now), .bytes(Data(hash)), .string(purpose.rawValue), .date(now)]
            ).affectedRows == 1
        else { return nil }
        return record
    }

    /// Spends every live token of a user for `purpose` (a reset spends the other reset links).
    public func spendAll(userID: Int64, purpose: EmailTokenPurpose, now: Date) throws {
        try db.execute(
            "UPDATE email_tokens SET used_at = ? WHERE user_id = ? AND purpose = ? AND used_at IS NULL",
            [.date(now), .int(userID), .string(purpose.rawValue)])
    }

    /// When the user's newest token of `purpose` was made, with the user's row locked until the transaction
    /// ends, so that two concurrent resends see each other (call inside a transaction).
    public func newestLockingUser(userID: Int64, purpose: EmailTokenPurpose) throws -> Date? {
        _ = try db.query("SELECT id FROM users WHERE id = ? FOR UPDATE", [.int(userID)])
        return try db.query(
            "SELECT MAX(created_at) AS newest FROM email_tokens WHERE user_id = ? AND purpose = ?",
            [.int(userID), .string(purpose.rawValue)]
        ).first?.get("newest")
    }

    /// Removes tokens that expired before `cutoff`; returns how many.
    public func deleteExpired(before cutoff: Date) throws -> Int {
        try db.execute("DELETE FROM email_tokens WHERE expires_at < ? LIMIT 10000", [.date(cutoff)]).affectedRows
    }
}
