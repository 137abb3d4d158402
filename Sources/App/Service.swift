import FastCGI
import Glibc
import Logging
import MariaDB
import Web

/// `perch serve`: configuration, logging and the app, wired into the pool.
public enum Service {
    /// Log lines in the configured format, with journald's priority prefixes when stderr is the journal (and
    /// stays so: PERCH_LOG_FILE moves stderr to a file).
    public static func bootstrapLogging(_ config: AppConfiguration) {
        let style = LogLine.Style(format: config.logFormat, journalPriorities: config.pool.logFile == nil && LogLine.stderrIsJournal())
        LoggingSystem.bootstrap { LogLine(label: $0, level: config.logLevel, style: style) }
    }

    public static func serve() throws -> Int32 {
        if Command.isCheckOnly { return reloadCheck() }
        let config = try AppConfiguration.fromProcess()
        bootstrapLogging(config)
        let logger = Logger(label: "perch")
        var pool = config.pool
        pool.metricRoutes = metricRoutes(config, logger: logger)
        do {
            // Before fork, so that every worker counts into the same memory.
            let rateLimits = try AppServices.makeRateLimits()
            return try Pool.run(config: pool, logger: logger, beforeFork: { checkDatabase(config, logger: logger) }) { permits in
                // In the worker, after fork: its pid in the metadata spares LogLine a getpid() per line.
                var logger = logger
                logger[metadataKey: "pid"] = "\(getpid())"
                let services = AppServices(config: config, logger: logger, permits: permits, rateLimits: rateLimits)
                return HTTPBridge(application: PerchApp.makeApplication(services: services, logger: logger), bodyLimit: config.pool.bodyLimit)
            }
        } catch let error as ConfigurationError {
            throw AppConfigurationError(problems: [error.description])  // socket problems are the operator's to fix
        }
    }
}

extension Service {
    /// The check a reloading master runs in a child (`PERCH_CHECK_ONLY=1`) before it re-executes itself: what
    /// `perch check` checks, the database and its migrations included. Each problem is logged; any refuses the
    /// reload (exit 78) and the running pool keeps serving. The master itself never connects: it must stay
    /// without threads, since it forks again.
    static func reloadCheck() -> Int32 {
        let problems = Check.problems()
        // Check.problems set up logging when the configuration loaded; else its lines are written plainly.
        let logger = (try? AppConfiguration.fromProcess()) != nil ? Logger(label: "perch") : Logger(label: "perch") { LogLine(label: $0, level: .info) }
        for problem in problems { logger.error("reload check failed", metadata: ["problem": "\(problem)"]) }
        return problems.isEmpty ? 0 : 78
    }

    /// Once in the master: tells the operator at start whether the database answers (workers still start
    /// either way and answer 503 until it does). It also loads the client library and its TLS library's
    /// algorithm tables before fork; each worker used to build its own, about 2 MB of resident code each.
    static func checkDatabase(_ config: AppConfiguration, logger: Logger) {
        guard let database = config.database else { return }
        let connection = Connection(configuration: database, logger: logger)
        if connection.ping(timeout: 1) {
            logger.info("database reachable at start")
        } else {
            logger.warning("database not reachable at start: workers connect when a request needs it")
        }
        connection.close()
    }

    /// `perch mail-sender`: the outbox's delivery loop, until TERM.
    public static func sendMail() throws -> Int32 {
        let config = try AppConfiguration.fromProcess()
        bootstrapLogging(config)
        return try MailSender(config: config, logger: Logger(label: "perch-mail")).run()
    }

    /// The app's routes for the pool's metrics, from an app built without a database (the workers build the
    /// same routes after fork).
    static func metricRoutes(_ config: AppConfiguration, logger: Logger) -> [MetricRoute] {
        var offline = config
        offline.database = nil
        return HTTPBridge.metricRoutes(PerchApp.makeApplication(services: AppServices(config: offline, logger: logger), logger: logger))
    }

    /// The OpenAPI document the service serves at /openapi.json, for `perch openapi`.
    public static func openAPIDocument() throws -> [UInt8] {
        var reader = ConfigReader(["PERCH_ENV": "development"])
        let config = try AppConfiguration.load(&reader)
        let logger = Logger(label: "perch")
        return PerchApp.makeApplication(services: AppServices(config: config, logger: logger), logger: logger).openAPIBytes
    }
}
