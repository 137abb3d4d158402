import FoundationEssentials
import Logging
import MariaDB

/// `perch migrate`: applies (or lists) the numbered SQL files against the configured database.
public enum Migrations {
    /// PERCH_MIGRATIONS_DIR, else ./sql/migrations, else share/perch/migrations next to the binary's prefix.
    static func directory(_ config: AppConfiguration) throws -> URL {
        if let configured = config.migrationsDirectory { return URL(fileURLWithPath: configured) }
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let candidates = [
            URL(fileURLWithPath: FileManager.default.currentDirectoryPath + "/sql/migrations"),
            binary.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("share/perch/migrations")
        ]
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
            throw AppConfigurationError(problems: ["PERCH_MIGRATIONS_DIR: not set, and none of \(candidates.map(\.path)) exists"])
        }
        return found
    }

    /// Runs the migrations (or prints their status); returns the lines to print.
    public static func run(statusOnly: Bool) throws -> [String] {
        let config = try AppConfiguration.fromProcess()
        Service.bootstrapLogging(config)
        guard let database = config.database else {
            throw AppConfigurationError(problems: ["PERCH_DATABASE_URL: required to migrate"])
        }
        let connection = Connection(configuration: database, logger: Logger(label: "perch.migrate"))
        defer { connection.close() }
        let migrator = Migrator(connection: connection, directory: try directory(config))
        if statusOnly { return try migrator.status().map(\.description) }
        let applied = try migrator.migrate()
        return applied.isEmpty ? ["nothing to apply: the database is up to date"] : applied.map { "applied \($0)" }
    }
}
