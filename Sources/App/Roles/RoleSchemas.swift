import Web

/// A role and the permissions it bundles.
struct RolePublic: SchemaEncodable {
    let name: String
    let permissions: [String]

    init(_ role: Role) {
        name = role.rawValue
        permissions = role.permissions.codes
    }

    static let schema = ObjectSchema<RolePublic>("RolePublic") {
        Field("name", \.name, .oneOf(Role.allCases.map(\.rawValue)), example: "member")
        Field("permissions", \.permissions, .array(.oneOf(Permission.allCases.map(\.rawValue))), example: ["posts:write"])
    }
}

struct RoleList: SchemaEncodable {
    let items: [RolePublic]

    static let schema = ObjectSchema<RoleList>("RoleList") {
        Field("items", \.items, .array(.object(RolePublic.self)))
    }
}

/// A user's roles: the answer of GET and PUT /users/{id}/roles, and PUT's body (known names, at least one).
struct UserRoles: SchemaDecodable {
    let roles: [String]

    init(roles: Set<Role>) { self.roles = roles.sorted().map(\.rawValue) }
    init(_ v: Validated<UserRoles>) { roles = v[\.roles] }

    var set: Set<Role> { Set(roles.compactMap(Role.init(rawValue:))) }

    static let schema = ObjectSchema<UserRoles>("UserRoles") {
        Field("roles", \.roles, .array(.oneOf(Role.allCases.map(\.rawValue)), minItems: 1, maxItems: 3), example: ["member"])
    }
}
