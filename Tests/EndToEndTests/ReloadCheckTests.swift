import Foundation
import TestSupport
import Testing

/// The master's own check before a reload (HUP) covers the database and its migrations, as `perch check`
/// does: new code whose migration is not applied yet is refused, logged, and the old workers keep serving.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct ReloadCheckTests {
    @Test func reloadWithAPendingMigrationIsRefusedAndTheOldWorkersServe() throws {
        let database = try PrivateMariaDB.shared.makeMigratedDatabase()
        let migrations = Paths.makeTemporaryDirectory()
        for file in try FileManager.default.contentsOfDirectory(atPath: PrivateMariaDB.migrationsDirectory.path) where file.hasSuffix(".sql") {
            try FileManager.default.copyItem(atPath: PrivateMariaDB.migrationsDirectory.path + "/" + file, toPath: migrations + "/" + file)
        }
        var environment = FaultTests.appEnvironment(database)
        environment["PERCH_MIGRATIONS_DIR"] = migrations
        let pool = try PerchPool(workers: 2, environment: environment)
        let workers = Set(pool.workerPIDs)

        try "CREATE TABLE reload_check_probe (id INT PRIMARY KEY);\n".write(
            toFile: migrations + "/9999_reload_check_probe.sql", atomically: true, encoding: .utf8)
        pool.process.signal(SIGHUP)
        #expect(eventually(seconds: 20) { pool.process.log.contains("reload refused") })
        #expect(pool.process.log.contains("9999_reload_check_probe.sql is pending"), "\(pool.process.log)")
        #expect(Set(pool.workerPIDs) == workers, "the old generation keeps serving")
        let connection = try FastCGIConnection(unixPath: pool.socketPath)
        connection.send(FastCGIConnection.request(fastCGIParams("/api/v1/health")))
        #expect(connection.readResponse()?.hasPrefix("Status: 200 OK") == true)

        // Once the database is up to date again, the same reload goes through.
        try FileManager.default.removeItem(atPath: migrations + "/9999_reload_check_probe.sql")
        pool.process.signal(SIGHUP)
        #expect(pool.waitForWorkers(2, excluding: workers, seconds: 20), "\(pool.process.log)")
    }
}
