import FoundationEssentials
import MariaDB

/// A row of `users`. The hash stays inside the app: no schema ever encodes it.
public struct User {
    public let id: Int64
    public var email: String
    public var hashedPassword: String
    public var fullName: String?
    public var isActive: Bool
    public var isSuperuser: Bool
    /// The user proved the address (a verification link, or a reset through it); false after a change.
    public var emailVerified: Bool
    /// The `roles` column as read: a SET of member and moderator, in that order, comma-separated (admin is
    /// `is_superuser`). Kept as text: the session check reads it on every request, and only the roles
    /// endpoints need the set.
    let storedRoles: String
    /// Bumped whenever the password is set; sessions of an older generation are dead.
    public let credentialGeneration: Int64
    public let createdAt: Date
    public var updatedAt: Date

    init(row: Row) throws {
        id = try row.get("id")
        email = try row.get("email")
        hashedPassword = try row.get("hashed_password")
        fullName = try row.get("full_name")
        isActive = try row.get("is_active")
        isSuperuser = try row.get("is_superuser")
        emailVerified = try row.get("email_verified")
        storedRoles = try row.get("roles")
        credentialGeneration = try row.get("credential_generation")
        createdAt = try row.get("created_at")
        updatedAt = try row.get("updated_at")
    }

    /// Every role the user has.
    public var roles: Set<Role> {
        var roles = Set(storedRoles.split(separator: ",").compactMap { Role(rawValue: String($0)) })
        if isSuperuser { roles.insert(.admin) }
        return roles
    }

    /// What the user's roles allow now (a token grants at most this), without building the set of roles.
    public var permissions: Permissions {
        if isSuperuser { return Role.admin.permissions }
        switch storedRoles {
        case "member": return Role.member.permissions
        case "moderator", "member,moderator": return Role.moderator.permissions
        case "": return []
        default: return Role.permissions(of: roles)
        }
    }
}
