import FoundationEssentials
import MariaDB
import Web

/// /api/v1/users: sign-up, the caller's own account, and administration (`users:read`, `users:admin`).
/// (GET /users/me/posts belongs to the posts controller.)
struct UserController {
    func register(on router: Router<AppContext>) {
        let users = router.group("/api/v1/users", tags: ["users"], responses: [.rateLimited])
        let unauthorized = ResponseDoc.error(.unauthorized, "Not authenticated")
        let notFound = ResponseDoc.error(.notFound, "User not found")
        let emailTaken = ResponseDoc.error(.conflict, "Email already registered")

        users.post(
            "", .json(UserCreate.self),
            RouteDoc(
                summary: "Sign up",
                responses: [
                    .json(
                        .created, UserPublic.self,
                        headers: [
                            ("Location", "URL of the new user"),
                            ("Idempotent-Replayed", "`true` when this is the stored answer to an earlier request with the same Idempotency-Key")
                        ]), emailTaken
                ] + IdempotentCreation.responses, headers: [IdempotentCreation.headerDoc]), use: signUp)
        users.get(
            "/me", .bearer,
            RouteDoc(
                summary: "The caller's account", responses: [.json(.ok, UserPublic.self), unauthorized]), use: me)
        users.patch(
            "/me", .bearer, .json(UserUpdateMe.self),
            RouteDoc(
                summary: "Change the caller's email or name", responses: [.json(.ok, UserPublic.self), unauthorized, emailTaken]), use: updateMe)
        users.post(
            "/me/password", .bearer, .json(UpdatePassword.self),
            RouteDoc(
                summary: "Change the caller's password", description: "Every other session of the caller ends.",
                responses: [
                    .empty(.noContent), .error(.badRequest, "Incorrect password"), unauthorized,
                    .error(.tooManyRequests, "Too many wrong passwords", headers: [("Retry-After", "Seconds to wait")])
                ]), use: changePassword)
        users.delete(
            "/me", .bearer,
            RouteDoc(
                summary: "Delete the caller's account", description: "Their posts and sessions go with it.",
                responses: [.empty(.noContent), unauthorized, .error(.forbidden, "Superusers cannot delete themselves")]), use: deleteMe)
        users.get(
            "", .permission(.usersRead), .query(PageQuery.self),
            RouteDoc(
                summary: "List users (users:read)", responses: [.json(.ok, UserPage.self), unauthorized, .error(.forbidden)]), use: list)
        users.get(
            "/{id:id}", .bearer,
            RouteDoc(
                summary: "A user (self, or users:read)", responses: [.json(.ok, UserPublic.self), unauthorized, .error(.forbidden), notFound]),
            use: read)
        users.patch(
            "/{id:id}", .permission(.usersAdmin), .json(UserUpdate.self),
            RouteDoc(
                summary: "Change a user (users:admin)",
                description: "Deactivating a user or setting their password ends their sessions; `is_superuser` is the admin role.",
                responses: [.json(.ok, UserPublic.self), unauthorized, .error(.forbidden), notFound, emailTaken]), use: update)
        users.delete(
            "/{id:id}", .permission(.usersAdmin),
            RouteDoc(
                summary: "Delete a user (users:admin)", responses: [.empty(.noContent), unauthorized, .error(.forbidden), notFound]), use: delete)
    }

    func signUp(_ request: Request, _ context: AppContext, _ body: UserCreate) throws -> Response {
        try IdempotentCreation.address(request).run(request, context) { record in
            let db = try context.database()
            let users = UserRepository(db)
            // A taken email answers before the Argon2 hash: a 409 must not cost the pool a hash. (The 409 says the
            // address is registered either way; the unique key still settles a race between two sign-ups.)
            guard try users.find(email: body.email) == nil else { throw HTTPError(.conflict, detail: "Email already registered") }
            let hash = try context.passwords.hash(body.password)
            // The account, its verification mail and the idempotency key's response in one transaction.
            let user = try Self.mappingTakenEmail {
                try db.transaction {
                    let user = try users.create(email: body.email, hashedPassword: hash, fullName: body.fullName, now: context.now)
                    try AccountMails(settings: context.config.mail, db: db, now: context.now).sendVerification(userID: user.id, email: user.email)
                    try record(Self.signedUp(user))
                    return user
                }
            }
            context.logger.info("user signed up", metadata: ["user_id": "\(user.id)"])
            return Self.signedUp(user)
        }
    }

    private static func signedUp(_ user: User) -> Response {
        .json(UserPublic(user), status: .created, headers: [.location: "/api/v1/users/\(user.id)"])
    }

    /// The session check already read the caller's row: no second query.
    func me(_ request: Request, _ context: AppContext, _ caller: CurrentUser) -> Response {
        .json(UserPublic(caller.user))
    }

    func updateMe(_ request: Request, _ context: AppContext, _ caller: CurrentUser, _ body: UserUpdateMe) throws -> Response {
        let changes = UserChanges(email: body.email, fullName: body.fullNameGiven ? .some(body.fullName) : nil)
        let db = try context.database()
        return .json(UserPublic(try db.transaction { try Self.saving(changes, of: caller.user, context) }))
    }

    func changePassword(_ request: Request, _ context: AppContext, _ caller: CurrentUser, _ body: UpdatePassword) throws -> Response {
        let passwords = context.passwords
        let db = try context.database()
        // A stolen access token must not become a way to guess the password: the check spends login's budgets.
        let throttle = LoginThrottle(
            context.config.auth, AuthRepository(db), now: context.now, email: caller.user.email,
            remoteAddress: request.remoteAddress)
        guard try throttle.guess({ try passwords.verify(body.currentPassword, against: caller.user.hashedPassword) }) else {
            throw HTTPError(.badRequest, detail: "Incorrect password")
        }
        try throttle.succeeded()
        let hash = try passwords.hash(body.newPassword)
        // Written only over the hash that was verified: a password set meanwhile (a reset, an admin) wins.
        let changed = try db.transaction {
            guard
                try UserRepository(db).setPassword(
                    id: caller.id, hashedPassword: hash, ifCurrent: caller.user.hashedPassword,
                    now: context.now)
            else { return false }
            let sessions = AuthRepository(db)
            try sessions.revokeAll(userID: caller.id, except: caller.sessionID, now: context.now)
            try sessions.adoptCurrentGeneration(sessionID: caller.sessionID)
            return true
        }
        guard changed else { throw HTTPError(.badRequest, detail: "Incorrect password") }
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
        if id != caller.id { try caller.require(.usersRead) }
        return .json(UserPublic(id == caller.id ? caller.user : try Self.load(id, context)))
    }

    func update(_ request: Request, _ context: AppContext, _ caller: CurrentUser, _ body: UserUpdate) throws -> Response {
        let id = try request.parameters.int64("id")
        let user = try Self.load(id, context)
        // Hashed before the transaction (an Argon2 hash holds no lock), written only over the hash it replaces.
        let hash = try body.password.map { try context.passwords.hash($0) }
        let changes = UserChanges(
            email: body.email, fullName: body.fullNameGiven ? .some(body.fullName) : nil,
            isActive: body.isActive, isSuperuser: body.isSuperuser)
        let db = try context.database()
        let saved = try db.transaction {
            if let hash, try !UserRepository(db).setPassword(id: id, hashedPassword: hash, ifCurrent: user.hashedPassword, now: context.now) {
                throw HTTPError(.conflict, detail: "The user's password was changed meanwhile; try again")
            }
            let saved = try Self.saving(changes, of: user, context)
            if hash != nil || body.isActive == false { try AuthRepository(db).revokeAll(userID: id, now: context.now) }
            return saved
        }
        return .json(UserPublic(saved))
    }

    func delete(_ request: Request, _ context: AppContext, _ caller: CurrentUser) throws -> Response {
        let id = try request.parameters.int64("id")
        guard id != caller.id else { throw HTTPError(.forbidden, detail: "Super users are not allowed to delete themselves") }
        guard try UserRepository(try context.database()).delete(id: id) else { throw HTTPError(.notFound, detail: "User not found") }
        return .noContent
    }

    private static func load(_ id: Int64, _ context: AppContext) throws -> User {
        guard let user = try UserRepository(try context.database()).find(id: id) else { throw HTTPError(.notFound, detail: "User not found") }
        return user
    }

    /// Writes the changed columns only, so a concurrent change of another column is not undone. A new
    /// address (not just its case) is unverified and gets a verification mail (call inside a transaction).
    private static func saving(_ changes: UserChanges, of user: User, _ context: AppContext) throws -> User {
        let db = try context.database()
        var changes = changes
        let newEmail = changes.email.flatMap { $0.lowercased() == user.email.lowercased() ? nil : $0 }
        if newEmail != nil { changes.emailVerified = false }
        guard let saved = try mappingTakenEmail({ try UserRepository(db).update(id: user.id, changes, now: context.now) }) else {
            throw HTTPError(.notFound, detail: "User not found")
        }
        if let newEmail { try AccountMails(settings: context.config.mail, db: db, now: context.now).sendVerification(userID: user.id, email: newEmail) }
        return saved
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
