import FoundationEssentials
import MariaDB
import Sodium
import Web

/// The mails of an account (password recovery, email verification): a new token, its hash stored, and the
/// mail queued in the outbox, all on the caller's transaction.
struct AccountMails {
    let settings: MailSettings
    let db: Connection
    let now: Date

    /// A verification mail to the user's current address (sign-up, email change, resend).
    func sendVerification(userID: Int64, email: String) throws {
        let token = try newToken(.verifyEmail, userID: userID, email: email)
        let link = "\(settings.publicURL)/verify-email?token=\(token)"
        try MailRepository(db).enqueue(
            compose(
                to: email, subject: "Verify your email address",
                intro: "Please confirm that this is your email address by opening this link within \(minutes) minutes:",
                link: link, api: "POST /api/v1/auth/verify-email with {\"token\": \"\(token)\"}",
                outro: "If you did not create an account or change its address, ignore this mail."), now: now)
    }

    /// A password recovery: for an active user, a token and a mail; for anyone else the same token row
    /// without a user (it can never be redeemed) and the same outbox statement told not to insert, so that
    /// both cost the same.
    func sendPasswordRecovery(to user: User?, requestedEmail: String) throws {
        let token = try newToken(.resetPassword, userID: user?.id, email: user?.email ?? requestedEmail)
        let mail = compose(
            to: user?.email ?? requestedEmail, subject: "Reset your password",
            intro: "Someone asked to reset the password of your account. To choose a new one, open this link within \(minutes) minutes:",
            link: "\(settings.publicURL)/reset-password?token=\(token)",
            api: "POST /api/v1/auth/reset-password with {\"token\": \"\(token)\", \"new_password\": \"...\"}",
            outro: "Resetting the password ends every session of the account. If it was not you, ignore this mail: your password stays as it is.")
        try MailRepository(db).enqueue(mail, now: now, send: user != nil)
    }

    private var minutes: Int { settings.tokenLifetime / 60 }

    /// 256 random bits; only the SHA-256 is stored.
    private func newToken(_ purpose: EmailTokenPurpose, userID: Int64?, email: String) throws -> String {
        let token = SecureRandom.token(bytes: 32)
        try EmailTokenRepository(db).create(
            hash: sha256(token), purpose: purpose, userID: userID, email: email, now: now, lifetime: settings.tokenLifetime)
        return token
    }

    private func compose(to: String, subject: String, intro: String, link: String, api: String, outro: String) -> OutgoingMail {
        let text = "\(intro)\n\n\(link)\n\nOr, with the API: \(api)\n\n\(outro)\n"
        let html = """
            <!DOCTYPE html>
            <html><body>
            <p>\(htmlEscaped(intro))</p>
            <p><a href="\(htmlEscaped(link))">\(htmlEscaped(subject))</a></p>
            <p>Or, with the API: <code>\(htmlEscaped(api))</code></p>
            <p>\(htmlEscaped(outro))</p>
            </body></html>
            """
        return OutgoingMail(recipient: to, subject: subject, text: text, html: html)
    }
}
