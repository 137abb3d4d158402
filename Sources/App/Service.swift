import FastCGI
import Glibc
import Logging
import MariaDB
import Web

/// `perch serve`: configuration, logging and the app, wired into the pool.
public enum Service {
    public static func bootstrapLogging(level: Logger.Level) {
        LoggingSystem.bootstrap { LogLine(label: $0, level: level) }
    }

    public static func serve() throws -> Int32 {
        let config = try AppConfiguration.fromProcess()
        bootstrapLogging(level: config.logLevel)
        let logger = Logger(label: "perch")
        do {
            return try Pool.run(config: config.pool, logger: logger, beforeFork: { checkDatabase(config, logger: logger) }) { permits in
                // In the worker, after fork: its pid in the metadata spares LogLine a getpid() per line.
                var logger = logger
                logger[metadataKey: "pid"] = "\(getpid())"
                let services = AppServices(config: config, logger: logger, permits: permits)
                return HTTPBridge(application: PerchApp.makeApplication(services: services, logger: logger), bodyLimit: config.pool.bodyLimit)
            }
        } catch let error as ConfigurationError {
            throw AppConfigurationError(problems: [error.description])  // socket problems are the operator's to fix
        }
    }
}

extension Service {
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
        bootstrapLogging(level: config.logLevel)
        return try MailSender(config: config, logger: Logger(label: "perch-mail")).run()
    }

    /// The OpenAPI document the service serves at /openapi.json, for `perch openapi`.
    public static func openAPIDocument() throws -> [UInt8] {
        var reader = ConfigReader(["PERCH_ENV": "development"])
        let config = try AppConfiguration.load(&reader)
        let logger = Logger(label: "perch")
        return PerchApp.makeApplication(services: AppServices(config: config, logger: logger), logger: logger).openAPIBytes
    }
}
