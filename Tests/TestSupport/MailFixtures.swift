import App
import Foundation
import MariaDB

#if canImport(Glibc)
    import Glibc
#endif

/// A real SMTP server (deploy/local/smtp-to-files.py, on aiosmtpd from the test venv) on a loopback port,
/// writing each message it accepts as one .eml file into `directory`. `rejectFirst` messages get a
/// temporary failure (451), `dropFirst` have their connection dropped, before it accepts any.
public final class SMTPSink: @unchecked Sendable {
    public let port: Int
    public let directory: String
    private let process: ChildProcess

    /// `tls`: STARTTLS required, with this certificate and key (PEM files); `login`: AUTH required.
    public init(
        port: Int? = nil, rejectFirst: Int = 0, dropFirst: Int = 0, tls: (cert: String, key: String)? = nil,
        login: (user: String, passwordFile: String)? = nil
    ) throws {
        self.port = try port ?? freeLoopbackPort()
        let folder = Paths.makeTemporaryDirectory("perch-smtp")
        directory = folder + "/mail"
        process = try ChildProcess(
            [
                "/usr/bin/env", "python3", Paths.packageRoot + "/deploy/local/smtp-to-files.py", "--port", "\(self.port)", "--dir", directory,
                "--reject-first", "\(rejectFirst)", "--drop-first", "\(dropFirst)"
            ] + (tls.map { ["--tls-cert", $0.cert, "--tls-key", $0.key] } ?? [])
                + (login.map { ["--user", $0.user, "--password-file", $0.passwordFile] } ?? []),
            environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"], logPath: folder + "/smtp.log")
        guard eventually(seconds: 20, { canConnect(port: self.port) }) else {
            process.terminate()
            throw SupportError("the SMTP server did not start (is aiosmtpd in the test venv? deploy/test.sh installs it); its log:\n\(process.log)")
        }
    }

    /// The messages received so far, oldest first.
    public var messages: [String] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".eml") && !$0.hasPrefix(".") }.sorted()
        return names.compactMap { try? String(contentsOfFile: directory + "/" + $0, encoding: .utf8) }
    }

    /// The messages to `recipient`.
    public func messages(to recipient: String) -> [String] { messages.filter { $0.contains("To: <\(recipient)>") } }

    public var log: String { process.log }
    public func stop() { process.terminate() }
    deinit { process.terminate() }
}

/// A `perch mail-sender` on a database, sending to `smtpPort` (plain SMTP, no TLS), retrying fast.
public final class MailSenderProcess: @unchecked Sendable {
    public let process: ChildProcess

    public init(database: DatabaseConfiguration, smtpPort: Int, environment: [String: String] = [:]) throws {
        let folder = Paths.makeTemporaryDirectory("perch-mail-sender")
        var env = database.perchEnvironment.merging(
            [
                "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
                "PERCH_ENV": "development",
                "PERCH_SMTP_URL": "smtp://127.0.0.1:\(smtpPort)",
                "PERCH_SMTP_TLS": "none",
                "PERCH_MAIL_FROM": "perch tests <noreply@perch.test>",
                "PERCH_MAIL_POLL_INTERVAL": "0.05",
                "PERCH_MAIL_RETRY_BASE": "0.2",
                "PERCH_MAIL_RETRY_MAX": "0.5",
                "PERCH_SMTP_TIMEOUT": "5"
            ]) { $1 }
        env.merge(environment) { $1 }
        process = try ChildProcess([Paths.perchBinary, "mail-sender"], environment: env, logPath: folder + "/mail-sender.log")
    }

    public var log: String { process.log }
    public func stop() { process.terminate() }
    deinit { process.terminate() }
}

/// The token in a mail's link (`?token=...`), from an .eml file or an outbox body.
public func mailedToken(_ text: String) -> String? {
    guard let start = text.range(of: "?token=") else { return nil }
    let token = text[start.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
    return token.isEmpty ? nil : String(token)
}
