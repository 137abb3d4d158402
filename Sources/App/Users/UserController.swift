import FoundationEssentials
import MariaDB
import Web

/// /api/v1/users: sign-up, the caller's own account, and the superuser's administration.
/// (GET /users/me/posts belongs to the posts controller.)
struct UserController {
    func register(on router: Router<AppContext>) {
        let users = router.group("/api/v1/users", tags: ["users"])
        let unauthorized = ResponseDoc.error(.unauthorized, "Not authenticated")
        let notFound = ResponseDoc.error(.notFound, "User not found")
        let emailTaken = ResponseDoc.error(.conflict, "Email already registered")

        users.post("", .json(UserCreate.self), RouteDoc(
            summary: "Sign up", responses: [.json(.created, UserPublic.self), emailTaken]), use: signUp)
        users.get("/me", .bearer, RouteDoc(
            summary: "The caller's account", responses: [.json(.ok, UserPublic.self), unauthorized]), use: me)
        users.patch("/me", .bearer, .json(UserUpdateMe.self), RouteDoc(
            summary: "Change the caller's email or name", responses: [.json(.ok, UserPublic.self), unauthorized, emailTaken]), use: updateMe)
        users.post("/me/password", .bearer, .json(UpdatePassword.self), RouteDoc(
            summary: "Change the caller's password", description: "Every other session of the caller ends.",
            responses: [.empty(.noContent), .error(.badRequest, "Incorrect password"), unauthorized]), use: changePassword)
        users.delete("/me", .bearer, RouteDoc(
            summary: "Delete the caller's account", description: "Their posts and sessions go with it.",
            responses: [.empty(.noContent), unauthorized, .error(.forbidden, "Superusers cannot delete themselves")]), use: deleteMe)
        users.get("", .superuser, .query(PageQuery.self), RouteDoc(
            summary: "List users (superuser)", responses: [.json(.ok, UserPage.self), unauthorized, .error(.forbidden)]), use: list)
        users.get("/{id:id}", .bearer, RouteDoc(
            summary: "A user (self or superuser)", responses: [.json(.ok, UserPublic.self), unauthorized, .error(.forbidden), notFound]),
            use: read)
        users.patch("/{id:id}", .superuser, .json(UserUpdate.self), RouteDoc(
            summary: "Change a user (superuser)", description: "Deactivating a user or setting their password ends their sessions.",
            responses: [.json(.ok, UserPublic.self), unauthorized, .error(.forbidden), notFound, emailTaken]), use: update)
        users.delete("/{id:id}", .superuser, RouteDoc(
            summary: "Delete a user (superuser)", responses: [.empty(.noContent), unauthorized, .error(.forbidden), notFound]), use: delete)
    }

    func signUp(_ request: Request, _ context: AppContext, _ body: UserCreate) throws -> Response {
        let hash = try context.config.auth.hasher.hash(body.password)
        let user = try Self.mappingTakenEmail {
            try UserRepository(try context.database()).create(email: body.email, hashedPassword: hash, fullName: body.fullName, now: context.now)
        }
        context.logger.info("user signed up", metadata: ["user_id": "\(user.id)"])
        return .json(UserPublic(user), status: .created, headers: [.location: "/api/v1/users/\(user.id)"])
    }

    /// The session check already read the caller's row: no second query.
    func me(_ request: Request, _ context: AppContext, _ caller: CurrentUser) -> Response {
        .json(UserPublic(caller.user))
    }

    func updateMe(_ request: Request, _ context: AppContext, _ caller: CurrentUser, _ body: UserUpdateMe) throws -> Response {
        var user = caller.user
        if let email = body.email { user.email = email }
        if body.fullNameGiven { user.fullName = body.fullName }
        let saved = try Self.mappingTakenEmail { try UserRepository(try context.database()).update(user, now: context.now) }
        return .json(UserPublic(saved))
    }

    func changePassword(_ request: Request, _ context: AppContext, _ caller: CurrentUser, _ body: UpdatePassword) throws -> Response {
        let hasher = context.config.auth.hasher
        guard hasher.verify(body.currentPassword, against: caller.user.hashedPassword) else {
            throw HTTPError(.badRequest, detail: "Incorrect password")
        }
        let hash = try hasher.hash(body.newPassword)
        let db = try context.database()
        try db.transaction {
            try UserRepository(db).updatePassword(id: caller.id, hashedPassword: hash, now: context.now)
            try AuthRepository(db).revokeAll(userID: caller.id, except: caller.sessionID, now: context.now)
        }
        return .noContent
    }

    func deleteMe(_ request: Request, _ context: AppContext, _ caller: CurrentUser) throws -> Response {
        guard !caller.isSuperuser else { throw HTTPError(.forbidden, detail: "Super users are not allowed to delete themselves") }
        try UserRepository(try context.database()).delete(id: caller.id)
        return .noContent
    }

    func list(_ request: Request, _ context: AppContext, _ caller: CurrentUser, _ query: PageQuery) throws -> Response {
        let rows = try UserRepository(try context.database()).page(limit: query.limit + 1, after: query.cursor)
        let page = KeysetPage(rows, limit: query.limit) { ($0.createdAt, $0.id) }
        return .json(UserPage(items: page.items.map(UserPublic.init), nextCursor: page.nextCursor))
    }

    func read(_ request: Request, _ context: AppContext, _ caller: CurrentUser) throws -> Response {
        let id = try request.parameters.int64("id")
        guard id == caller.id || caller.isSuperuser else {
            throw HTTPError(.forbidden, detail: "The user doesn't have enough privileges")
        }
        return .json(UserPublic(id == caller.id ? caller.user : try Self.load(id, context)))
    }

    func update(_ request: Request, _ context: AppContext, _ caller: CurrentUser, _ body: UserUpdate) throws -> Response {
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
                let saved = try UserRepository(db).update(user, now: context.now)
                if endSessions { try AuthRepository(db).revokeAll(userID: id, now: context.now) }
                return saved
            }
        }
        return .json(UserPublic(saved))
    }

    func delete(_ request: Request, _ context: AppContext, _ caller: CurrentUser) throws -> Response {
        let id = try request.parameters.int64("id")
        guard try UserRepository(try context.database()).delete(id: id) else { throw HTTPError(.notFound, detail: "User not found") }
        return .noContent
    }

    private static func load(_ id: Int64, _ context: AppContext) throws -> User {
        guard let user = try UserRepository(try context.database()).find(id: id) else { throw HTTPError(.notFound, detail: "User not found") }
        return user
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
