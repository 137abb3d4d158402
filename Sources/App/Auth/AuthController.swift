import FoundationEssentials
import MariaDB
import Sodium
import Web

/// /api/v1/auth: login (OAuth2 password form), refresh (rotating, with reuse detection), logout, logout-all.
struct AuthController {
    func register(on router: Router<AppContext>) {
        let auth = router.group("/api/v1/auth", tags: ["auth"], sensitive: true, responses: [.rateLimited])
        auth.post(
            "/login", .form(LoginForm.self),
            RouteDoc(
                summary: "Log in with email and password",
                responses: [
                    .json(.ok, Token.self), .error(.unauthorized, "Incorrect email or password"),
                    .error(.forbidden, "Inactive user, or email not verified (when PERCH_REQUIRE_VERIFIED_EMAIL is on)"),
                    .error(.tooManyRequests, "Too many failed logins", headers: [("Retry-After", "Seconds to wait")])
                ]),
            use: login)
        auth.post(
            "/refresh", .json(RefreshRequest.self),
            RouteDoc(
                summary: "Trade a refresh token for a new pair",
                responses: [.json(.ok, Token.self), .error(.unauthorized, "Unknown, expired or reused refresh token")]), use: refresh)
        auth.post(
            "/logout", .bearer,
            RouteDoc(
                summary: "End the session", responses: [.empty(.noContent, "The session's access and refresh tokens stop working")]), use: logout)
        auth.post(
            "/logout-all", .bearer,
            RouteDoc(
                summary: "End every session of the caller",
                responses: [.empty(.noContent, "Every session's access and refresh tokens stop working, this one's included")]), use: logoutAll)
    }

    func logoutAll(_ request: Request, _ context: AppContext, _ caller: CurrentUser) throws -> Response {
        try AuthRepository(try context.database()).revokeAll(userID: caller.id, now: context.now)
        return .noContent
    }

    func logout(_ request: Request, _ context: AppContext, _ caller: CurrentUser) throws -> Response {
        try AuthRepository(try context.database()).revoke(sessionID: caller.sessionID, now: context.now)
        return .noContent
    }

    func login(_ request: Request, _ context: AppContext, _ form: LoginForm) throws -> Response {
        let settings = context.config.auth!
        let db = try context.database()
        let email = String(form.username.prefix(254))
        let auth = AuthRepository(db)
        let throttle = LoginThrottle(settings, auth, now: context.now, email: email, remoteAddress: request.remoteAddress)
        let users = UserRepository(db)
        let passwords = context.passwords
        var user: User?
        let verified = try throttle.guess {
            user = try users.find(email: email)
            // An unknown email costs a hash too, so that both failures take about the same time.
            return try user.map { try passwords.verify(form.password, against: $0.hashedPassword) } ?? passwords.verifyDummy(form.password)
        }
        guard let user, verified else {
            context.logger.info("login failed")  // the attempt's row stays: it is the failure
            throw HTTPError.unauthorized("Incorrect email or password")
        }
        // The right password clears the count even for an inactive account: it was not a guess.
        guard user.isActive else {
            try throttle.succeeded()
            throw HTTPError(.forbidden, detail: "Inactive user")
        }
        guard user.emailVerified || !context.config.mail.requireVerifiedEmail else {
            try throttle.succeeded()
            throw HTTPError(.forbidden, detail: "Email not verified")
        }

        if passwords.needsRehash(user.hashedPassword) {
            try users.rehashPassword(id: user.id, hashedPassword: try passwords.hash(form.password), ifCurrent: user.hashedPassword)
        }
        // One commit for the cleared count, the session and its refresh token: each commit waits for the
        // database's log flush, and a worker waiting is a core not hashing.
        let token = try db.transaction {
            try throttle.succeeded()
            let sessionID = try auth.createSession(
                userID: user.id, credentialGeneration: user.credentialGeneration, scope: form.scope,
                now: context.now, maxAge: settings.sessionMaxAge, userAgent: request.headerFields[.userAgent])
            return try TokenIssuer(settings: settings, db: db).issue(
                userID: user.id, sessionID: sessionID, permissions: Self.grant(asked: form.scope, of: user), now: context.now)
        }
        context.logger.info("login", metadata: ["user_id": "\(user.id)"])
        return .json(token)
    }

    /// OAuth2's narrowing: what was asked for (everything when nothing was) and the user has now.
    static func grant(asked scope: String?, of user: User) -> Permissions {
        guard let scope else { return user.permissions }
        return Permissions(scope: scope).intersection(user.permissions)
    }

    func refresh(_ request: Request, _ context: AppContext, _ body: RefreshRequest) throws -> Response {
        let settings = context.config.auth!
        let db = try context.database()
        let hash = sha256(body.refreshToken)
        let invalid = HTTPError.unauthorized("Invalid refresh token")
        // Reuse revokes the session, and that must stick even though the request fails: decide inside the
        // transaction, act on the verdict after it.
        enum Outcome {
            case issued(Token)
            case reused(Int64)
            case rejected
        }
        let outcome: Outcome = try db.transaction {
            let sessions = AuthRepository(db)
            guard let record = try sessions.refreshTokenForUpdate(hash: hash) else { return .rejected }
            if record.rotatedAt != nil {
                try sessions.revoke(sessionID: record.sessionID, now: context.now)
                return .reused(record.sessionID)
            }
            guard record.sessionRevokedAt == nil, record.expiresAt > context.now, record.sessionExpiresAt > context.now,
                let user = try UserRepository(db).find(id: record.userID), user.isActive,
                user.credentialGeneration == record.sessionCredentialGeneration,
                try sessions.markRotated(hash: hash, now: context.now)
            else { return .rejected }
            return .issued(
                try TokenIssuer(settings: settings, db: db).issue(
                    userID: record.userID, sessionID: record.sessionID, permissions: Self.grant(asked: record.sessionScope, of: user),
                    now: context.now))
        }
        switch outcome {
        case .issued(let token):
            return .json(token)
        case .reused(let sessionID):
            context.logger.warning("refresh token reused, session revoked", metadata: ["session_id": "\(sessionID)"])
            throw invalid
        case .rejected:
            throw invalid
        }
    }
}
