import FoundationEssentials
import MariaDB
import Web

/// /api/v1/users: sign-up, the caller's own account, and the superuser's administration.
/// (GET /users/me/posts belongs to the posts controller.)
struct UsersController {
    func register(on router: Router<AppContext>) {
        let users = router.group("/api/v1/users", tags: ["users"], security: .bearer)
        let unauthorized = ResponseDoc.error(.unauthorized, "Not authenticated")

        users.post("", .json(UserCreate.self), RouteDoc(
            summary: "Sign up", security: .anonymous,
            responses: [.json(.created, UserPublic.self), .error(.conflict, "Email already registered")]
        )) { _, context, body in
            let hash = try context.config.auth.hasher.hash(body.password)
            let user = try Self.mappingTakenEmail {
                try UsersRepository(try context.database()).create(email: body.email, hashedPassword: hash, fullName: body.fullName, now: context.now)
            }
            context.logger.info("user signed up", metadata: ["user_id": "\(user.id)"])
            return .json(UserPublic(user), status: .created, headers: [.location: "/api/v1/users/\(user.id)"])
        }

        users.get("/me", RouteDoc(summary: "The caller's account", responses: [.json(.ok, UserPublic.self), unauthorized])) { request, context in
            let me = try context.requireUser(request)
            return .json(UserPublic(try Self.load(me.id, context)))
        }

        users.patch("/me", .json(UserUpdateMe.self), RouteDoc(
            summary: "Change the caller's email or name",
            responses: [.json(.ok, UserPublic.self), unauthorized, .error(.conflict, "Email already registered")]
        )) { request, context, body in
            let me = try context.requireUser(request)
            var user = try Self.load(me.id, context)
            if let email = body.email { user.email = email }
            if body.fullNameGiven { user.fullName = body.fullName }
            let saved = try Self.mappingTakenEmail { try UsersRepository(try context.database()).update(user, now: context.now) }
            return .json(UserPublic(saved))
        }

        users.post("/me/password", .json(UpdatePassword.self), RouteDoc(
            summary: "Change the caller's password", description: "Every other session of the caller ends.",
            responses: [.empty(.noContent), .error(.badRequest, "Incorrect password"), unauthorized]
        )) { request, context, body in
            let me = try context.requireUser(request)
            let hasher = context.config.auth.hasher
            let user = try Self.load(me.id, context)
            guard hasher.verify(body.currentPassword, against: user.hashedPassword) else {
                throw HTTPError(.badRequest, detail: "Incorrect password")
            }
            let hash = try hasher.hash(body.newPassword)
            let db = try context.database()
            try db.transaction {
                try UsersRepository(db).updatePassword(id: me.id, hashedPassword: hash, now: context.now)
                try SessionsRepository(db).revokeAll(userID: me.id, except: me.sessionID, now: context.now)
            }
            return .noContent
        }

        users.delete("/me", RouteDoc(
            summary: "Delete the caller's account", description: "Their posts and sessions go with it.",
            responses: [.empty(.noContent), unauthorized, .error(.forbidden, "Superusers cannot delete themselves")]
        )) { request, context in
            let me = try context.requireUser(request)
            guard !me.isSuperuser else { throw HTTPError(.forbidden, detail: "Super users are not allowed to delete themselves") }
            try UsersRepository(try context.database()).delete(id: me.id)
            return .noContent
        }

        users.get("", .query(PageQuery.self), RouteDoc(
            summary: "List users (superuser)", responses: [.json(.ok, UserPage.self), unauthorized, .error(.forbidden)]
        )) { request, context, query in
            try Self.requireSuperuser(request, context)
            let rows = try UsersRepository(try context.database()).page(limit: query.limit + 1, after: query.cursor)
            let items = Array(rows.prefix(query.limit))
            let next = rows.count > query.limit ? items.last.map { PageCursor(createdAt: $0.createdAt, id: $0.id).encoded } : nil
            return .json(UserPage(items: items.map(UserPublic.init), nextCursor: next))
        }

        users.get("/{id:id}", RouteDoc(
            summary: "A user (self or superuser)",
            responses: [.json(.ok, UserPublic.self), unauthorized, .error(.forbidden), .error(.notFound, "User not found")]
        )) { request, context in
            let me = try context.requireUser(request)
            let id = try request.parameters.int64("id")
            guard id == me.id || me.isSuperuser else {
                throw HTTPError(.forbidden, detail: "The user doesn't have enough privileges")
            }
            return .json(UserPublic(try Self.load(id, context)))
        }

        users.patch("/{id:id}", .json(UserUpdate.self), RouteDoc(
            summary: "Change a user (superuser)",
            description: "Deactivating a user or setting their password ends their sessions.",
            responses: [.json(.ok, UserPublic.self), unauthorized, .error(.forbidden), .error(.notFound, "User not found"),
                        .error(.conflict, "Email already registered")]
        )) { request, context, body in
            try Self.requireSuperuser(request, context)
            let id = try request.parameters.int64("id")
            var user = try Self.load(id, context)
            if let email = body.email { user.email = email }
            if body.fullNameGiven { user.fullName = body.fullName }
            if let password = body.password { user.hashedPassword = try context.config.auth.hasher.hash(password) }
            if let active = body.isActive { user.isActive = active }
            if let superuser = body.isSuperuser { user.isSuperuser = superuser }
            let endSessions = body.password != nil || body.isActive == false
            let db = try context.database()
            let saved = try Self.mappingTakenEmail {
                try db.transaction {
                    let saved = try UsersRepository(db).update(user, now: context.now)
                    if endSessions { try SessionsRepository(db).revokeAll(userID: id, now: context.now) }
                    return saved
                }
            }
            return .json(UserPublic(saved))
        }

        users.delete("/{id:id}", RouteDoc(
            summary: "Delete a user (superuser)",
            responses: [.empty(.noContent), unauthorized, .error(.forbidden), .error(.notFound, "User not found")]
        )) { request, context in
            try Self.requireSuperuser(request, context)
            let id = try request.parameters.int64("id")
            guard try UsersRepository(try context.database()).delete(id: id) else { throw HTTPError(.notFound, detail: "User not found") }
            return .noContent
        }
    }

    private static func load(_ id: Int64, _ context: AppContext) throws -> User {
        guard let user = try UsersRepository(try context.database()).find(id: id) else { throw HTTPError(.notFound, detail: "User not found") }
        return user
    }

    @discardableResult
    private static func requireSuperuser(_ request: Request, _ context: AppContext) throws -> CurrentUser {
        let me = try context.requireUser(request)
        guard me.isSuperuser else { throw HTTPError(.forbidden, detail: "The user doesn't have enough privileges") }
        return me
    }

    /// The unique key on the lowered email is the one arbiter of "taken" (no check-then-insert race).
    static func mappingTakenEmail<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch DatabaseError.duplicateKey(key: "users_email_unique") {
            throw HTTPError(.conflict, detail: "Email already registered")
        }
    }
}
