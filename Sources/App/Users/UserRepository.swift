import FoundationEssentials
import MariaDB

/// Users table access; prepared statements only.
public struct UserRepository {
    let db: Connection
    public init(_ db: Connection) { self.db = db }

    static let columns = "id, email, hashed_password, full_name, is_active, is_superuser, created_at, updated_at"

    /// The same columns of the users table named `alias` in a join.
    static func columns(of alias: String) -> String {
        columns.split(separator: ", ").map { "\(alias).\($0)" }.joined(separator: ", ")
    }

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

    /// Newest first, after `cursor` when given (see `KeysetPage`).
    public func page(limit: Int, after cursor: PageCursor?) throws -> [User] {
        guard let older = cursor?.olderRowsBinds else {
            return try db.query("SELECT \(Self.columns) FROM users ORDER BY created_at DESC, id DESC LIMIT ?",
                                [.integer(limit)]).map(User.init(row:))
        }
        return try db.query(Self.olderPageSQL, older + [.integer(limit)]).map(User.init(row:))
    }
    private static let olderPageSQL = "SELECT \(columns(of: "u")) FROM users u WHERE \(PageCursor.olderRowsSQL(of: "u")) ORDER BY u.created_at DESC, u.id DESC LIMIT ?"
}
