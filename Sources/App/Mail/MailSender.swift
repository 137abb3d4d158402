import FoundationEssentials
import Glibc
import Logging
import MariaDB

/// `perch mail-sender`: delivers the outbox. One mail at a time, each in its own transaction that holds the
/// row (SELECT ... FOR UPDATE SKIP LOCKED) while it is handed to the relay, so any number of senders, on any
/// number of hosts, share the outbox and none sends a mail another one is sending. A failed delivery is tried
/// again with exponential backoff; after `PERCH_MAIL_MAX_ATTEMPTS` the mail is kept with status `failed` and
/// logged as an error. The one duplicate left possible: the relay took a mail and the database was lost
/// before the row was marked (at-least-once delivery; the Message-ID stays the same, so receivers can tell).
/// TERM or INT stops it after the mail in hand.
public final class MailSender {
    private let settings: MailSettings
    private let db: Connection
    private let smtp: SMTPClient
    private let logger: Logger
    private var lastCleanup = Date.distantPast

    public init(config: AppConfiguration, logger: Logger) throws {
        guard let database = config.database else { throw AppConfigurationError(problems: ["PERCH_DATABASE_URL: required by the mail sender"]) }
        settings = config.mail
        db = Connection(configuration: database, logger: logger)
        smtp = try SMTPClient(settings: config.mail)
        self.logger = logger
    }

    /// Runs until TERM or INT; returns the exit status.
    public func run() -> Int32 {
        MailSenderSignals.install()
        logger.info("mail sender started", metadata: ["relay": "\(Self.redacted(settings.smtpURL ?? ""))"])
        while !MailSenderSignals.stopRequested {
            do {
                if try !deliverNext() {
                    try cleanUpIfDue()
                    pause(settings.pollInterval)
                }
            } catch {
                logger.warning("mail sender: database error, trying again", metadata: ["error": "\(error)"])
                pause(max(settings.pollInterval, 1))
            }
        }
        db.close()
        logger.info("mail sender stopped")
        return 0
    }

    /// Claims the oldest due mail and tries it once; false when nothing was due.
    func deliverNext() throws -> Bool {
        // maxAttempts 1: the body talks to the relay, so it must never run twice for one claim.
        try db.transaction(maxAttempts: 1) {
            let outbox = MailRepository(db)
            guard let claimed = try outbox.claimDue(now: Date()) else { return false }
            let message = claimed.mail.message(
                from: settings.from, fromAddress: settings.fromAddress, messageID: "outbox-\(claimed.id)", date: Date())
            let attempts = claimed.attempts + 1
            guard let failure = smtp.send(message, to: claimed.mail.recipient) else {
                try outbox.markSent(id: claimed.id, attempts: attempts, now: Date())
                logger.info("mail sent", metadata: ["mail_id": "\(claimed.id)", "attempts": "\(attempts)"])
                return true
            }
            if attempts >= settings.maxAttempts {
                try outbox.markFailed(id: claimed.id, attempts: attempts, error: failure, retryAt: nil)
                logger.error(
                    "mail given up: kept in the outbox with status failed",
                    metadata: ["mail_id": "\(claimed.id)", "attempts": "\(attempts)", "error": "\(failure)"])
            } else {
                let wait = settings.backoff(afterAttempts: attempts)
                try outbox.markFailed(id: claimed.id, attempts: attempts, error: failure, retryAt: Date().addingTimeInterval(wait))
                logger.warning(
                    "mail not sent, will retry",
                    metadata: [
                        "mail_id": "\(claimed.id)", "attempts": "\(attempts)", "retry_in": "\(Int(wait.rounded(.up)))s", "error": "\(failure)"
                    ])
            }
            return true
        }
    }

    /// Once a minute: tokens expired for a day go (spent or not; the unknown-address rows of password
    /// recovery with them).
    private func cleanUpIfDue() throws {
        let now = Date()
        guard now.timeIntervalSince(lastCleanup) >= 60 else { return }
        lastCleanup = now
        let removed = try EmailTokenRepository(db).deleteExpired(before: now.addingTimeInterval(-86_400))
        if removed > 0 { logger.info("expired mail tokens removed", metadata: ["count": "\(removed)"]) }
    }

    /// Sleeps in short steps so that TERM is seen at once.
    private func pause(_ seconds: Double) {
        let end = Date().addingTimeInterval(seconds)
        while !MailSenderSignals.stopRequested, Date() < end { usleep(UInt32(min(0.05, max(0, end.timeIntervalSinceNow)) * 1_000_000)) }
    }

    /// The relay URL without any user:password part.
    static func redacted(_ url: String) -> String {
        guard let scheme = url.firstRange(of: "://"), let at = url[scheme.upperBound...].lastIndex(of: "@") else { return url }
        return String(url[..<scheme.upperBound]) + "***@" + url[url.index(after: at)...]
    }
}

/// TERM and INT set a flag that the sender's loop reads between mails.
enum MailSenderSignals {
    nonisolated(unsafe) static var stopRequested = false

    static func install() {
        for sig in [SIGTERM, SIGINT] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { _ in MailSenderSignals.stopRequested = true }
            sigemptyset(&action.sa_mask)
            sigaction(sig, &action, nil)
        }
    }
}
