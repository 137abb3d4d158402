import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// deploy/systemd as systemd runs it: the socket is created outside the service and handed over on fd 3
/// (LISTEN_FDS, LISTEN_PID), the shipped nginx site in front; a restart leaves the socket open, so
/// connections made meanwhile wait in its queue instead of being refused.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct DeploySystemdTests {
    @Test func socketActivatedPoolServesBehindShippedNginx() throws {
        let pool = try SocketActivatedPool(workers: 2)
        let nginx = try PrivateNginx(socketPath: pool.socketPath)
        try DeployFlow.exercise(baseURL: nginx.baseURL)
        #expect(pool.logs.contains("listen=systemd"), "perch took the socket from systemd: \(pool.logs)")
    }

    /// perch-migrate.service as the README installs it: the binary under a prefix with the migrations in
    /// share/perch/migrations, run from / (systemd's working directory) on an empty database; twice, as every
    /// start of perch.service runs it. Then the service serves on that database.
    @Test func shippedMigrateUnitPreparesAnEmptyDatabase() throws {
        let unitFile = Paths.packageRoot + "/deploy/systemd/perch-migrate.service"
        let unit = try String(contentsOfFile: unitFile, encoding: .utf8)
        let execStart = try #require(unit.components(separatedBy: "\n").first { $0.hasPrefix("ExecStart=") })
        let prefix = Paths.makeTemporaryDirectory("perch-prefix")
        defer { try? FileManager.default.removeItem(atPath: prefix) }
        let migrations = prefix + "/share/perch/migrations"
        for folder in [prefix + "/bin", migrations] { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        let binary = try perchCopy(in: prefix + "/bin")
        for file in try FileManager.default.contentsOfDirectory(atPath: PrivateMariaDB.migrationsDirectory.path) where file.hasSuffix(".sql") {
            try FileManager.default.copyItem(atPath: PrivateMariaDB.migrationsDirectory.path + "/" + file, toPath: migrations + "/" + file)
        }
        let command = try replacingRequired(String(execStart.dropFirst("ExecStart=".count)), "/usr/local/bin/perch", with: binary, in: unitFile)
        let database = try #require(try PrivateMariaDB.shared.makeDatabase().perchEnvironment["PERCH_DATABASE_URL"])
        var environment = try ShippedConfiguration.environment(
            file: Paths.packageRoot + "/deploy/systemd/perch.env",
            overrides: ["PERCH_DATABASE_URL": database])
        environment["PATH"] = "/usr/bin:/bin"
        let arguments = ["/usr/bin/env", "-C", "/"] + command.split(separator: " ").map(String.init)
        let first = try run(arguments, environment: environment, seconds: 60)
        #expect(first.status == 0 && first.output.contains("applied 0001_"), "\(first.output)")
        let second = try run(arguments, environment: environment, seconds: 60)
        #expect(second.status == 0 && !second.output.contains("applied"), "nothing left to apply: \(second.output)")

        let pool = try SocketActivatedPool(workers: 2, overrides: ["PERCH_DATABASE_URL": database])
        let nginx = try PrivateNginx(socketPath: pool.socketPath)
        try DeployFlow.exercise(baseURL: nginx.baseURL)
    }

    /// perch.service is Type=notify and its ExecReload= runs `perch check` before the HUP: the check passes on
    /// the shipped configuration with a migrated database and refuses (78, so `systemctl reload` fails) a
    /// database with a pending migration.
    @Test func shippedReloadRunsPerchCheckFirst() throws {
        let unitFile = Paths.packageRoot + "/deploy/systemd/perch.service"
        let unit = try String(contentsOfFile: unitFile, encoding: .utf8)
        #expect(unit.contains("\nType=notify\n"), "perch says when it serves")
        let reloads = unit.components(separatedBy: "\n").filter { $0.hasPrefix("ExecReload=") }
        #expect(reloads.count == 2 && reloads.last?.contains("kill -HUP $MAINPID") == true, "check, then signal: \(reloads)")
        let check = try replacingRequired(
            String(try #require(reloads.first).dropFirst("ExecReload=".count)),
            "/usr/local/bin/perch", with: Paths.perchBinary, in: unitFile)
        func runCheck(databaseURL: String) throws -> CommandResult {
            var environment = try ShippedConfiguration.environment(
                file: Paths.packageRoot + "/deploy/systemd/perch.env",
                overrides: ["PERCH_DATABASE_URL": databaseURL, "PERCH_MIGRATIONS_DIR": PrivateMariaDB.migrationsDirectory.path])
            environment["PATH"] = "/usr/bin:/bin"
            return try run(check.split(separator: " ").map(String.init), environment: environment, seconds: 60)
        }
        let migrated = try #require((try PrivateMariaDB.shared.makeMigratedDatabase()).perchEnvironment["PERCH_DATABASE_URL"])
        let good = try runCheck(databaseURL: migrated)
        #expect(good.status == 0, "\(good.output)")
        let empty = try #require((try PrivateMariaDB.shared.makeDatabase()).perchEnvironment["PERCH_DATABASE_URL"])
        let pending = try runCheck(databaseURL: empty)
        #expect(pending.status == 78 && pending.output.contains("pending"), "\(pending.output)")
    }

    @Test func restartsDuringLoadRefuseNoConnectionAndFailNoRequest() throws {
        let pool = try SocketActivatedPool(workers: 2)
        let nginx = try PrivateNginx(socketPath: pool.socketPath)
        let post = try DeployFlow.exercise(baseURL: nginx.baseURL)
        // Reads until the restarts are over (not a fixed count, which a fast machine finished before the
        // second restart), each on a new connection, so a refused connection shows as a 502.
        let restarted = Locked(false)
        let client = LiveTestClient(port: nginx.port)
        let load = BackgroundLoad {
            recordedLoad(clients: 10, seconds: 60, until: { _ in restarted.current }) { _, _ in try client.get(post) }
        }
        usleep(300_000)
        for restart in 1...2 {
            let previous = try #require(pool.master)
            let status = try pool.restart()
            #expect(status == 0, "restart \(restart): the old master stops gracefully within the stop timeout: \(pool.logs)")
            #expect(!ChildProcess.isAlive(previous.pid))
            #expect(load.isRunning, "restart \(restart) must happen during the load; make the load longer")
            usleep(300_000)
        }
        restarted.withLock { $0 = true }
        let exchanges = try load.result()
        let failed = exchanges.filter { $0.status != 200 }
        #expect(exchanges.count > 100, "the load ran: \(exchanges.count) reads")
        #expect(failed.isEmpty, "\(failed.count) of \(exchanges.count) reads failed, e.g. \(failed.prefix(3))\nnginx: \(nginx.errorLog)")
        #expect(!nginx.errorLog.contains("connect() to unix:"), "no connection refused: \(nginx.errorLog)")
        #expect(FileManager.default.fileExists(atPath: pool.socketPath), "the socket file belongs to systemd and stays")
        #expect(pool.starts == 3)
        try DeployFlow.exercise(baseURL: nginx.baseURL)
    }
}
