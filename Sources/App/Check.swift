import FastCGI
import FoundationEssentials
import Glibc
import Logging
import MariaDB

/// `perch check`: everything `serve` needs, checked without serving, every problem listed.
/// systemd's `ExecReload=` runs it before the signal, so a reload that would be refused fails `systemctl reload`.
public enum Check {
    /// The problems found, one line each; empty when the service can start (or reload) with this setup.
    public static func problems() -> [String] {
        let config: AppConfiguration
        do {
            config = try AppConfiguration.fromProcess()  // configuration and secrets (keys, passwords, files)
        } catch let error as AppConfigurationError {
            return error.problems
        } catch {
            return ["\(error)"]
        }
        Service.bootstrapLogging(config)
        return databaseProblems(config) + socketProblems(config.pool)
    }

    /// The database answers, and every migration file is applied unchanged (pending ones are a problem:
    /// the new code expects them; run `perch migrate` first).
    static func databaseProblems(_ config: AppConfiguration) -> [String] {
        guard let database = config.database else { return [] }  // development without a database: allowed
        let connection = Connection(configuration: database, logger: Logger(label: "perch.check"))
        defer { connection.close() }
        guard connection.ping(timeout: 2) else { return ["PERCH_DATABASE_URL: the database does not answer"] }
        do {
            let migrator = Migrator(connection: connection, directory: try Migrations.directory(config))
            return try migrator.status().compactMap { migration in
                switch migration.state {
                case .applied: return nil
                case .pending: return "migration \(migration.name) is pending: run `perch migrate`"
                case .changed, .missing: return "migration: \(migration.description)"
                }
            }
        } catch let error as AppConfigurationError {
            return error.problems
        } catch {
            return ["migrations: \(error)"]
        }
    }

    /// Where `serve` would bind: a unix socket's folder must exist and be writable, its owner and group exist.
    /// (An inherited socket from systemd needs nothing; a running pool already holds its own address.)
    static func socketProblems(_ pool: PoolConfiguration) -> [String] {
        var problems: [String] = []
        if case .unix(let path)? = pool.listen {
            let folder = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
            let directory = folder.isEmpty ? (path.hasPrefix("/") ? "/" : ".") : folder
            if access(directory, W_OK | X_OK) != 0 {
                problems.append("PERCH_LISTEN: cannot create \(path): \(directory) \(String(cString: strerror(errno)))")
            }
        }
        if let owner = pool.socketOwner, getpwnam(owner) == nil {
            problems.append("PERCH_SOCKET_OWNER: \"\(owner)\" is not a user")
        }
        if let group = pool.socketGroup, getgrnam(group) == nil {
            problems.append("PERCH_SOCKET_GROUP: \"\(group)\" is not a group")
        }
        return problems
    }
}
