import FoundationEssentials
import MariaDB

/// The columns a change sets; nil leaves a column as it is (`fullName: .some(nil)` clears the name).
public struct UserChanges {
    public var email: String?
    public var fullName: String??
    public var isActive: Bool?
    public var isSuperuser: Bool?
    public var emailVerified: Bool?
    /// The `roles` column's value (member, moderator; admin is `isSuperuser`).
    var storedRoles: String?
    public init(
        email: String? = nil, fullName: String?? = nil, isActive: Bool? = nil, isSuperuser: Bool? = nil, emailVerified: Bool? = nil
    ) {
        self.email = email
        self.fullName = fullName
        self.isActive = isActive
        self.isSuperuser = isSuperuser
        self.emailVerified = emailVerified
    }

    /// Sets every role at once: admin goes to `is_superuser`, the others to the `roles` column.
    public init(roles: Set<Role>) {
        isSuperuser = roles.contains(.admin)
        storedRoles = roles.subtracting([.admin]).sorted().map(\.rawValue).joined(separator: ",")
    }
}

/// Users table access; prepared statements only.
public struct UserRepository {
    let db: Connection
    public init(_ db: Connection) { self.db = db }

    static let columns =
        "id, email, hashed_password, full_name, is_active, is_superuser, email_verified, roles, credential_generation, created_at, updated_at"

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
    /// `emailVerified`: only when someone vouches for the address (the operator's `create-superuser`).
    public func create(
        email: String, hashedPassword: String, fullName: String?, isSuperuser: Bool = false, emailVerified: Bool = false, now: Date
    ) throws -> User {
        let id = try db.execute(
            """
            INSERT INTO users (email, hashed_password, full_name, is_active, is_superuser, email_verified, created_at, updated_at)
            VALUES (?, ?, ?, TRUE, ?, ?, ?, ?)
            """,
            [.string(email), .string(hashedPassword), DatabaseValue(fullName), .bool(isSuperuser), .bool(emailVerified), .date(now), .date(now)]
        ).lastInsertID
        guard let user = try find(id: id) else { throw DatabaseError.decoding("inserted user \(id) not found") }
        return user
    }

    /// Writes only the columns `changes` sets (and `updated_at`), so a concurrent change of another column
    /// is not undone; returns the row as it is now, nil when the user is gone. Throws
    /// `DatabaseError.duplicateKey(key: "users_email_unique")` on a taken email.
    public func update(id: Int64, _ changes: UserChanges, now: Date) throws -> User? {
        var sets: [String] = []
        var binds: [DatabaseValue] = []
        if let email = changes.email {
            sets.append("email = ?")
            binds.append(.string(email))
        }
        if let fullName = changes.fullName {
            sets.append("full_name = ?")
            binds.append(DatabaseValue(fullName))
        }
        if let active = changes.isActive {
            sets.append("is_active = ?")
            binds.append(.bool(active))
        }
        if let superuser = changes.isSuperuser {
            sets.append("is_superuser = ?")
            binds.append(.bool(superuser))
        }
        if let verified = changes.emailVerified {
            sets.append("email_verified = ?")
            binds.append(.bool(verified))
        }
        if let roles = changes.storedRoles {
            sets.append("roles = ?")
            binds.append(.string(roles))
        }
        sets.append("updated_at = ?")
        try db.execute("UPDATE users SET \(sets.joined(separator: ", ")) WHERE id = ?", binds + [.date(now), .int(id)])
        return try find(id: id)
    }

    /// Sets a new password if the stored hash is still `current` (the one whose password was verified, or
    /// that an admin's change was based on), and bumps the credential generation so that every session made
    /// before ends at its next request. False when the password changed in between: nothing was written.
    public func setPassword(id: Int64, hashedPassword: String, ifCurrent current: String, now: Date) throws -> Bool {
        try db.execute(
            """
            UPDATE users SET hashed_password = ?, credential_generation = credential_generation + 1, updated_at = ?
            WHERE id = ? AND hashed_password = ?
            """, [.string(hashedPassword), .date(now), .int(id), .string(current)]
        ).affectedRows == 1
    }

    /// The same password under stronger hash parameters (login's rehash): no new generation, and nothing
    /// written if the password changed since `current` was read.
    public func rehashPassword(id: Int64, hashedPassword: String, ifCurrent current: String) throws {
        try db.execute(
            "UPDATE users SET hashed_password = ? WHERE id = ? AND hashed_password = ?",
            [.string(hashedPassword), .int(id), .string(current)])
    }

    /// Deletes the user; posts and sessions go with it (ON DELETE CASCADE). True when a row went.
    @discardableResult
    public func delete(id: Int64) throws -> Bool {
        try db.execute("DELETE FROM users WHERE id = ?", [.int(id)]).affectedRows > 0
    }

    /// Newest first, after `cursor` when given (see `KeysetPage`).
    public func page(limit: Int, after cursor: PageCursor?) throws -> [User] {
        guard let older = cursor?.olderRowsBinds else {
            return try db.query(
                "SELECT \(Self.columns) FROM users ORDER BY created_at DESC, id DESC LIMIT ?",
                [.integer(limit)]
            ).map(User.init(row:))
        }
        return try db.query(Self.olderPageSQL, older + [.integer(limit)]).map(User.init(row:))
    }
    private static let olderPageSQL =
        "SELECT \(columns(of: "u")) FROM users u WHERE \(PageCursor.olderRowsSQL(of: "u")) ORDER BY u.created_at DESC, u.id DESC LIMIT ?"
}
