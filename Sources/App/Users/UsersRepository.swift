import FoundationEssentials
import MariaDB

/// Users table access; prepared statements only.
public struct UsersRepository {
    let db: Connection
    public init(_ db: Connection) { self.db = db }

    static let columns = "id, email, hashed_password, full_name, is_active, is_superuser, created_at, updated_at"

    public func find(id: Int64) throws -> User? {
        try db.query("SELECT \(Self.columns) FROM users WHERE id = ?", [.int(id)]).first.map(User.init(row:))
    }

    /// Case-insensitive through the stored lowered copy (the unique key's column).
    public func find(email: String) throws -> User? {
        try db.query("SELECT \(Self.columns) FROM users WHERE email_normalized = LOWER(?)", [.string(email)])
            .first.map(User.init(row:))
    }

    /// Inserts a user; throws `DatabaseError.duplicateKey(key: "users_email_unique")` on a taken email.
    public func create(email: String, hashedPassword: String, fullName: String?, isSuperuser: Bool = false, now: Date) throws -> User {
        let id = try db.execute("""
            INSERT INTO users (email, hashed_password, full_name, is_active, is_superuser, created_at, updated_at)
            VALUES (?, ?, ?, TRUE, ?, ?, ?)
            """, [.string(email), .string(hashedPassword), DatabaseValue(fullName), .bool(isSuperuser), .date(now), .date(now)]).lastInsertID
        guard let user = try find(id: id) else { throw DatabaseError.decoding("inserted user \(id) not found") }
        return user
    }

    /// Writes every mutable column of `user`, with `updated_at = now`.
    public func update(_ user: User, now: Date) throws -> User {
        try db.execute("""
            UPDATE users SET email = ?, hashed_password = ?, full_name = ?, is_active = ?, is_superuser = ?, updated_at = ?
            WHERE id = ?
            """, [.string(user.email), .string(user.hashedPassword), DatabaseValue(user.fullName), .bool(user.isActive),
                  .bool(user.isSuperuser), .date(now), .int(user.id)])
        var updated = user
        updated.updatedAt = now
        return updated
    }

    public func updatePassword(id: Int64, hashedPassword: String, now: Date) throws {
        try db.execute("UPDATE users SET hashed_password = ?, updated_at = ? WHERE id = ?",
                       [.string(hashedPassword), .date(now), .int(id)])
    }

    /// Deletes the user; posts and sessions go with it (ON DELETE CASCADE). True when a row went.
    @discardableResult
    public func delete(id: Int64) throws -> Bool {
        try db.execute("DELETE FROM users WHERE id = ?", [.int(id)]).affectedRows > 0
    }

    /// Newest first, keyset on (created_at, id); `after` is the last row of the previous page.
    public func page(limit: Int, after: PageCursor?) throws -> [User] {
        if let after {
            let at = after.createdAt
            return try db.query("""
                SELECT \(Self.columns) FROM users
                WHERE created_at < ? OR (created_at = ? AND id < ?)
                ORDER BY created_at DESC, id DESC LIMIT ?
                """, [.date(at), .date(at), .int(after.id), .integer(limit)]).map(User.init(row:))
        }
        return try db.query("SELECT \(Self.columns) FROM users ORDER BY created_at DESC, id DESC LIMIT ?",
                            [.integer(limit)]).map(User.init(row:))
    }
}
