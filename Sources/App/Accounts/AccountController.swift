import FoundationEssentials
import MariaDB
import Sodium
import Web

/// Password recovery and email verification: tokens sent by mail through the outbox (`perch mail-sender`
/// delivers them; a request never waits for SMTP).
struct AccountController {
    func register(on router: Router<AppContext>) {
        let auth = router.group("/api/v1/auth", tags: ["auth"], sensitive: true, responses: [.rateLimited])
        let invalidToken = ResponseDoc.error(.badRequest, "Invalid token")
        auth.post(
            "/password-recovery", .json(PasswordRecoveryRequest.self),
            RouteDoc(
                summary: "Mail a password reset link",
                description: "The same answer, in about the same time, whether or not the email is registered.",
                responses: [.json(.accepted, MailAccepted.self)]), use: recoverPassword)
        auth.post(
            "/reset-password", .json(ResetPasswordRequest.self),
            RouteDoc(
                summary: "Set a new password with a mailed token", description: "The token is spent and every session of the user ends.",
                responses: [
                    .empty(.noContent), invalidToken, .error(.conflict, "The password was changed meanwhile; try again")
                ]), use: resetPassword)
        auth.post(
            "/verify-email", .json(VerifyEmailRequest.self),
            RouteDoc(summary: "Verify the email address with a mailed token", responses: [.empty(.noContent), invalidToken]), use: verifyEmail)
        router.group("/api/v1/users", tags: ["users"], responses: [.rateLimited]).post(
            "/me/verify-email", .bearer,
            RouteDoc(
                summary: "Mail a new verification link", description: "At most one a minute per user.",
                responses: [
                    .json(.accepted, MailAccepted.self), .error(.unauthorized, "Not authenticated"),
                    .error(.tooManyRequests, "Asked less than a minute ago", headers: [("Retry-After", "Seconds to wait")])
                ]), use: resendVerification)
    }

    func recoverPassword(_ request: Request, _ context: AppContext, _ body: PasswordRecoveryRequest) throws -> Response {
        let db = try context.database()
        // An unknown or inactive address takes the same way: the same reads, the same token row, one commit.
        let user = try UserRepository(db).find(email: body.email).flatMap { $0.isActive ? $0 : nil }
        try db.transaction {
            try AccountMails(settings: context.config.mail, db: db, now: context.now).sendPasswordRecovery(to: user, requestedEmail: body.email)
        }
        if let user { context.logger.info("password recovery mail queued", metadata: ["user_id": "\(user.id)"]) }
        return .json(MailAccepted(detail: "If that email is registered, we sent a password recovery link"), status: .accepted)
    }

    func resetPassword(_ request: Request, _ context: AppContext, _ body: ResetPasswordRequest) throws -> Response {
        let db = try context.database()
        let hash = sha256(body.token)
        let tokens = EmailTokenRepository(db)
        let invalid = HTTPError(.badRequest, detail: "Invalid token")
        // A look before the Argon2 hash, so that a made-up token costs the pool no hash.
        guard try tokens.live(hash: hash, purpose: .resetPassword, now: context.now) != nil else { throw invalid }
        let newHash = try context.passwords.hash(body.newPassword)
        let userID: Int64 = try db.transaction {
            let users = UserRepository(db)
            guard let token = try tokens.redeem(hash: hash, purpose: .resetPassword, now: context.now),
                let user = try users.find(id: token.userID), user.isActive
            else { throw invalid }
            // Bumps the credential generation: every session of the user ends.
            guard try users.setPassword(id: user.id, hashedPassword: newHash, ifCurrent: user.hashedPassword, now: context.now) else {
                throw HTTPError(.conflict, detail: "The password was changed meanwhile; try again")
            }
            try tokens.spendAll(userID: user.id, purpose: .resetPassword, now: context.now)
            try AuthRepository(db).revokeAll(userID: user.id, now: context.now)
            // The link reached the user's mailbox: that proves the address it was sent to.
            if !user.emailVerified, token.email.lowercased() == user.email.lowercased() {
                _ = try users.update(id: user.id, UserChanges(emailVerified: true), now: context.now)
            }
            return user.id
        }
        context.logger.info("password reset, every session ended", metadata: ["user_id": "\(userID)"])
        return .noContent
    }

    func verifyEmail(_ request: Request, _ context: AppContext, _ body: VerifyEmailRequest) throws -> Response {
        let db = try context.database()
        let hash = sha256(body.token)
        try db.transaction {
            let users = UserRepository(db)
            // A verification holds only for the address it was sent to: after an email change, older links fail.
            guard let token = try EmailTokenRepository(db).redeem(hash: hash, purpose: .verifyEmail, now: context.now),
                let user = try users.find(id: token.userID), token.email.lowercased() == user.email.lowercased()
            else { throw HTTPError(.badRequest, detail: "Invalid token") }
            if !user.emailVerified { _ = try users.update(id: user.id, UserChanges(emailVerified: true), now: context.now) }
        }
        return .noContent
    }

    func resendVerification(_ request: Request, _ context: AppContext, _ caller: CurrentUser) throws -> Response {
        let db = try context.database()
        try db.transaction {
            if let newest = try EmailTokenRepository(db).newestLockingUser(userID: caller.id, purpose: .verifyEmail) {
                let wait = 60 - context.now.timeIntervalSince(newest)
                if wait > 0 {
                    throw HTTPError(.tooManyRequests, detail: "Too many requests", headers: [.retryAfter: "\(Int(wait.rounded(.up)))"])
                }
            }
            try AccountMails(settings: context.config.mail, db: db, now: context.now).sendVerification(userID: caller.id, email: caller.user.email)
        }
        return .json(MailAccepted(detail: "We sent a verification link to your email address"), status: .accepted)
    }
}
