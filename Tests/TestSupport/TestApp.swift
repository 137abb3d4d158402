import App
import Foundation
import Logging
import MariaDB
import Sodium
import Web

/// How a test's requests reach the app (HummingbirdTesting's `.router` and `.live`): `.inProcess` through the
/// application object, no socket (fast: most tests); `.live` over HTTP through the shipped nginx site to a
/// `perch serve` pool on the same database with the same signing key, so fixtures and tokens made by the
/// test work both ways. A suite that takes `TestTransport.allCases` as arguments runs its tests both ways.
public enum TestTransport: String, CaseIterable, Sendable {
    case inProcess, live
}

/// The whole app on a fresh, migrated private database: what most app tests drive, in-process or live.
public final class TestApp: @unchecked Sendable {
    public let services: AppServices
    public let application: Application<AppContext>
    public let database: DatabaseConfiguration
    /// A connection of the test's own, for arranging and inspecting rows directly.
    public let connection: Connection
    /// Log lines the app wrote (message and metadata), to check what must never be logged.
    public let logs = LogCapture()

    public let transport: TestTransport
    /// With `.live`: the pool and the nginx in front of it, stopped with this object.
    private let live: (pool: PerchPool, nginx: PrivateNginx)?

    /// `environment` adds PERCH_* settings. Argon2 runs with libsodium's minimum limits unless set, so
    /// that tests stay fast; tests about hashing set them. `clock` is the in-process app's; a live pool
    /// runs on the real clock. `rateLimited`: the in-process app counts rate limits too (a live pool always does).
    public init(
        _ transport: TestTransport = .inProcess, environment: [String: String] = [:],
        clock: @escaping () -> Date = Date.init, rateLimited: Bool = false
    ) throws {
        database = try PrivateMariaDB.shared.makeMigratedDatabase()
        var env: [String: String] = [
            "PERCH_ENV": "development",
            "PERCH_JWT_SIGNING_KEY": JWTKeyGenerator.encode(JWTKeyGenerator.hs256Secret()),
            "PERCH_ARGON2_OPSLIMIT": "\(PasswordHasher.minimumOpsLimit)",
            "PERCH_ARGON2_MEMLIMIT": "\(PasswordHasher.minimumMemLimit)"
        ]
        env.merge(environment) { $1 }
        var config = try AppConfiguration.load(environment: env)
        config.database = database
        let logger = Logger(label: "perch-test") { [logs] _ in logs.handler() }
        services = AppServices(
            config: config, logger: logger, clock: clock,
            rateLimits: rateLimited ? try AppServices.makeRateLimits(now: clock(), size: 1024) : nil)
        application = PerchApp.makeApplication(services: services, logger: logger)
        connection = Connection(configuration: database)
        self.transport = transport
        if transport == .live {
            let pool = try PerchPool(workers: 2, environment: env.merging(database.perchEnvironment) { $1 })
            live = (pool, try PrivateNginx(socketPath: pool.socketPath))
        } else {
            live = nil
        }
    }

    /// A client of the test's transport. In-process, `address` is the caller's address (the login throttle
    /// keys on it); through nginx every client is 127.0.0.1.
    public func client(from address: String = "127.0.0.1") -> any TestClient {
        guard let live else { return InProcessTestClient(application, remoteAddress: address) }
        precondition(address == "127.0.0.1", "a live client always comes from 127.0.0.1")
        return LiveTestClient(port: live.nginx.port)
    }

    /// With `.live`: the nginx port on 127.0.0.1, for clients other than the test's own (a browser).
    public var livePort: Int? { live?.nginx.port }

    /// A user made through the repository (password hashed with the app's settings); returns the id.
    @discardableResult
    public func makeUser(
        email: String, password: String = "correct horse battery", fullName: String? = nil,
        superuser: Bool = false, active: Bool = true, roles: Set<Role>? = nil
    ) throws -> Int64 {
        let users = UserRepository(connection)
        let user = try users.create(
            email: email, hashedPassword: try services.config.auth.hasher.hash(password), fullName: fullName,
            isSuperuser: superuser, now: Date())
        if !active { _ = try users.update(id: user.id, UserChanges(isActive: false), now: Date()) }
        if let roles { _ = try users.update(id: user.id, UserChanges(roles: roles), now: Date()) }
        return user.id
    }

    /// A session and a signed access token for `userID`, without going through login. `scope`: the token's
    /// claim (nil: none, as tokens made before scopes, which grant what the user has).
    public func accessToken(for userID: Int64, lifetime: Int = 900, scope: String? = nil) throws -> String {
        let now = Date()
        let generation = try UserRepository(connection).find(id: userID)?.credentialGeneration ?? 0
        let sessionID = try AuthRepository(connection).createSession(userID: userID, credentialGeneration: generation, now: now, maxAge: 3600)
        let issued = Int(now.timeIntervalSince1970)
        return try services.config.auth.signer.sign(
            claims: JWTClaims(
                sub: "\(userID)", sid: "\(sessionID)", iat: issued,
                exp: issued + lifetime, jti: SecureRandom.token(bytes: 16), scope: scope))
    }
}

/// Collects every log line as text (message plus metadata) for assertions.
public final class LogCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    public var text: String {
        lock.lock()
        defer { lock.unlock() }
        return lines.joined(separator: "\n")
    }

    func append(_ line: String) {
        lock.lock()
        lines.append(line)
        lock.unlock()
    }

    func handler() -> LogHandler { CapturingHandler(capture: self) }

    struct CapturingHandler: LogHandler {
        let capture: LogCapture
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            var all = metadata
            all.merge(event.metadata ?? [:]) { $1 }
            capture.append("\(event.level) \(event.message) \(all.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " "))")
        }
    }
}
