import FastCGI
import FoundationEssentials
import Logging
import MariaDB

/// share/perch/<name> beside the binary's folder: /usr/share/perch/<name> for /usr/bin/perch. The binary as the
/// kernel knows it (Command: /proc/self/exe when started by name through PATH, as an operator types `perch migrate`).
func shareFolder(_ name: String) -> URL {
    let binary = URL(fileURLWithPath: Command().path).resolvingSymlinksInPath()
    return binary.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("share/perch/" + name)
}

/// `perch migrate`: applies (or lists) the numbered SQL files against the configured database.
public enum Migrations {
    /// PERCH_MIGRATIONS_DIR, else ./sql/migrations, else share/perch/migrations next to the binary's prefix.
    static func directory(_ config: AppConfiguration) throws -> URL {
        if let configured = config.migrationsDirectory { return URL(fileURLWithPath: configured) }
        let candidates = [
            URL(fileURLWithPath: FileManager.default.currentDirectoryPath + "/sql/migrations"),
            shareFolder("migrations")
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
