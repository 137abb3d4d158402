import App
import Foundation
import HTTPTypes
import MariaDB
import Sodium
import TestSupport
import Testing
import Web

/// Password recovery, reset and email verification, in-process on a real MariaDB: what the API answers and
/// what it writes (token rows, outbox mails). Delivery over SMTP is MailDeliveryTests' (end to end).
@Suite(.timeLimit(.minutes(2)))
struct AccountMailTests {
    /// The newest queued mail to `recipient`: its subject and plain-text body.
    private func lastMail(_ app: TestApp, to recipient: String) throws -> (subject: String, text: String)? {
        guard
            let row = try app.connection.query(
                "SELECT subject, text_body FROM mail_outbox WHERE recipient = ? ORDER BY id DESC LIMIT 1", [.string(recipient)]
            ).first
        else { return nil }
        return (try row.get("subject"), try row.get("text_body"))
    }

    /// The token in the newest mail to `recipient`.
    private func linkToken(_ app: TestApp, to recipient: String) throws -> String {
        guard let mail = try lastMail(app, to: recipient), let token = mailedToken(mail.text) else {
            throw TestFailure("no mail with a token to \(recipient)")
        }
        return token
    }

    private func mailCount(_ app: TestApp, to recipient: String) throws -> Int {
        try app.connection.query("SELECT COUNT(*) AS n FROM mail_outbox WHERE recipient = ?", [.string(recipient)]).first!.get("n")
    }

    private func recover(_ app: TestApp, _ email: String) throws -> TestResponse {
        try app.client().execute(.post, "/api/v1/auth/password-recovery", json: ["email": .string(email)])
    }

    private func reset(_ app: TestApp, _ token: String, _ password: String) throws -> TestResponse {
        try app.client().execute(.post, "/api/v1/auth/reset-password", json: ["token": .string(token), "new_password": .string(password)])
    }

    private func verify(_ app: TestApp, _ token: String) throws -> TestResponse {
        try app.client().execute(.post, "/api/v1/auth/verify-email", json: ["token": .string(token)])
    }

    @Test func recoveryAnswersAlikeForRegisteredAndUnknownAndMailsOnlyTheRegistered() throws {
        let app = try TestApp()
        try app.makeUser(email: "ada@example.com")
        try app.makeUser(email: "gone@example.com", active: false)
        let answers = try ["ada@example.com", "nobody@example.com", "gone@example.com"].map { try recover(app, $0) }
        for answer in answers {
            #expect(answer.status == .accepted)
            #expect(answer.text == #"{"detail":"If that email is registered, we sent a password recovery link"}"#)
        }
        #expect(try mailCount(app, to: "ada@example.com") == 1)
        #expect(try mailCount(app, to: "nobody@example.com") == 0)
        #expect(try mailCount(app, to: "gone@example.com") == 0)
        // The same write for each: one token row, only the registered one redeemable.
        let rows = try app.connection.query("SELECT user_id, token_hash FROM email_tokens ORDER BY created_at")
        #expect(rows.count == 3)
        let mail = try #require(try lastMail(app, to: "ada@example.com"))
        #expect(mail.subject == "Reset your password")
        let token = try #require(mailedToken(mail.text))
        #expect(token.count >= 43)  // 32 random bytes, base64url
        // Only the hash is stored.
        let stored = try rows.map { (try $0.get("token_hash") as [UInt8]) }
        #expect(!stored.contains(Array(token.utf8)) && stored.contains(sha256(token)))
        #expect(try recover(app, "not an email").status.code == 422)
    }

    @Test func resetSetsThePasswordSpendsTheTokenAndEndsEverySession() throws {
        let app = try TestApp()
        let id = try app.makeUser(email: "ada@example.com")
        let session = try app.tokens("ada@example.com")
        #expect(try recover(app, "ADA@example.com").status == .accepted)
        let token = try linkToken(app, to: "ada@example.com")

        #expect(try reset(app, token, "short").status.code == 422)
        let done = try reset(app, token, "a new long password")
        #expect(done.status == .noContent, "\(done.text)")
        #expect(try app.me(session.access).status == .unauthorized)
        #expect(try app.refresh(session.refresh).status == .unauthorized)
        #expect(try app.login("ada@example.com").status == .unauthorized)
        #expect(try app.login("ada@example.com", "a new long password").status == .ok)
        // The reset link reached the mailbox: the address is verified.
        #expect(try UserRepository(app.connection).find(id: id)?.emailVerified == true)

        let again = try reset(app, token, "yet another password")
        #expect(again.status == .badRequest && again.text == #"{"detail":"Invalid token"}"#)
        #expect(try reset(app, "made-up", "yet another password").status == .badRequest)
        #expect(!app.logs.text.contains(token))
    }

    @Test func aResetSpendsTheUsersOtherResetLinks() throws {
        let app = try TestApp()
        try app.makeUser(email: "ada@example.com")
        _ = try recover(app, "ada@example.com")
        let first = try linkToken(app, to: "ada@example.com")
        _ = try recover(app, "ada@example.com")
        let second = try linkToken(app, to: "ada@example.com")
        #expect(first != second)
        #expect(try reset(app, second, "a new long password").status == .noContent)
        #expect(try reset(app, first, "another long password").status == .badRequest)
    }

    @Test func tokensExpireAfterThirtyMinutes() throws {
        var now = Date()
        let app = try TestApp(clock: { now })
        try app.makeUser(email: "ada@example.com")
        _ = try recover(app, "ada@example.com")
        let token = try linkToken(app, to: "ada@example.com")
        now = now.addingTimeInterval(30 * 60 + 1)
        #expect(try reset(app, token, "a new long password").status == .badRequest)
    }

    @Test func signUpMailsAVerificationAndTheTokenVerifiesOnce() throws {
        let app = try TestApp()
        let created = try app.client().execute(
            .post, "/api/v1/users", json: ["email": "ada@example.com", "password": .string(testPassword)])
        #expect(created.status == .created)
        #expect(try created.json()["email_verified"] == .bool(false))
        let mail = try #require(try lastMail(app, to: "ada@example.com"))
        #expect(mail.subject == "Verify your email address")
        let token = try #require(mailedToken(mail.text))

        // Each kind of token is usable only for its purpose.
        #expect(try reset(app, token, "a new long password").status == .badRequest)
        #expect(try verify(app, token).status == .noContent)
        let access = try app.tokens("ada@example.com").access
        #expect(try app.me(access).json()["email_verified"] == .bool(true))
        #expect(try verify(app, token).status == .badRequest)

        _ = try recover(app, "ada@example.com")
        let resetToken = try linkToken(app, to: "ada@example.com")
        #expect(try verify(app, resetToken).status == .badRequest)
    }

    @Test func anEmailChangeUnverifiesAndMailsTheNewAddressOnly() throws {
        let app = try TestApp()
        let id = try app.makeUser(email: "ada@example.com")
        _ = try UserRepository(app.connection).update(id: id, UserChanges(emailVerified: true), now: Date())
        let access = try app.accessToken(for: id)
        // The resend limit counts from the last link: this one is made before the change.
        #expect(try app.client().execute(.post, "/api/v1/users/me/verify-email", headers: bearer(access)).status == .accepted)
        let oldLink = try linkToken(app, to: "ada@example.com")

        let sameAddress = try app.client().execute(.patch, "/api/v1/users/me", json: ["email": "ADA@example.com"], headers: bearer(access))
        #expect(try sameAddress.json()["email_verified"] == .bool(true))  // only the case changed
        let changed = try app.client().execute(.patch, "/api/v1/users/me", json: ["email": "lovelace@example.com"], headers: bearer(access))
        #expect(changed.status == .ok)
        #expect(try changed.json()["email_verified"] == .bool(false))
        #expect(try mailCount(app, to: "lovelace@example.com") == 1)
        // A link sent to the old address no longer verifies anything.
        #expect(try verify(app, oldLink).status == .badRequest)
        let newLink = try linkToken(app, to: "lovelace@example.com")
        #expect(try verify(app, newLink).status == .noContent)
        #expect(try app.me(access).json()["email_verified"] == .bool(true))
    }

    @Test func resendIsLimitedToOneAMinute() throws {
        var now = Date()
        let app = try TestApp(clock: { now })
        let id = try app.makeUser(email: "ada@example.com")
        let access = try app.accessToken(for: id)
        let resend = { try app.client().execute(.post, "/api/v1/users/me/verify-email", headers: bearer(access)) }
        #expect(try resend().status == .accepted)
        now = now.addingTimeInterval(20)
        let limited = try resend()
        #expect(limited.status == .tooManyRequests)
        // 40 s left, rounded up (the stored time keeps microseconds, the clock has more).
        #expect(["40", "41"].contains(limited.headers[.retryAfter]))
        now = now.addingTimeInterval(41)
        #expect(try resend().status == .accepted)
        #expect(try mailCount(app, to: "ada@example.com") == 2)
        #expect(try app.client().execute(.post, "/api/v1/users/me/verify-email").status == .unauthorized)
    }

    @Test func loginCanRequireAVerifiedEmail() throws {
        let app = try TestApp(environment: ["PERCH_REQUIRE_VERIFIED_EMAIL": "true"])
        _ = try app.client().execute(.post, "/api/v1/users", json: ["email": "ada@example.com", "password": .string(testPassword)])
        let refused = try app.login("ada@example.com")
        #expect(refused.status == .forbidden && refused.text == #"{"detail":"Email not verified"}"#)
        #expect(try app.login("ada@example.com", "wrong password").status == .unauthorized)
        let token = try linkToken(app, to: "ada@example.com")
        #expect(try verify(app, token).status == .noContent)
        #expect(try app.login("ada@example.com").status == .ok)
        // Off by default.
        let relaxed = try TestApp()
        try relaxed.makeUser(email: "bob@example.com")
        #expect(try relaxed.login("bob@example.com").status == .ok)
    }
}
