import FoundationEssentials
import Glibc
import Web

/// Budgets for password guesses (login, and the current-password check of a password change), kept in the
/// database so every worker and host shares them:
/// - per account and client, `loginMaxFailures` per window: a client is an IPv4 address or an IPv6 /64 (one
///   customer's network), so rotating through the addresses of a /64 buys nothing;
/// - per account across all clients, `loginAccountMaxFailures` per window, against guessing from many
///   addresses. It does not apply to a client the account logged in from in the last 30 days, so spending it
///   cannot lock the owner out where they already log in (no malicious lockout); a new client waits until
///   the window has passed the failures.
struct LoginThrottle {
    let settings: AuthSettings
    let repository: AuthRepository
    let now: Date
    let email: String
    let client: String

    init(_ settings: AuthSettings, _ repository: AuthRepository, now: Date, email: String, remoteAddress: String) {
        self.settings = settings
        self.repository = repository
        self.now = now
        self.email = String(email.prefix(254))
        client = Self.clientKey(remoteAddress)
    }

    static let knownClientDays = 30
    private var windowStart: Date { now.addingTimeInterval(-TimeInterval(settings.loginWindow)) }

    /// Checks a password guess with `verify`, recorded first: 429 with `Retry-After` when a budget is spent
    /// (the refused guess is taken back, so knocking does not extend the wait). A wrong guess's row stays as
    /// the failure, a right one's until `succeeded()` clears them; a guess that could not be checked (no
    /// hash permit, the database gone) is taken back.
    func guess(_ verify: () throws -> Bool) throws -> Bool {
        let attempt = try admit()
        do {
            return try verify()
        } catch {
            try? repository.withdrawLoginAttempt(id: attempt)
            throw error
        }
    }

    private func admit() throws -> Int64 {
        let attempt = try repository.beginLoginAttempt(email: email, address: client, now: now)
        let fromClient = try repository.loginAttempts(email: email, address: client, since: windowStart)
        var refusal = fromClient.count > settings.loginMaxFailures ? fromClient.oldest : nil
        if refusal == nil {
            let fromAll = try repository.loginAttempts(email: email, since: windowStart)
            if fromAll.count > settings.loginAccountMaxFailures,
                try !repository.isKnownClient(email: email, address: client, since: now.addingTimeInterval(-Double(Self.knownClientDays) * 86_400))
            {
                refusal = fromAll.oldest
            }
        }
        guard let oldest = refusal else { return attempt }
        try repository.withdrawLoginAttempt(id: attempt)
        // Whole seconds until the oldest failure leaves the window (rounded to ms first: microsecond noise).
        let remaining = (oldest.addingTimeInterval(TimeInterval(settings.loginWindow)).timeIntervalSince(now) * 1000).rounded() / 1000
        let wait = max(1, Int(remaining.rounded(.up)))
        throw HTTPError(.tooManyRequests, detail: "Too many failed login attempts, try again later", headers: [.retryAfter: "\(wait)"])
    }

    /// The right password: this client's count is cleared and the client is remembered for the account.
    func succeeded() throws {
        try repository.clearLoginAttempts(email: email, address: client, olderThan: windowStart)
        try repository.rememberClient(email: email, address: client, now: now)
    }

    /// An IPv4 address as it is; an IPv6 address as its /64 (`2001:db8:1:2::/64`), an IPv4-mapped one as the
    /// IPv4 address; anything else (a unix socket's empty address) as it is, cut to the column's 45 characters.
    static func clientKey(_ address: String) -> String {
        // Every anonymous API request comes here (rate limits): an IPv4 address goes back as it is.
        guard address.utf8.contains(UInt8(ascii: ":")) else { return address.utf8.count <= 45 ? address : String(address.prefix(45)) }
        var bytes = [UInt8](repeating: 0, count: 16)
        guard inet_pton(AF_INET6, address, &bytes) == 1 else { return String(address.prefix(45)) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff {
            return bytes[12...].map { String($0) }.joined(separator: ".")
        }
        let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
        return groups.joined(separator: ":") + "::/64"
    }
}
