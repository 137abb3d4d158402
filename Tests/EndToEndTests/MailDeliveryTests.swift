import App
import Foundation
import MariaDB
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The outbox delivered by `perch mail-sender` to a real SMTP server (aiosmtpd): the account flows through
/// nginx, a relay that is down for a while, one that refuses or drops connections, two senders on one
/// outbox, and a mail given up. "Each mail once" is checked on the Message-ID, which is one per outbox row.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct MailDeliveryTests {
    private func queue(_ count: Int, on database: DatabaseConfiguration, prefix: String = "user") throws {
        let db = Connection(configuration: database)
        defer { db.close() }
        for n in 0..<count {
            try db.transaction {
                try MailRepository(db).enqueue(
                    OutgoingMail(recipient: "\(prefix)\(n)@example.com", subject: "Mail \(n)", text: "Hello \(n)\n", html: "<p>Hello \(n)</p>"),
                    now: Date())
            }
        }
    }

    private func statusCounts(_ database: DatabaseConfiguration) throws -> [String: Int] {
        let db = Connection(configuration: database)
        defer { db.close() }
        return try MailRepository(db).counts()
    }

    private func messageIDs(_ messages: [String]) -> [String] {
        messages.compactMap { message in
            message.split(separator: "\r\n").first { $0.hasPrefix("Message-ID: ") }.map(String.init)
        }
    }

    @Test func accountFlowsThroughNginxDeliverRealMail() throws {
        let sink = try SMTPSink()
        let app = try TestApp(.live, environment: ["PERCH_PUBLIC_URL": "https://perch.example"])
        let sender = try MailSenderProcess(database: app.database, smtpPort: sink.port)
        let client = app.client()

        // Sign-up: a verification mail, plain text and HTML, with a link to the public URL.
        let created = try client.execute(.post, "/api/v1/users", json: ["email": "ada@example.com", "password": "correct horse battery"])
        #expect(created.status.code == 201)
        #expect(eventually(seconds: 20) { sink.messages(to: "ada@example.com").count == 1 }, "\(sender.log)")
        let welcome = try #require(sink.messages(to: "ada@example.com").first)
        #expect(welcome.contains("Subject: Verify your email address"))
        #expect(welcome.contains("From: perch tests <noreply@perch.test>"))
        #expect(welcome.contains("Content-Type: multipart/alternative;"))
        #expect(welcome.contains("Content-Type: text/plain; charset=utf-8") && welcome.contains("Content-Type: text/html; charset=utf-8"))
        #expect(welcome.contains("https://perch.example/verify-email?token="))
        let verifyToken = try #require(mailedToken(welcome))
        #expect(try client.execute(.post, "/api/v1/auth/verify-email", json: ["token": .string(verifyToken)]).status.code == 204)

        // Password recovery through the mail, then the old session is over and the new password works.
        let login = try client.execute(.post, "/api/v1/auth/login", form: [("username", "ada@example.com"), ("password", "correct horse battery")])
        let access = try #require(try login.json()["access_token"]?.stringValue)
        let me = try client.get("/api/v1/users/me", headers: [.authorization: "Bearer \(access)"])
        #expect(try me.json()["email_verified"] == .bool(true))
        let recovery = try client.execute(.post, "/api/v1/auth/password-recovery", json: ["email": "ada@example.com"])
        #expect(recovery.status.code == 202)
        #expect(try client.execute(.post, "/api/v1/auth/password-recovery", json: ["email": "nobody@example.com"]).text == recovery.text)
        #expect(eventually(seconds: 20) { sink.messages(to: "ada@example.com").count == 2 }, "\(sender.log)")
        let resetMail = try #require(sink.messages(to: "ada@example.com").last)
        #expect(resetMail.contains("Subject: Reset your password"))
        let resetToken = try #require(mailedToken(resetMail))
        #expect(
            try client.execute(.post, "/api/v1/auth/reset-password", json: ["token": .string(resetToken), "new_password": "a brand new password"])
                .status.code == 204)
        #expect(try client.get("/api/v1/users/me", headers: [.authorization: "Bearer \(access)"]).status.code == 401)
        let relogin = try client.execute(.post, "/api/v1/auth/login", form: [("username", "ada@example.com"), ("password", "a brand new password")])
        #expect(relogin.status.code == 200)
        let newAccess = try #require(try relogin.json()["access_token"]?.stringValue)
        // Within a minute of the sign-up's link, a resend is refused.
        let early = try client.execute(.post, "/api/v1/users/me/verify-email", headers: [.authorization: "Bearer \(newAccess)"])
        #expect(early.status.code == 429 && early.headers[.retryAfter] != nil)

        // A resend for an account with no recent link: one mail, then 429 with Retry-After within the minute.
        let bob = try app.accessToken(for: try app.makeUser(email: "bob@example.com"))
        let resent = try client.execute(.post, "/api/v1/users/me/verify-email", headers: [.authorization: "Bearer \(bob)"])
        #expect(resent.status.code == 202)
        let limited = try client.execute(.post, "/api/v1/users/me/verify-email", headers: [.authorization: "Bearer \(bob)"])
        #expect(limited.status.code == 429 && limited.headers[.retryAfter] != nil)
        #expect(eventually(seconds: 20) { sink.messages(to: "bob@example.com").count == 1 }, "\(sender.log)")
        #expect(
            try client.execute(.post, "/api/v1/auth/verify-email", json: ["token": .string(try #require(mailedToken(sink.messages(to: "bob@example.com")[0])))])
                .status.code == 204)
        #expect(sink.messages(to: "ada@example.com").count == 2)
        #expect(sink.messages(to: "nobody@example.com").isEmpty)
        // No token in the sender's log.
        #expect(!sender.log.contains(verifyToken) && !sender.log.contains(resetToken))
        sender.process.signal(SIGTERM)
        #expect(sender.process.wait(seconds: 10) == 0)
        #expect(sender.log.contains("mail sender stopped"))
    }

    @Test func aRelayDownForAWhileGetsEveryMailOnceWhenItIsBack() throws {
        let database = try PrivateMariaDB.shared.makeMigratedDatabase()
        let port = try freeLoopbackPort()
        try queue(5, on: database)
        let sender = try MailSenderProcess(database: database, smtpPort: port)
        // Connection refused: each mail is tried and put off, more than once.
        #expect(eventually(seconds: 20) { sender.log.components(separatedBy: "mail not sent, will retry").count > 10 }, "\(sender.log)")
        #expect(try statusCounts(database) == ["pending": 5])
        let sink = try SMTPSink(port: port)
        #expect(eventually(seconds: 30) { (try? statusCounts(database)) == ["sent": 5] }, "\(sender.log)")
        let received = sink.messages
        #expect(received.count == 5)
        #expect(Set(messageIDs(received)).count == 5)
        #expect(
            Set((0..<5).map { "user\($0)@example.com" })
                == Set((0..<5).compactMap { n in sink.messages(to: "user\(n)@example.com").isEmpty ? nil : "user\(n)@example.com" }))
    }

    @Test func aRelayThatRefusesOrDropsLosesNothingAndSendsNothingTwice() throws {
        let database = try PrivateMariaDB.shared.makeMigratedDatabase()
        let sink = try SMTPSink(rejectFirst: 3, dropFirst: 3)
        try queue(6, on: database)
        let sender = try MailSenderProcess(database: database, smtpPort: sink.port)
        #expect(eventually(seconds: 30) { (try? statusCounts(database)) == ["sent": 6] }, "\(sender.log)")
        #expect(sink.messages.count == 6)
        #expect(Set(messageIDs(sink.messages)).count == 6)
        #expect(sender.log.contains("SMTP 451"))
        // Bodies of sent mails are cleared: they held single-use tokens.
        let db = Connection(configuration: database)
        defer { db.close() }
        #expect(try db.query("SELECT COUNT(*) AS n FROM mail_outbox WHERE text_body IS NOT NULL").first!.get("n") == 0)
    }

    @Test func twoSendersOnOneOutboxSendEachMailOnce() throws {
        let database = try PrivateMariaDB.shared.makeMigratedDatabase()
        let sink = try SMTPSink()
        try queue(40, on: database)
        let senders = try (0..<2).map { _ in try MailSenderProcess(database: database, smtpPort: sink.port) }
        #expect(eventually(seconds: 60) { (try? statusCounts(database)) == ["sent": 40] }, "\(senders.map(\.log))")
        usleep(300_000)  // anything sent twice would arrive now
        let received = sink.messages
        #expect(received.count == 40)
        #expect(Set(messageIDs(received)).count == 40)
    }

    @Test func aMailGivenUpIsKeptAndLogged() throws {
        let database = try PrivateMariaDB.shared.makeMigratedDatabase()
        try queue(1, on: database, prefix: "unlucky")
        let sender = try MailSenderProcess(database: database, smtpPort: try freeLoopbackPort(), environment: ["PERCH_MAIL_MAX_ATTEMPTS": "3"])
        #expect(eventually(seconds: 20) { (try? statusCounts(database)) == ["failed": 1] }, "\(sender.log)")
        #expect(eventually(seconds: 5) { sender.log.contains("mail given up") })
        let db = Connection(configuration: database)
        defer { db.close() }
        let row = try #require(try db.query("SELECT attempts, text_body, last_error FROM mail_outbox").first)
        #expect(try row.get("attempts") == 3)
        #expect(try row.get("text_body") == "Hello 0\n")
        #expect((try row.get("last_error") as String).contains("connect"))
    }

    /// A relay that requires STARTTLS (its certificate checked against PERCH_SMTP_CA_FILE) and authentication:
    /// the right password delivers; a wrong one is retried and never logged; a sender that may not use
    /// STARTTLS on a relay without it (PERCH_SMTP_TLS defaults to starttls) sends nothing in the clear.
    @Test func startTLSAndAuthentication() throws {
        let folder = Paths.makeTemporaryDirectory("perch-smtp-tls")
        let made = try run([
            "/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", folder + "/key.pem", "-out", folder + "/cert.pem"
        ])
        #expect(made.status == 0, "\(made.output)")
        try "relay secret 123\n".write(toFile: folder + "/password", atomically: true, encoding: .utf8)
        try "wrong secret 456\n".write(toFile: folder + "/wrong", atomically: true, encoding: .utf8)
        let sink = try SMTPSink(tls: (folder + "/cert.pem", folder + "/key.pem"), login: ("perch", folder + "/password"))
        let database = try PrivateMariaDB.shared.makeMigratedDatabase()
        try queue(1, on: database)

        let wrong = try MailSenderProcess(
            database: database, smtpPort: sink.port,
            environment: [
                "PERCH_SMTP_TLS": "starttls", "PERCH_SMTP_CA_FILE": folder + "/cert.pem", "PERCH_SMTP_USER": "perch",
                "PERCH_SMTP_PASSWORD_FILE": folder + "/wrong"
            ])
        #expect(eventually(seconds: 20) { wrong.log.contains("mail not sent, will retry") }, "\(wrong.log)")
        wrong.stop()
        #expect(!wrong.log.contains("wrong secret"))
        #expect(sink.messages.isEmpty)

        let right = try MailSenderProcess(
            database: database, smtpPort: sink.port,
            environment: [
                "PERCH_SMTP_TLS": "starttls", "PERCH_SMTP_CA_FILE": folder + "/cert.pem", "PERCH_SMTP_USER": "perch",
                "PERCH_SMTP_PASSWORD_FILE": folder + "/password"
            ])
        #expect(eventually(seconds: 20) { (try? statusCounts(database)) == ["sent": 1] }, "\(right.log)")
        #expect(sink.messages.count == 1)
        #expect(!right.log.contains("relay secret"))
        right.stop()

        let plainSink = try SMTPSink()
        try queue(1, on: database, prefix: "plain")
        let insisting = try MailSenderProcess(database: database, smtpPort: plainSink.port, environment: ["PERCH_SMTP_TLS": "starttls"])
        #expect(eventually(seconds: 20) { insisting.log.contains("mail not sent, will retry") }, "\(insisting.log)")
        #expect(plainSink.messages.isEmpty)
    }

    @Test func theSenderRefusesToStartWithoutARelay() throws {
        let database = try PrivateMariaDB.shared.makeMigratedDatabase()
        let sender = try MailSenderProcess(database: database, smtpPort: 1, environment: ["PERCH_SMTP_URL": ""])
        #expect(sender.process.wait(seconds: 10) == 78)
        #expect(sender.log.contains("PERCH_SMTP_URL"))
    }
}
