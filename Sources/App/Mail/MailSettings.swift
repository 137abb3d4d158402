import Glibc

/// Mail settings (README, "Configuration"): what the API needs to write mails (links, sender, token
/// lifetime) and what `perch mail-sender` needs to deliver them (the relay, retries).
public struct MailSettings {
    public enum TLS: String { case starttls, none }

    /// Where the links in mails point (no trailing slash).
    public var publicURL = "http://localhost:8080"
    /// The From header; its address (inside <...> if any) is also the envelope sender.
    public var from = "perch <noreply@localhost>"
    /// Lifetime of password-reset and verification tokens, seconds.
    public var tokenLifetime = 30 * 60
    /// Login answers 403 "Email not verified" until the user verified their address.
    public var requireVerifiedEmail = false

    /// `smtp://host:587` (STARTTLS unless `tls` is `none`) or `smtps://host:465` (TLS from the start). nil: no
    /// relay configured, `perch mail-sender` refuses to start.
    public var smtpURL: String?
    public var tls = TLS.starttls
    /// CA certificates (PEM) to check the relay's certificate against instead of the system's store.
    public var smtpCAFile: String?
    public var smtpUser: String?
    public var smtpPassword: String?
    /// Seconds one delivery may take (connect included).
    public var smtpTimeout = 30
    /// Deliveries tried before a mail is given up (kept with status `failed`).
    public var maxAttempts = 10
    /// Backoff after the n-th failure: `retryBase * 2^(n-1)` seconds, at most `retryMax`, with ±20% jitter.
    public var retryBase = 5.0
    public var retryMax = 3600.0
    /// Seconds the sender sleeps when nothing is due.
    public var pollInterval = 1.0

    public init() {}

    /// The address inside `from` (`Name <a@b>` or `a@b`).
    public var fromAddress: String {
        guard let open = from.lastIndex(of: "<"), let close = from.lastIndex(of: ">"), open < close else { return from }
        return String(from[from.index(after: open)..<close])
    }

    static func load(_ reader: inout ConfigReader) -> MailSettings {
        var mail = MailSettings()
        if let url = reader.string("PERCH_PUBLIC_URL") {
            if url.hasPrefix("http://") || url.hasPrefix("https://") {
                mail.publicURL = url.hasSuffix("/") ? String(url.dropLast()) : url
            } else {
                reader.problem("PERCH_PUBLIC_URL: \"\(url)\" is not an http:// or https:// URL")
            }
        }
        if let from = reader.string("PERCH_MAIL_FROM") {
            if from.contains(where: { $0 == "\r" || $0 == "\n" }) || !from.contains("@") {
                reader.problem("PERCH_MAIL_FROM: not a single-line address like \"perch <noreply@example.com>\"")
            } else {
                mail.from = from
            }
        }
        mail.tokenLifetime = reader.int("PERCH_EMAIL_TOKEN_TTL", default: 30 * 60, in: 60...(7 * 24 * 3600))
        mail.requireVerifiedEmail = reader.bool("PERCH_REQUIRE_VERIFIED_EMAIL", default: false)
        if let url = reader.string("PERCH_SMTP_URL") {
            if url.hasPrefix("smtp://") || url.hasPrefix("smtps://") {
                mail.smtpURL = url
            } else {
                reader.problem("PERCH_SMTP_URL: \"\(url)\" is not smtp://host:port or smtps://host:port")
            }
        }
        if let tls = reader.string("PERCH_SMTP_TLS") {
            if let parsed = TLS(rawValue: tls) { mail.tls = parsed } else { reader.problem("PERCH_SMTP_TLS: \"\(tls)\" is not starttls or none") }
        }
        mail.smtpCAFile = reader.string("PERCH_SMTP_CA_FILE")
        if let path = mail.smtpCAFile, access(path, R_OK) != 0 { reader.problem("PERCH_SMTP_CA_FILE: cannot read \(path)") }
        mail.smtpUser = reader.string("PERCH_SMTP_USER")
        mail.smtpPassword = reader.secret("PERCH_SMTP_PASSWORD")
        mail.smtpTimeout = reader.int("PERCH_SMTP_TIMEOUT", default: 30, in: 1...600)
        mail.maxAttempts = reader.int("PERCH_MAIL_MAX_ATTEMPTS", default: 10, in: 1...1000)
        mail.retryBase = reader.seconds("PERCH_MAIL_RETRY_BASE", default: 5, in: 0.01...86_400)
        mail.retryMax = reader.seconds("PERCH_MAIL_RETRY_MAX", default: 3600, in: 0.01...(7 * 86_400))
        mail.pollInterval = reader.seconds("PERCH_MAIL_POLL_INTERVAL", default: 1, in: 0.01...3600)
        return mail
    }

    /// Seconds to wait after the `attempts`-th failed delivery.
    func backoff(afterAttempts attempts: Int) -> Double {
        let exponential = retryBase * Double(1 << min(max(attempts - 1, 0), 30))
        return min(exponential, retryMax) * Double.random(in: 0.8...1.2)
    }
}
