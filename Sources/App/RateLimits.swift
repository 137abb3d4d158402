import FastCGI
import FoundationEssentials
import HTTPTypes
import Sodium
import Web

/// Budgets per caller tier and limit group, per window (README: PERCH_RATE_LIMIT_*).
public struct RateLimitSettings: Sendable {
    public enum Group: String, CaseIterable, Sendable { case read, write, auth }
    /// Anonymous callers (counted by client address) and the three roles (counted by user).
    public enum Tier: String, CaseIterable, Sendable { case anonymous, member, moderator, admin }

    /// Seconds per window.
    public var window = 60
    /// Requests per window; 0: no limit.
    public var budgets: [Tier: [Group: Int]] = [
        .anonymous: [.read: 300, .write: 30, .auth: 20],
        .member: [.read: 1_200, .write: 120, .auth: 30],
        .moderator: [.read: 2_400, .write: 600, .auth: 30],
        .admin: [.read: 6_000, .write: 1_200, .auth: 60]
    ]

    static func load(_ reader: inout ConfigReader) -> RateLimitSettings {
        var settings = RateLimitSettings()
        settings.window = reader.int("PERCH_RATE_LIMIT_WINDOW", default: 60, in: 1...86_400)
        for tier in Tier.allCases {
            let name = "PERCH_RATE_LIMIT_\(tier.rawValue.uppercased())"
            for item in reader.list(name) {
                let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, let group = Group(rawValue: parts[0]), let budget = Int(parts[1]), (0...10_000_000).contains(budget) else {
                    reader.problem("\(name): \"\(item)\" is not read=N, write=N or auth=N (N from 0, no limit, to 10000000)")
                    continue
                }
                settings.budgets[tier, default: [:]][group] = budget
            }
        }
        return settings
    }
}

/// Rate limits per caller and limit group, counted in the pool's shared table (no database write): the
/// IETF `RateLimit-Policy` and `RateLimit` headers on every answer of /api/v1 (health checks aside), and 429
/// `Too many requests` with `Retry-After` over budget. A caller with a valid token is counted by user with
/// their token's tier (what its scope grants: a token outlives a role taken away only in its budget, never in
/// its permissions); anyone else by client address (an IPv6 /64 as one). The verified claims go on in the
/// context, so the route's authentication does not verify the signature again.
struct RateLimitMiddleware: RouterMiddleware {
    let table: RateLimitTable
    let settings: RateLimitSettings
    /// The table's windows start with the pool.
    let epoch: Int64

    func handle(_ request: Request, context: AppContext, next: Responder<AppContext>) throws -> Response {
        guard let group = Self.group(of: request) else { return try next(request, context) }
        var context = context
        let tier: RateLimitSettings.Tier
        let subject: Substring
        if let token = request.bearerToken, let claims = try? context.config.auth.signer.verify(token, now: context.now) {
            context.tokenClaims = claims
            tier = Self.tier(of: claims.scope)
            subject = Substring(claims.sub)
        } else {
            tier = .anonymous
            subject = Substring(LoginThrottle.clientKey(request.remoteAddress))
        }
        let budget = settings.budgets[tier]?[group] ?? 0
        guard budget > 0 else { return try next(request, context) }

        let elapsed = max(0, Int64(context.now.timeIntervalSince1970) - epoch)
        let window = Int64(settings.window)
        let count = table.hit(key: Self.key(tier, group, subject), window: elapsed / window) ?? 0
        let reset = Int(window - elapsed % window)
        var response: Response
        if count > budget {
            response = HTTPError(.tooManyRequests, detail: "Too many requests", headers: [.retryAfter: String(reset)]).response
        } else {
            response = try ErrorMiddleware<AppContext>().handle(request, context: context, next: next)
        }
        // Appended one by one, values joined from Strings: a literal HTTPFields and interpolated Ints cost
        // about 5,000 instructions a request (callgrind).
        let name = "\"" + group.rawValue + "\";"
        response.headerFields.append(HTTPField(name: .rateLimitPolicy, value: name + "q=" + String(budget) + ";w=" + String(settings.window)))
        response.headerFields.append(HTTPField(name: .rateLimit, value: name + "r=" + String(max(0, budget - count)) + ";t=" + String(reset)))
        return response
    }

    /// `auth` for /api/v1/auth, `read` for GET and HEAD, `write` for the rest of /api/v1; nil (no limit) for
    /// health checks and everything outside the API.
    static func group(of request: Request) -> RateLimitSettings.Group? {
        let path = request.path
        guard path.hasPrefix("/api/v1/"), !path.hasPrefix("/api/v1/health") else { return nil }
        if path.hasPrefix("/api/v1/auth/") { return .auth }
        return request.method == .get || request.method == .head ? .read : .write
    }

    static func tier(of scope: String?) -> RateLimitSettings.Tier {
        guard let scope else { return .member }
        // Parsed as codes: String.contains(String) is a generic search that cost 40,000 instructions a request.
        let granted = Permissions(scope: scope)
        if granted.contains(.usersAdmin) { return .admin }
        if granted.contains(.postsModerate) { return .moderator }
        return .member
    }

    /// FNV-1a over tier, group and subject: the table's key.
    static func key(_ tier: RateLimitSettings.Tier, _ group: RateLimitSettings.Group, _ subject: Substring) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func add(_ byte: UInt8) {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        tier.rawValue.utf8.forEach(add)
        add(0)
        group.rawValue.utf8.forEach(add)
        add(0)
        subject.utf8.forEach(add)
        return hash
    }
}

extension HTTPField.Name {
    static let rateLimitPolicy = HTTPField.Name("RateLimit-Policy")!
    static let rateLimit = HTTPField.Name("RateLimit")!
}

extension AppServices {
    /// A pool's rate limit counters (made before fork, so that every worker shares them), their windows
    /// starting at `now`.
    public static func makeRateLimits(now: Date = Date(), size: Int = 65_536) throws -> (table: RateLimitTable, epoch: Int64) {
        (try RateLimitTable(size: size), Int64(now.timeIntervalSince1970))
    }
}

extension ResponseDoc {
    /// Every rate-limited route's 429 (its group adds it).
    static var rateLimited: ResponseDoc {
        ResponseDoc.error(
            .tooManyRequests, "Too many requests",
            headers: [
                ("Retry-After", "Seconds until the window ends"), ("RateLimit", "The group, requests left and seconds left"),
                ("RateLimit-Policy", "The group, its budget and window")
            ])
    }
}
