import Foundation
import MariaDB
import Sodium
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Faults under a bounded load, through the shipped nginx: the database restarted under the pool.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct FaultTests {
    /// A whole app on `database`: its URL, a fresh signing key and the cheapest Argon2 limits (tests check
    /// wiring and faults, not the hashing cost; a test that needs real cost sets its own).
    static func appEnvironment(_ database: DatabaseConfiguration) -> [String: String] {
        database.perchEnvironment.merging([
            "PERCH_JWT_SIGNING_KEY": JWTKeyGenerator.encode(JWTKeyGenerator.hs256Secret()),
            "PERCH_ARGON2_OPSLIMIT": "\(PasswordHasher.minimumOpsLimit)",
            "PERCH_ARGON2_MEMLIMIT": "\(PasswordHasher.minimumMemLimit)"
        ]) { $1 }
    }

    /// The master checks the database once before forking and says what it found; a database that is down
    /// at start delays nothing beyond that check and stops no worker from starting.
    @Test func masterChecksTheDatabaseOnceAtStart() throws {
        let server = PrivateMariaDB()
        let database = try server.makeMigratedDatabase()
        let pool = try PerchPool(workers: 2, environment: Self.appEnvironment(database))
        #expect(pool.waitForWorkers(2))
        #expect(pool.process.log.components(separatedBy: "database reachable at start").count == 2)
        pool.stop()

        var down = Self.appEnvironment(database)
        down["PERCH_DATABASE_URL"] = "mariadb://nobody@127.0.0.1:\(try freeLoopbackPort())/perch"
        let started = Date()
        let orphan = try PerchPool(workers: 2, environment: down)
        defer { orphan.stop() }
        #expect(orphan.waitForWorkers(2))
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(orphan.process.log.contains("database not reachable at start"))
        #expect(!orphan.process.log.contains("database reachable at start"))
    }

    /// The master's start-up work (the database check) leaves no access line, and each worker logs its
    /// requests under its own pid.
    @Test func workersLogRequestsUnderTheirOwnPid() throws {
        let server = PrivateMariaDB()
        let database = try server.makeMigratedDatabase()
        var environment = Self.appEnvironment(database)
        environment["PERCH_LOG_LEVEL"] = "info"
        let pool = try PerchPool(workers: 2, environment: environment)
        defer { pool.stop() }
        #expect(pool.waitForWorkers(2))
        for _ in 0..<6 {
            let connection = try FastCGIConnection(unixPath: pool.socketPath)
            #expect(connection.send(FastCGIConnection.request(["REQUEST_METHOD": "GET", "REQUEST_URI": "/api/v1/health"])))
            #expect(connection.readResponse()?.contains("200 OK") == true)
        }
        var accessLines: [Substring] = []
        for _ in 0..<40 {  // a worker writes held lines when idle, or after at most 100 ms
            accessLines = pool.process.log.split(separator: "\n").filter { $0.contains("msg=request") }
            if accessLines.count >= 6 { break }
            usleep(50_000)
        }
        let pids = Set(accessLines.compactMap { $0.firstMatch(of: #/ pid=(\d+)/#).flatMap { pid_t($0.1) } })
        #expect(accessLines.count == 6)
        #expect(!pids.isEmpty && pids.isSubset(of: Set(pool.workerPIDs)))
        #expect(!pids.contains(pool.process.pid))
    }

    @Test func databaseRestartCostsOnly503sAndNoWorker() throws {
        let server = PrivateMariaDB()
        let database = try server.makeMigratedDatabase()
        let pool = try PerchPool(workers: 2, environment: database.perchEnvironment)
        let nginx = try PrivateNginx(socketPath: pool.socketPath)
        let workers = Set(pool.workerPIDs)
        #expect(try curl(nginx.baseURL + "/api/v1/health/ready").status == 200)

        try server.stop()
        let during = try curl(nginx.baseURL + "/api/v1/health/ready")
        #expect(during.status == 503, "a clean 503 while the database is down, never a 502 or a hang")
        #expect(during.body.contains("detail"))
        #expect(try curl(nginx.baseURL + "/api/v1/health").status == 200, "liveness does not need the database")
        try server.start()

        #expect(eventually(seconds: 10) { (try? curl(nginx.baseURL + "/api/v1/health/ready").status) == 200 })
        let load = try abLoad(nginx.baseURL + "/api/v1/health/ready", requests: 1_000, concurrency: 8)
        #expect(load.allSucceeded, "\(load.output)")
        #expect(Set(pool.workerPIDs) == workers, "no worker died: \(pool.process.log)")
    }
}
