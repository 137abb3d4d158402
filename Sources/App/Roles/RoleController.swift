import Web

/// The roles there are, and a user's roles: who may read and change them is in the route table.
struct RoleController {
    func register(on router: Router<AppContext>) {
        let unauthorized = ResponseDoc.error(.unauthorized, "Not authenticated")
        let notFound = ResponseDoc.error(.notFound, "User not found")
        router.group("/api/v1/roles", tags: ["roles"], responses: [.rateLimited]).get(
            "", .bearer,
            RouteDoc(summary: "The roles and the permissions each bundles", responses: [.json(.ok, RoleList.self), unauthorized]), use: list)
        let users = router.group("/api/v1/users", tags: ["users", "roles"], responses: [.rateLimited])
        users.get(
            "/{id:id}/roles", .bearer,
            RouteDoc(
                summary: "A user's roles (self, or users:read)",
                responses: [.json(.ok, UserRoles.self), unauthorized, .error(.forbidden, "Not enough permissions"), notFound]),
            use: roles)
        users.put(
            "/{id:id}/roles", .permission(.usersAdmin), .json(UserRoles.self),
            RouteDoc(
                summary: "Set a user's roles (users:admin)",
                description: "Takes effect on the user's next request: a token's scope counts only as far as the user's roles still allow. "
                    + "`admin` is `is_superuser`. Nobody changes their own roles.",
                responses: [.json(.ok, UserRoles.self), unauthorized, .error(.forbidden, "Not enough permissions, or the caller's own roles"), notFound]),
            use: setRoles)
    }

    func list(_ request: Request, _ context: AppContext, _ caller: CurrentUser) -> Response {
        .json(RoleList(items: Role.allCases.map(RolePublic.init)))
    }

    func roles(_ request: Request, _ context: AppContext, _ caller: CurrentUser) throws -> Response {
        let id = try request.parameters.int64("id")
        if id == caller.id { return .json(UserRoles(roles: caller.user.roles)) }
        try caller.require(.usersRead)
        guard let user = try UserRepository(try context.database()).find(id: id) else { throw HTTPError(.notFound, detail: "User not found") }
        return .json(UserRoles(roles: user.roles))
    }

    func setRoles(_ request: Request, _ context: AppContext, _ caller: CurrentUser, _ body: UserRoles) throws -> Response {
        let id = try request.parameters.int64("id")
        // An admin cannot lock themselves out of administration, nor raise their own rights.
        guard id != caller.id else { throw HTTPError(.forbidden, detail: "Users are not allowed to change their own roles") }
        guard let user = try UserRepository(try context.database()).update(id: id, UserChanges(roles: body.set), now: context.now) else {
            throw HTTPError(.notFound, detail: "User not found")
        }
        context.logger.info("roles set", metadata: ["user_id": "\(id)", "roles": "\(UserRoles(roles: user.roles).roles)"])
        return .json(UserRoles(roles: user.roles))
    }
}
