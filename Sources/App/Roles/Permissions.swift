/// What a caller may do beyond their own account: the OAuth2 scopes of the access token.
public enum Permission: String, CaseIterable, Sendable {
    /// Create, change and delete one's own posts.
    case postsWrite = "posts:write"
    /// Change, unpublish or delete anyone's post, and see drafts.
    case postsModerate = "posts:moderate"
    /// List and read any user.
    case usersRead = "users:read"
    /// Change and delete users, their roles and sessions.
    case usersAdmin = "users:admin"

    var summary: String {
        switch self {
        case .postsWrite: "Create, change and delete one's own posts"
        case .postsModerate: "Change, unpublish or delete anyone's post, and see drafts"
        case .usersRead: "List and read any user"
        case .usersAdmin: "Change and delete users, their roles and sessions"
        }
    }
}

/// A set of permissions as bits: every request intersects two of them, so no hashing and no allocation.
public struct Permissions: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public init(_ permission: Permission) {
        // A switch, not an index into `allCases` (an array built on every call).
        switch permission {
        case .postsWrite: rawValue = 1
        case .postsModerate: rawValue = 2
        case .usersRead: rawValue = 4
        case .usersAdmin: rawValue = 8
        }
    }

    public static let all = Permissions(rawValue: 0b1111)

    public func contains(_ permission: Permission) -> Bool { contains(Permissions(permission)) }

    /// In the document's order.
    public var codes: [String] { Permission.allCases.filter(contains).map(\.rawValue) }

    /// The OAuth2 `scope` form: space-separated codes. Unknown codes are dropped (a request may ask for
    /// scopes this server does not know; the grant is what it knows and the user has).
    public init(scope: String) {
        var bits: UInt8 = 0
        // The codes are at most 15 bytes: String(word) is a small string, no allocation.
        for word in scope.split(separator: " ") {
            if let permission = Permission(rawValue: String(word)) { bits |= Permissions(permission).rawValue }
        }
        rawValue = bits
    }

    public var scope: String { codes.joined(separator: " ") }
}

/// Roles bundle permissions. `member` and `moderator` are stored in `users.roles`; `admin` is
/// `users.is_superuser`, so the two can never disagree.
public enum Role: String, CaseIterable, Comparable, Sendable {
    case member, moderator, admin

    var permissions: Permissions {
        switch self {
        case .member: Permissions(.postsWrite)
        case .moderator: [Permissions(.postsWrite), Permissions(.postsModerate)]
        case .admin: .all
        }
    }

    public static func < (a: Role, b: Role) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    static func permissions(of roles: Set<Role>) -> Permissions {
        roles.reduce(into: []) { $0.formUnion($1.permissions) }
    }
}
