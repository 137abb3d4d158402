import FastCGI
import FoundationEssentials
import Glibc
import Logging
import MariaDB
import Web

/// The service's configuration: every knob is an environment variable with a documented default
/// (README, "Configuration").
public struct AppConfiguration {
    public enum Mode: String { case development, production }

    public var mode: Mode = .production
    public var pool = PoolConfiguration()
    public var logLevel: Logger.Level = .info
    /// PERCH_LOG_FORMAT: `logfmt` (key=value, the default) or `json` (one object per line, for log shippers).
    public var logFormat: LogLine.Format = .logfmt
    /// nil when PERCH_DATABASE_URL is not set (allowed in development only: readiness then answers 503).
    public var database: DatabaseConfiguration?
    public var web = WebConfiguration()
    /// Tokens, passwords, login throttle. Always set once loading succeeded.
    public var auth: AuthSettings!
    /// Mail links, tokens and the SMTP relay (`perch mail-sender`).
    public var mail = MailSettings()
    /// Budgets per role and limit group.
    public var rateLimits = RateLimitSettings()
    /// Where `perch migrate` finds its files.
    public var migrationsDirectory: String?

    public init() {}

    public static func fromProcess() throws -> AppConfiguration {
        var reader = try ConfigReader.fromProcess()
        return try load(&reader)
    }

    /// From explicit variables (tests, tools) rather than the process environment.
    public static func load(environment: [String: String]) throws -> AppConfiguration {
        var reader = ConfigReader(environment)
        return try load(&reader)
    }

    static func load(_ reader: inout ConfigReader) throws -> AppConfiguration {
        var config = AppConfiguration()
        if let mode = reader.string("PERCH_ENV") {
            if let parsed = Mode(rawValue: mode) { config.mode = parsed } else { reader.problem("PERCH_ENV: \"\(mode)\" is not development or production") }
        }
        if let level = reader.string("PERCH_LOG_LEVEL") {
            if let parsed = Logger.Level(rawValue: level) {
                config.logLevel = parsed
            } else {
                reader.problem("PERCH_LOG_LEVEL: \"\(level)\" is not one of trace, debug, info, notice, warning, error, critical")
            }
        }
        if let format = reader.string("PERCH_LOG_FORMAT") {
            if let parsed = LogLine.Format(rawValue: format) {
                config.logFormat = parsed
            } else {
                reader.problem("PERCH_LOG_FORMAT: \"\(format)\" is not logfmt or json")
            }
        }

        var pool = PoolConfiguration()
        pool.version = PerchVersion.current
        if let listen = reader.string("PERCH_LISTEN") {
            do { pool.listen = try ListenAddress(parsing: listen) } catch { reader.problem("PERCH_LISTEN: \(error)") }
        }
        pool.socketOwner = reader.string("PERCH_SOCKET_OWNER")
        pool.socketGroup = reader.string("PERCH_SOCKET_GROUP")
        if let mode = reader.string("PERCH_SOCKET_MODE") {
            if let parsed = mode_t(mode, radix: 8), parsed <= 0o777 {
                pool.socketMode = parsed
            } else {
                reader.problem("PERCH_SOCKET_MODE: \"\(mode)\" is not an octal mode like 660")
            }
        }
        pool.allowedClients = reader.list("PERCH_ALLOWED_CLIENTS") + reader.list("FCGI_WEB_SERVER_ADDRS")
        pool.workers = reader.int("PERCH_WORKERS", default: pool.workers, in: 1...512)
        pool.maxRequests = reader.int("PERCH_MAX_REQUESTS", default: pool.maxRequests, in: 0...100_000_000)
        pool.maxRequestsJitter = reader.int("PERCH_MAX_REQUESTS_JITTER", default: pool.maxRequests / 10, in: 0...100_000_000)
        Self.readPoolSizing(&reader, into: &pool)
        pool.requestTimeout = reader.seconds("PERCH_REQUEST_TIMEOUT", default: 30, in: 0.1...86_400)
        pool.slowRequestThreshold = reader.seconds("PERCH_SLOW_REQUEST", default: 5, in: 0...86_400)
        pool.gracefulTimeout = reader.seconds("PERCH_GRACEFUL_TIMEOUT", default: 30, in: 0...86_400)
        pool.keepAliveIdle = reader.seconds("PERCH_KEEPALIVE_IDLE", default: 75, in: 0...3_600)
        pool.bodyLimit = reader.int("PERCH_BODY_LIMIT", default: 1 << 20, in: 0...(1 << 30))
        pool.statusPath = reader.string("PERCH_STATUS_PATH")
        if let path = pool.statusPath, !path.hasPrefix("/") { reader.problem("PERCH_STATUS_PATH: \"\(path)\" must start with /") }
        let allowed = reader.list("PERCH_STATUS_ALLOW")
        if !allowed.isEmpty { pool.statusAllowed = allowed }
        pool.logFile = reader.string("PERCH_LOG_FILE")
        config.pool = pool

        let password = reader.secret("PERCH_DATABASE_PASSWORD")
        if let url = reader.string("PERCH_DATABASE_URL") ?? reader.string("DATABASE_URL") {
            do { config.database = try DatabaseConfiguration(url: url, password: password) } catch { reader.problem("PERCH_DATABASE_URL: \(error)") }
            let choice = reader.string("PERCH_DATABASE_NODE_CHOICE") ?? "first"
            if let parsed = DatabaseConfiguration.NodeChoice(rawValue: choice) {
                config.database?.nodeChoice = parsed
            } else {
                reader.problem("PERCH_DATABASE_NODE_CHOICE: \"\(choice)\" is not first or spread")
            }
            config.database?.failbackInterval = reader.int("PERCH_DATABASE_FAILBACK", default: 10, in: 1...86_400)
        } else if config.mode == .production {
            reader.problem("PERCH_DATABASE_URL: required outside development (mariadb://user@host:3306/db)")
        }
        config.migrationsDirectory = reader.string("PERCH_MIGRATIONS_DIR")

        config.auth = AuthSettings.load(&reader, mode: config.mode)
        config.mail = MailSettings.load(&reader)
        config.rateLimits = RateLimitSettings.load(&reader)
        config.web.maxBodySize = pool.bodyLimit
        config.web.maxQueueMillis = reader.int("PERCH_MAX_QUEUE_TIME", default: 5_000, in: 0...3_600_000)
        config.web.cors.allowedOrigins = reader.list("PERCH_CORS_ORIGINS")
        config.web.cors.maxAge = reader.int("PERCH_CORS_MAX_AGE", default: 600, in: 0...86_400)
        let docsEnabled = reader.bool("PERCH_DOCS", default: true)
        let cdnFallback = reader.bool("PERCH_DOCS_CDN_FALLBACK", default: true)
        let assetsDirectory = reader.string("PERCH_DOCS_ASSETS_DIR")
        if let url = reader.string("PERCH_DOCS_ASSETS_URL") {
            config.web.docs = .local(base: url)
        } else if docsEnabled {
            // Offline by default: the installed copies when present; the CDN (with SRI) only as the fallback.
            let directory = DocsAssets.directory(configured: assetsDirectory)
            switch DocsAssets.load(directory: directory) {
            case .found(let assets): config.web.docs = .bundled(assets)
            case .incomplete(let missing):
                reader.problem("PERCH_DOCS_ASSETS_DIR: \(directory) lacks \(missing.joined(separator: ", ")) (deploy/docs-assets.sh fills it)")
            case .none where assetsDirectory != nil:
                reader.problem("PERCH_DOCS_ASSETS_DIR: no Swagger UI / ReDoc files in \(directory)")
            case .none where !cdnFallback:
                reader.problem("PERCH_DOCS_CDN_FALLBACK=false: no Swagger UI / ReDoc files in \(directory) (PERCH_DOCS_ASSETS_DIR)")
            case .none: break  // the CDN, with SRI (DocsConfiguration's defaults)
            }
        }
        config.web.docs.enabled = docsEnabled

        if !reader.problems.isEmpty { throw AppConfigurationError(problems: reader.problems) }
        return config
    }
}

extension AppConfiguration {
    /// The pool's mode and its bounds, and recycling by memory and lifetime (README, Configuration).
    fileprivate static func readPoolSizing(_ reader: inout ConfigReader, into pool: inout PoolConfiguration) {
        if let mode = reader.string("PERCH_POOL_MODE") {
            if let parsed = PoolMode(rawValue: mode) {
                pool.mode = parsed
            } else {
                reader.problem("PERCH_POOL_MODE: \"\(mode)\" is not static, dynamic or ondemand")
            }
        }
        pool.minSpareWorkers = reader.int("PERCH_MIN_SPARE_WORKERS", default: 1, in: 1...512)
        pool.maxSpareWorkers = reader.int("PERCH_MAX_SPARE_WORKERS", default: max(pool.minSpareWorkers, 3), in: 1...512)
        pool.startWorkers = reader.int(
            "PERCH_START_WORKERS", default: pool.minSpareWorkers + (pool.maxSpareWorkers - pool.minSpareWorkers) / 2, in: 1...512)
        pool.maxSpawnRate = reader.int("PERCH_MAX_SPAWN_RATE", default: 32, in: 1...1_024)
        pool.idleTimeout = reader.seconds("PERCH_IDLE_TIMEOUT", default: 10, in: 0.1...86_400)
        if pool.mode == .dynamic {
            if pool.minSpareWorkers > pool.maxSpareWorkers {
                reader.problem("PERCH_MIN_SPARE_WORKERS (\(pool.minSpareWorkers)) is above PERCH_MAX_SPARE_WORKERS (\(pool.maxSpareWorkers))")
            }
            if pool.maxSpareWorkers > pool.workers || pool.startWorkers > pool.workers {
                reader.problem("PERCH_START_WORKERS and PERCH_MAX_SPARE_WORKERS must not exceed PERCH_WORKERS (\(pool.workers)), the pool's maximum")
            }
        }
        pool.maxWorkerMemory = reader.int("PERCH_MAX_WORKER_MEMORY", default: 0, in: 0...1_048_576) << 20
        pool.maxWorkerLifetime = reader.seconds("PERCH_MAX_WORKER_LIFETIME", default: 0, in: 0...31_536_000)
        pool.maxWorkerLifetimeJitter = reader.seconds(
            "PERCH_MAX_WORKER_LIFETIME_JITTER", default: pool.maxWorkerLifetime / 10, in: 0...31_536_000)
        pool.crashLoopThreshold = reader.int("PERCH_CRASH_LOOP_THRESHOLD", default: 5, in: 1...1_000)
    }
}
