import FastCGI
import FoundationEssentials
import Logging
import MariaDB
import Sodium
import Web

/// What lives as long as a worker: its configuration, its one database connection and its clock.
/// Built once per worker after fork; handlers reach it through `AppContext`, never through globals.
public final class AppServices {
    public let config: AppConfiguration
    /// Password hashing, admitted across the pool.
    public let passwords: Passwords
    private let connection: Connection?
    /// The clock; tests replace it to travel in time.
    public var clock: () -> Date
    /// The host's shared rate limit counters and the time their windows start from (nil: no rate limits).
    public let rateLimits: (table: RateLimitTable, epoch: Int64)?

    /// `permits`: the pool's shared permits for password hashes (nil: counted in this process only).
    /// `rateLimits`: the table the master made before fork, shared by every worker (nil: no rate limits).
    public init(
        config: AppConfiguration, logger: Logger, clock: @escaping () -> Date = Date.init, permits: SharedPermits? = nil,
        rateLimits: (table: RateLimitTable, epoch: Int64)? = nil
    ) {
        self.rateLimits = rateLimits
        self.config = config
        passwords = Passwords(
            hasher: config.auth.hasher, limit: config.auth.hashConcurrency, waitMillis: config.auth.hashWaitMillis,
            shared: permits.map { permits in (tryAcquire: permits.tryAcquire(limit:), release: permits.release) })
        self.connection = config.database.map { Connection(configuration: $0, logger: logger) }
        self.clock = clock
    }

    /// The worker's connection (opened on first use); 503 when no database is configured.
    public func database() throws -> Connection {
        guard let connection else { throw HTTPError(.serviceUnavailable, detail: "Database not configured") }
        return connection
    }

    /// The connection if one is configured, for checks that report rather than fail.
    var optionalDatabase: Connection? { connection }
}

/// The per-request values a handler gets.
public struct AppContext: RequestContext {
    public let requestID: String
    public let logger: Logger
    public let services: AppServices
    /// "Now" for this request, read once so that every check in it agrees.
    public let now: Date
    /// The bearer token's claims once the rate limit verified them (the session check then does not again).
    var tokenClaims: JWTClaims? {
        get { verifiedToken?.claims }
        set { verifiedToken = newValue.map(VerifiedToken.init) }
    }
    /// Boxed: every middleware layer copies the context, and unboxed the claims (six Strings and more) made
    /// each copy larger, for every request, and retained each String, for an authenticated one.
    var verifiedToken: VerifiedToken? = nil

    public var config: AppConfiguration { services.config }
    public func database() throws -> Connection { try services.database() }
    public var passwords: Passwords { services.passwords }
}

final class VerifiedToken: Sendable {
    let claims: JWTClaims
    init(_ claims: JWTClaims) { self.claims = claims }
}
