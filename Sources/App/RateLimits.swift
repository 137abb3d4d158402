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
    /// The table's windows start with the pool.
    let epoch: Int64
    let window: Int64
    /// One per tier and group (`index(_:_:)`), made once: the request path looks up no dictionary, hashes no
    /// tier or group name and builds no policy header.
    private let limits: [Limit]

    private struct Limit {
        var budget: Int
        /// `RateLimit-Policy: "read";q=300;w=60`, made and checked once.
        var policy: HTTPField
        /// `"read";r=`: the start of the `RateLimit` value.
        var remainingPrefix: [UInt8]
        /// FNV-1a over the tier and the group: a caller's key goes on from here with their user or address.
        var keySeed: UInt64
    }

    init(table: RateLimitTable, settings: RateLimitSettings, epoch: Int64) {
        self.table = table
        self.epoch = epoch
        window = Int64(settings.window)
        var limits: [Limit] = []
        for tier in RateLimitSettings.Tier.allCases {
            for group in RateLimitSettings.Group.allCases {
                let budget = settings.budgets[tier]?[group] ?? 0
                let name = "\"" + group.rawValue + "\";"
                var seed = FNV1a()
                seed.add(tier.rawValue.utf8)
                seed.add(group.rawValue.utf8)
                limits.append(
                    Limit(
                        budget: budget, policy: HTTPField(name: .rateLimitPolicy, value: name + "q=\(budget);w=\(settings.window)"),
                        remainingPrefix: Array((name + "r=").utf8), keySeed: seed.hash))
                assert(Self.index(tier, group) == limits.count - 1)
            }
        }
        self.limits = limits
    }

    func handle(_ request: Request, context: AppContext, next: Responder<AppContext>) throws -> Response {
        guard let group = Self.group(of: request) else { return try next(request, context) }
        var context = context
        let tier: RateLimitSettings.Tier
        let subject: String
        if let token = request.bearerToken, let claims = try? context.config.auth.signer.verify(token, now: context.now) {
            context.tokenClaims = claims
            tier = Self.tier(of: claims.scope)
            subject = claims.sub
        } else {
            tier = .anonymous
            subject = LoginThrottle.clientKey(request.remoteAddress)
        }
        let limit = limits[Self.index(tier, group)]
        guard limit.budget > 0 else { return try next(request, context) }
        var key = FNV1a(hash: limit.keySeed)
        key.add(subject.utf8)

        let elapsed = max(0, Int64(context.now.timeIntervalSince1970) - epoch)
        let count = table.hit(key: key.hash, window: elapsed / window) ?? 0
        let reset = Int(window - elapsed % window)
        var response: Response
        if count > limit.budget {
            response = HTTPError(.tooManyRequests, detail: "Too many requests", headers: [.retryAfter: String(reset)]).response
        } else {
            response = try ErrorMiddleware<AppContext>().handle(request, context: context, next: next)
        }
        // The value written as bytes after its prefix made once (an interpolated String costs more).
        var state = limit.remainingPrefix
        state.reserveCapacity(state.count + 24)
        Digits.append(Int64(max(0, limit.budget - count)), to: &state)
        state += ";t=".utf8
        Digits.append(Int64(reset), to: &state)
        response.headerFields.append(limit.policy)
        response.headerFields.append(HTTPField(name: .rateLimit, value: String(decoding: state, as: UTF8.self)))
        return response
    }

    /// `auth` for /api/v1/auth, `read` for GET and HEAD, `write` for the rest of /api/v1; nil (no limit) for
    /// health checks and everything outside the API.
    static func group(of request: Request) -> RateLimitSettings.Group? {
        let path = request.path
        guard hasPrefix(path, "/api/v1/"), !hasPrefix(path, "/api/v1/health") else { return nil }
        if hasPrefix(path, "/api/v1/auth/") { return .auth }
        return request.method == .get || request.method == .head ? .read : .write
    }

    /// Compares bytes: String.hasPrefix goes by Characters, and the UTF-8 view's generic `starts(with:)` cost
    /// more still (about 500 instructions a call; every request asks two or three times).
    private static func hasPrefix(_ text: String, _ prefix: StaticString) -> Bool {
        text.utf8.withContiguousStorageIfAvailable { bytes in
            guard bytes.count >= prefix.utf8CodeUnitCount else { return false }
            for index in 0..<prefix.utf8CodeUnitCount where bytes[index] != prefix.utf8Start[index] { return false }
            return true
        } ?? text.hasPrefix(prefix.description)
    }

    static func tier(of scope: String?) -> RateLimitSettings.Tier {
        guard let scope else { return .member }
        // Parsed as codes: String.contains(String) is a generic search that cost 40,000 instructions a request.
        let granted = Permissions(scope: scope)
        if granted.contains(.usersAdmin) { return .admin }
        if granted.contains(.postsModerate) { return .moderator }
        return .member
    }

    /// Where a tier's group sits in `limits`, by switch: a dictionary keyed by an enum with String raw values
    /// hashes its names.
    private static func index(_ tier: RateLimitSettings.Tier, _ group: RateLimitSettings.Group) -> Int {
        let row: Int
        switch tier {
        case .anonymous: row = 0
        case .member: row = 1
        case .moderator: row = 2
        case .admin: row = 3
        }
        switch group {
        case .read: return row * 3
        case .write: return row * 3 + 1
        case .auth: return row * 3 + 2
        }
    }
}

/// FNV-1a, 64 bits, with a zero byte after each part (so "ab"+"c" and "a"+"bc" differ): the table's keys.
struct FNV1a {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ bytes: some Sequence<UInt8>) {
        for byte in bytes { mix(byte) }
        mix(0)
    }

    private mutating func mix(_ byte: UInt8) {
        hash ^= UInt64(byte)
        hash &*= 0x0000_0100_0000_01b3
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
