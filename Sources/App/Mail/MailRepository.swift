import FoundationEssentials
import MariaDB

/// An outbox row claimed for delivery.
public struct OutboxMail {
    public let id: Int64
    public let attempts: Int
    public let mail: OutgoingMail
}

/// The outbox table (`mail_outbox`); prepared statements only.
public struct MailRepository {
    let db: Connection
    public init(_ db: Connection) { self.db = db }

    /// Queues a mail: call inside the transaction of the change that causes it, so both happen or neither.
    /// `send` false runs the very same statement, which then inserts nothing: a password recovery for an
    /// unknown address costs what one for a registered address costs (the same statements, binds and round
    /// trips), without a mail.
    public func enqueue(_ mail: OutgoingMail, now: Date, send: Bool = true) throws {
        try db.execute(
            """
            INSERT INTO mail_outbox (recipient, subject, text_body, html_body, status, attempts, next_attempt_at, created_at)
            SELECT ?, ?, ?, ?, 'pending', 0, ?, ? FROM DUAL WHERE ?
            """,
            [.string(mail.recipient), .string(mail.subject), .string(mail.text), .string(mail.html), .date(now), .date(now), .bool(send)])
    }

    /// The oldest due pending mail, locked until the transaction ends (call inside one). SKIP LOCKED: a
    /// mail another sender holds is passed over, not waited for, so senders on several hosts share the
    /// outbox and none sends a mail another is sending.
    public func claimDue(now: Date) throws -> OutboxMail? {
        guard
            let row = try db.query(
                """
                SELECT id, attempts, recipient, subject, text_body, html_body FROM mail_outbox
                WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED
                """, [.date(now)]
            ).first
        else { return nil }
        let text: String? = try row.get("text_body")
        let html: String? = try row.get("html_body")
        return OutboxMail(
            id: try row.get("id"), attempts: try row.get("attempts"),
            mail: OutgoingMail(recipient: try row.get("recipient"), subject: try row.get("subject"), text: text ?? "", html: html ?? ""))
    }

    /// Delivered: the bodies go (they hold single-use tokens); the row stays as a record.
    public func markSent(id: Int64, attempts: Int, now: Date) throws {
        try db.execute(
            "UPDATE mail_outbox SET status = 'sent', attempts = ?, sent_at = ?, last_error = NULL, text_body = NULL, html_body = NULL WHERE id = ?",
            [.integer(attempts), .date(now), .int(id)])
    }

    /// A failed delivery: tried again at `retryAt`, or, when `retryAt` is nil, given up (status `failed`,
    /// the row and its bodies kept for the operator).
    public func markFailed(id: Int64, attempts: Int, error: String, retryAt: Date?) throws {
        try db.execute(
            "UPDATE mail_outbox SET status = ?, attempts = ?, last_error = ?, next_attempt_at = COALESCE(?, next_attempt_at) WHERE id = ?",
            [
                .string(retryAt == nil ? "failed" : "pending"), .integer(attempts), .string(String(error.prefix(500))), retryAt.map { .date($0) } ?? .null,
                .int(id)
            ])
    }

    /// Counts by status, for tests and operators.
    public func counts() throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try db.query("SELECT status, COUNT(*) AS n FROM mail_outbox GROUP BY status") {
            counts[try row.get("status")] = try row.get("n")
        }
        return counts
    }
}
