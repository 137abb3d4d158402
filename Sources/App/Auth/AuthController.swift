import FoundationEssentials
import MariaDB
import Sodium
import Web

/// /api/v1/auth: login (OAuth2 password form), refresh (rotating, with reuse detection), logout.
struct AuthController {
    func register(on router: Router<AppContext>) {
        let auth = router.group("/api/v1/auth", tags: ["auth"], sensitive: true)
        auth.post("/login", .form(LoginForm.self), RouteDoc(
            summary: "Log in with email and password",
            responses: [.json(.ok, Token.self), .error(.unauthorized, "Incorrect email or password"),
                        .error(.forbidden, "Inactive user"), .error(.tooManyRequests, "Too many failed logins", headers: [("Retry-After", "Seconds to wait")])]),
            use: login)
        auth.post("/refresh", .json(RefreshRequest.self), RouteDoc(
            summary: "Trade a refresh token for a new pair",
            responses: [.json(.ok, Token.self), .error(.unauthorized, "Unknown, expired or reused refresh token")]), use: refresh)
        auth.post("/logout", .bearer, RouteDoc(
            summary: "End the session", responses: [.empty(.noContent, "The session's access and refresh tokens stop working")]), use: logout)
    }

    func logout(_ request: Request, _ context: AppContext, _ caller: CurrentUser) throws -> Response {
        try AuthRepository(try context.database()).revoke(sessionID: caller.sessionID, now: context.now)
        return .noContent
    }

    func login(_ request: Request, _ context: AppContext, _ form: LoginForm) throws -> Response {
        let settings = context.config.auth!
        let db = try context.database()
        let email = String(form.username.prefix(254))
        let address = String(request.remoteAddress.prefix(45))
        let auth = AuthRepository(db)
        let windowStart = context.now.addingTimeInterval(-TimeInterval(settings.loginWindow))

        let attempt = try auth.beginLoginAttempt(email: email, address: address, now: context.now)
        let recent = try auth.loginAttempts(email: email, address: address, since: windowStart)
        if recent.count > settings.loginMaxFailures, let oldest = recent.oldest {
            try auth.withdrawLoginAttempt(id: attempt)
            // Whole seconds until the oldest failure leaves the window (rounded to ms first: microsecond noise).
            let remaining = (oldest.addingTimeInterval(TimeInterval(settings.loginWindow)).timeIntervalSince(context.now) * 1000).rounded() / 1000
            let wait = max(1, Int(remaining.rounded(.up)))
            throw HTTPError(.tooManyRequests, detail: "Too many failed login attempts, try again later", headers: [.retryAfter: "\(wait)"])
        }

        let users = UserRepository(db)
        let user = try users.find(email: email)
        // An unknown email costs a hash too, so that both failures take about the same time.
        let verified = user.map { settings.hasher.verify(form.password, against: $0.hashedPassword) } ?? settings.hasher.verifyDummy(form.password)
        guard let user, verified else {
            context.logger.info("login failed")  // the attempt's row stays: it is the failure
            throw HTTPError.unauthorized("Incorrect email or password")
        }
        // The right password clears the count even for an inactive account: it was not a guess.
        guard user.isActive else {
            try auth.clearLoginAttempts(email: email, address: address, olderThan: windowStart)
            throw HTTPError(.forbidden, detail: "Inactive user")
        }

        if settings.hasher.needsRehash(user.hashedPassword) {
            try users.updatePassword(id: user.id, hashedPassword: try settings.hasher.hash(form.password), now: context.now)
        }
        // One commit for the cleared count, the session and its refresh token: each commit waits for the
        // database's log flush, and a worker waiting is a core not hashing.
        let token = try db.transaction {
            try auth.clearLoginAttempts(email: email, address: address, olderThan: windowStart)
            let sessionID = try auth.createSession(userID: user.id, now: context.now, maxAge: settings.sessionMaxAge)
            return try TokenIssuer(settings: settings, db: db).issue(userID: user.id, sessionID: sessionID, now: context.now)
        }
        context.logger.info("login", metadata: ["user_id": "\(user.id)"])
        return .json(token)
    }

    func refresh(_ request: Request, _ context: AppContext, _ body: RefreshRequest) throws -> Response {
        let settings = context.config.auth!
        let db = try context.database()
        let hash = sha256(body.refreshToken)
        let invalid = HTTPError.unauthorized("Invalid refresh token")
        // Reuse revokes the session, and that must stick even though the request fails: decide inside the
        // transaction, act on the verdict after it.
        enum Outcome { case issued(Token), reused(Int64), rejected }
        let outcome: Outcome = try db.transaction {
            let sessions = AuthRepository(db)
            guard let record = try sessions.refreshTokenForUpdate(hash: hash) else { return .rejected }
            if record.rotatedAt != nil {
                try sessions.revoke(sessionID: record.sessionID, now: context.now)
                return .reused(record.sessionID)
            }
            guard record.sessionRevokedAt == nil, record.expiresAt > context.now, record.sessionExpiresAt > context.now,
                  try UserRepository(db).find(id: record.userID)?.isActive == true,
                  try sessions.markRotated(hash: hash, now: context.now)
            else { return .rejected }
            return .issued(try TokenIssuer(settings: settings, db: db).issue(userID: record.userID, sessionID: record.sessionID, now: context.now))
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
