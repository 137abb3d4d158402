import Foundation
import MariaDB
import Sodium
import TestSupport
import Testing
import Web

#if canImport(Glibc)
    import Glibc
#endif

/// Writes under faults, through the shipped nginx: several clients POST posts for a few seconds while
/// workers are killed, the pool reloads or the database restarts. For each fault: the only failures are
/// clean 502/503s, few and where the fault was; the pool comes back to full strength; no process or
/// database connection is left behind; and every post the API said it created (201) is still there.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct FaultWriteTests {
    @Test func killedWorkersCostOnlyTheirRequestsInFlight() throws {
        let rig = try WriteRig(database: PrivateMariaDB.shared.makeMigratedDatabase())
        let load = rig.startLoad()
        var victims: Set<pid_t> = []
        var kills: [Date] = []
        for _ in 0..<3 {
            usleep(700_000)
            let live = rig.pool.workerPIDs.filter { ChildProcess.isAlive($0) && !victims.contains($0) }
            let victim = try #require(live.randomElement())
            kill(victim, SIGKILL)
            kills.append(Date())
            victims.insert(victim)
        }
        rig.endFault()
        let exchanges = try load.result(seconds: 60)
        // A worker runs one request at a time, but nginx may already have sent it more on its other kept
        // connections (it holds several): a kill costs those too (502s; nginx never retries a POST), and
        // nothing else (see WriteRig.failuresPerKill).
        let failures = exchanges.filter { $0.status != 201 }
        #expect(
            failures.allSatisfy { failure in kills.contains { failure.wasInFlight(at: $0, slack: WriteRig.nginxLag) } },
            "failures away from the kills \(kills): \(failures.map { ($0.started, $0.ended) })")
        try rig.expectCleanFailures(exchanges, allowed: [502], atMost: kills.count * WriteRig.failuresPerKill, settle: WriteRig.nginxLag)
        try rig.expectFullStrength(without: victims)
        try rig.expectNothingLost(exchanges)
        try rig.expectCleanStop()
    }

    @Test func reloadDuringWritesDropsNothing() throws {
        let rig = try WriteRig(database: PrivateMariaDB.shared.makeMigratedDatabase())
        let before = Set(rig.pool.workerPIDs)
        let load = rig.startLoad()
        usleep(700_000)
        rig.pool.process.signal(SIGHUP)
        #expect(eventually(seconds: 5) { rig.pool.process.log.contains("HUP: reloading") })
        rig.endFault()
        let exchanges = try load.result(seconds: 60)
        try rig.expectCleanFailures(exchanges, allowed: [], atMost: 0)
        try rig.expectNothingLost(exchanges)
        #expect(try rig.statusPageWorkers() == WriteRig.workers)
        // Old workers hand their kept connections to the master and leave, while nginx still holds them.
        #expect(rig.pool.waitForWorkers(WriteRig.workers, excluding: before, seconds: 10), "\(rig.pool.process.log)")
        try rig.expectCleanStop()
    }

    @Test func recyclingDuringWritesDropsNothing() throws {
        // Every worker leaves after a few dozen writes, many times over while nginx writes on kept connections.
        let rig = try WriteRig(
            database: PrivateMariaDB.shared.makeMigratedDatabase(),
            environment: ["PERCH_MAX_REQUESTS": "15", "PERCH_MAX_REQUESTS_JITTER": "10"])
        let before = Set(rig.pool.workerPIDs)
        let load = rig.startLoad()
        usleep(1_500_000)
        rig.endFault()
        let exchanges = try load.result(seconds: 60)
        try rig.expectCleanFailures(exchanges, allowed: [], atMost: 0)
        try rig.expectNothingLost(exchanges)
        #expect(rig.pool.process.log.contains("worker recycled"), "\(rig.pool.process.log)")
        #expect(rig.pool.waitForWorkers(WriteRig.workers, excluding: before, seconds: 10), "\(rig.pool.process.log)")
        try rig.expectCleanStop()
    }

    @Test func stuckWorkerCostsOnlyWhatWaitedOnIt() throws {
        let rig = try WriteRig(database: PrivateMariaDB.shared.makeMigratedDatabase(), requestTimeout: 1)
        let load = rig.startLoad()
        usleep(500_000)
        // A POST whose body never comes, straight on the pool's socket (nginx would buffer it): the worker
        // that takes it is stuck until the request timeout kills it.
        let stuck = try FastCGIConnection(unixPath: rig.pool.socketPath)
        var params = fastCGIParams("/api/v1/posts", method: "POST")
        params["CONTENT_LENGTH"] = "100"
        stuck.send(FastCGIConnection.beginRequest() + FastCGIConnection.params(params) + FastCGIConnection.stdin(Array("{".utf8), end: false))
        #expect(eventually(seconds: 5) { rig.pool.process.log.contains("request timed out: worker killed") }, "\(rig.pool.process.log)")
        let killed = rig.endFault()
        let victim = try #require(rig.timedOutWorkers.first)
        let exchanges = try load.result(seconds: 60)
        // What nginx had sent the stuck worker on its kept connections waited with it and failed with it
        // (502); nothing else did.
        let failures = exchanges.filter { $0.status != 201 }
        #expect(
            failures.allSatisfy { $0.wasInFlight(at: killed, slack: WriteRig.nginxLag) },
            "failures away from the kill at \(killed): \(failures.map { ($0.started, $0.ended) })")
        try rig.expectCleanFailures(exchanges, allowed: [502], atMost: WriteRig.failuresPerKill, settle: WriteRig.nginxLag)
        #expect(stuck.closedByPeer())
        try rig.expectFullStrength(without: [victim])
        // The stuck worker never read them: they wrote nothing.
        try rig.expectNothingLost(exchanges, failuresMayHaveWritten: false)
        try rig.expectCleanStop()
    }

    @Test func databaseStallPastTheTimeoutCostsOnlyTheStalledWrites() throws {
        let rig = try WriteRig(database: PrivateMariaDB.shared.makeMigratedDatabase(), requestTimeout: 1)
        let load = rig.startLoad()
        usleep(500_000)
        // Every INSERT waits on the lock, and the master kills each worker past the timeout.
        let (locked, unlocked) = try rig.lockPosts(seconds: 2.5)
        let exchanges = try load.result(seconds: 60)
        let victims = rig.timedOutWorkers
        #expect(!victims.isEmpty, "the stall outlasted the request timeout: \(rig.pool.process.log)")
        // Each kill costs the write its worker was on and those nginx had queued on its kept connections
        // (502s), and only writes that overlapped the stall.
        let failures = exchanges.filter { $0.status != 201 }
        #expect(
            failures.allSatisfy { $0.ended >= locked && $0.started <= unlocked.addingTimeInterval(WriteRig.nginxLag) },
            "failures outside the stall \(locked)...\(unlocked): \(failures.map { ($0.started, $0.ended) })")
        try rig.expectCleanFailures(exchanges, allowed: [502], atMost: victims.count * WriteRig.failuresPerKill, settle: WriteRig.nginxLag)
        try rig.expectFullStrength(without: Set(victims))
        try rig.expectNothingLost(exchanges)
        try rig.expectCleanStop()
    }

    @Test func databaseLockTimeoutCostsOnly503s() throws {
        let server = PrivateMariaDB()  // of its own: the setting below is the server's
        defer { try? server.stop() }
        let database = try server.makeMigratedDatabase()
        // The server gives up waiting for a table lock after a second; a write's transaction tries three
        // times (about 3 s, within the 5 s request timeout), so a lock held 4 s makes the app answer the
        // waiting writes itself with 503, and no worker is killed.
        let admin = Connection(configuration: try server.serverConfiguration())
        try admin.execute("SET GLOBAL lock_wait_timeout = 1")
        admin.close()
        let rig = try WriteRig(database: database)
        let workers = Set(rig.pool.workerPIDs)
        let load = rig.startLoad()
        usleep(500_000)
        let (locked, unlocked) = try rig.lockPosts(seconds: 4)
        let exchanges = try load.result(seconds: 60)
        let failures = exchanges.filter { $0.status != 201 }
        #expect(!failures.isEmpty, "the lock was seen by the load")
        #expect(
            failures.allSatisfy { $0.ended >= locked && $0.started <= unlocked },
            "failures outside the lock \(locked)...\(unlocked): \(failures.map { ($0.started, $0.ended) })")
        // Each failed write waited out the server's lock timeout three times first, so in 4 s a client fails
        // at most twice; and its INSERT never ran (rolled back).
        #expect(failures.allSatisfy { $0.ended.timeIntervalSince($0.started) >= 2.7 }, "\(failures.map { $0.ended.timeIntervalSince($0.started) })")
        try rig.expectCleanFailures(exchanges, allowed: [503], atMost: 3 * WriteRig.clients)
        #expect(Set(rig.pool.workerPIDs) == workers, "no worker died: \(rig.pool.process.log)")
        try rig.expectNothingLost(exchanges, failuresMayHaveWritten: false)
        try rig.expectCleanStop()
    }

    @Test func databaseRestartDuringWritesCostsOnly503sWhileItIsDown() throws {
        let server = PrivateMariaDB()  // of its own: restarting it disturbs no other test
        defer { try? server.stop() }
        let rig = try WriteRig(database: server.makeMigratedDatabase())
        let workers = Set(rig.pool.workerPIDs)
        let load = rig.startLoad()
        usleep(700_000)
        let down = Date()
        try server.stop()
        usleep(1_500_000)
        try server.start()
        let up = rig.endFault()
        let exchanges = try load.result(seconds: 60)
        let failures = exchanges.filter { $0.status != 201 }
        #expect(!failures.isEmpty, "the outage was seen by the load")
        // Only requests that overlapped the outage fail, each with a 503 from the app (the first request
        // after it reconnects, hence the slack).
        try rig.expectCleanFailures(exchanges, allowed: [503], atMost: failures.count)
        #expect(
            failures.allSatisfy { $0.ended >= down && $0.started <= up.addingTimeInterval(0.25) },
            "failures outside the outage \(down)...\(up): \(failures.map { ($0.started, $0.ended) })")
        try rig.expectFullStrength()
        #expect(Set(rig.pool.workerPIDs) == workers, "no worker died: \(rig.pool.process.log)")
        #expect(try rig.databaseConnections() >= 1, "the workers connected again")
        try rig.expectNothingLost(exchanges)
        try rig.expectCleanStop()
    }
}

/// A pool of `workers` behind nginx on one database, a signed-up user with a bearer token, and the checks
/// every write-fault test makes.
private final class WriteRig {
    static let workers = 3
    static let clients = 4
    /// Past the app's own request timeout (PERCH_REQUEST_TIMEOUT below): a request still unanswered by
    /// then hangs, and counts as a failure that no fault excuses.
    static let clientTimeout: TimeInterval = 15
    /// How long after a worker dies nginx may still send a request on one of its kept connections to it:
    /// it learns of the close on a later turn of its event loop, which on a loaded machine can be late.
    static let nginxLag: TimeInterval = 1
    /// What one killed worker may cost: the POSTs nginx had sent it (at most one per client, as each client
    /// has one request in flight) and, within `nginxLag`, one more per client sent on a dead kept connection.
    static let failuresPerKill = 2 * clients

    let database: DatabaseConfiguration
    let pool: PerchPool
    let nginx: PrivateNginx
    let token: String
    /// The server with no database selected: it sees the pool's connections without being one of them.
    let probe: Connection

    init(database: DatabaseConfiguration, requestTimeout: Int = 5, environment extra: [String: String] = [:]) throws {
        self.database = database
        // The cheapest password hashing (appEnvironment): a sign-up must not outlast a 1-second request timeout.
        var environment = FaultTests.appEnvironment(database).merging(extra) { $1 }
        environment["PERCH_REQUEST_TIMEOUT"] = "\(requestTimeout)"
        environment["PERCH_STATUS_PATH"] = "/status"
        pool = try PerchPool(workers: Self.workers, environment: environment)
        nginx = try PrivateNginx(socketPath: pool.socketPath)
        probe = Connection(configuration: database.with(database: nil))
        let client = LiveTestClient(host: "127.0.0.1", port: nginx.port, timeout: Self.clientTimeout)
        let signUp = try client.execute(.post, "/api/v1/users", json: ["email": "writer@example.com", "password": "a long enough secret"])
        guard signUp.status == .created else { throw SupportError("sign-up: \(signUp.status) \(signUp.text)") }
        let login = try client.execute(.post, "/api/v1/auth/login", form: [("username", "writer@example.com"), ("password", "a long enough secret")])
        guard let token = try? login.json()["access_token"]?.stringValue else { throw SupportError("login: \(login.status) \(login.text)") }
        self.token = token
    }

    deinit { probe.close() }

    var client: LiveTestClient { LiveTestClient(host: "127.0.0.1", port: nginx.port, timeout: Self.clientTimeout) }

    /// When the test's fault ended; the load goes on past it, to see the pool recovered.
    private let faultOver = Locked<Date?>(nil)

    /// `clients` clients each POSTing posts titled by client and number, at most 100 a second each, from
    /// now until each has sent one more than `nginxLag` and a quarter second after `endFault()` (20 s at
    /// most): a loaded machine may slow the writes, but each client's last one shows whether the pool
    /// recovered.
    func startLoad() -> BackgroundLoad<[Exchange]> {
        let client = self.client
        let authorization = "Bearer \(token)"
        let faultOver = self.faultOver
        return BackgroundLoad {
            recordedLoad(
                clients: Self.clients, seconds: 20, pause: 0.01,
                until: { last in faultOver.current.map { last.started > $0.addingTimeInterval(Self.nginxLag + 0.25) } ?? false }
            ) { c, i in
                let (title, content) = Self.post(client: c, index: i)
                return try client.execute(
                    .post, "/api/v1/posts", json: ["title": .string(title), "content": .string(content), "published": true],
                    headers: [.authorization: authorization])
            }
        }
    }

    @discardableResult
    func endFault() -> Date {
        let now = Date()
        faultOver.withLock { $0 = now }
        return now
    }

    static func post(client: Int, index: Int) -> (title: String, content: String) {
        ("c\(client)-\(index)", "written by client \(client), request \(index)")
    }

    /// Every request was answered: a 201, or one of `allowed` as a clean JSON problem from the app or
    /// nginx's own error page; at most `atMost` of them failed. Writes sent `settle` seconds after the
    /// fault ended (a moment for a reconnect, or `nginxLag` after a kill) all succeeded.
    func expectCleanFailures(_ exchanges: [Exchange], allowed: Set<Int>, atMost: Int, settle: TimeInterval = 0.25) throws {
        #expect(exchanges.count >= 20, "the load ran: \(exchanges.count) requests")
        let over = try #require(faultOver.current).addingTimeInterval(settle)
        let after = exchanges.filter { $0.started > over }
        #expect(!after.isEmpty && after.allSatisfy { $0.status == 201 }, "after the fault: \(after.map(\.status))")
        let failures = exchanges.filter { $0.status != 201 }
        let unclean = failures.filter { !allowed.contains($0.status) }
        #expect(unclean.isEmpty, "hangs (0) or unexpected statuses: \(unclean.prefix(5).map { "\($0.status) \($0.error ?? $0.body)" })")
        #expect(failures.count <= atMost, "\(failures.count) failed, at most \(atMost) allowed: \(failures.map(\.status))")
        if !allowed.contains(502) {
            #expect(!nginx.errorLog.contains("upstream"), "nginx saw the pool fail: \(nginx.errorLog)")
        }
        for failure in failures where failure.status == 503 {
            #expect(failure.body.contains("detail"), "a 503 from the app is a problem document: \(failure.body)")
        }
    }

    /// The pool is back at full strength, by the process list and by its own status page, with none of
    /// `gone` among its workers. Eventually: a worker killed twice within a second of its start is
    /// respawned after a pause (the pool's guard against a fork bomb).
    func expectFullStrength(without gone: Set<pid_t> = []) throws {
        #expect(pool.waitForWorkers(Self.workers, excluding: gone, seconds: 5), "\(pool.process.log)")
        #expect(eventually(seconds: 2) { (try? statusPageWorkers()) == Self.workers })
    }

    /// Holds the posts table from another session for `seconds`, as a long ALTER TABLE or a backup's lock
    /// would, then ends the fault; returns when the lock was taken and released.
    func lockPosts(seconds: Double) throws -> (locked: Date, unlocked: Date) {
        let locker = Connection(configuration: database)
        defer { locker.close() }
        try locker.execute("LOCK TABLES posts WRITE")
        let locked = Date()
        usleep(UInt32(seconds * 1_000_000))
        try locker.execute("UNLOCK TABLES")
        return (locked, endFault())
    }

    /// The workers the master killed for running past the request timeout, from its log.
    var timedOutWorkers: [pid_t] {
        pool.process.log.split(separator: "\n").filter { $0.contains("request timed out") }
            .compactMap { $0.firstMatch(of: #/pid=(\d+)/#).flatMap { pid_t($0.1) } }
    }

    func statusPageWorkers() throws -> Int? {
        let status = try curl(nginx.baseURL + "/status")
        return try JSONValue.parse(Array(status.body.utf8))["total_processes"]?.intValue.map(Int.init)
    }

    /// Every post answered with 201 is readable through the API and in the table with its content; rows
    /// beyond those are only from requests that failed, and no more than they (none at all when the
    /// failures cannot have reached the database).
    func expectNothingLost(_ exchanges: [Exchange], failuresMayHaveWritten: Bool = true) throws {
        let created = exchanges.filter { $0.status == 201 }
        let reader = Connection(configuration: database)  // a connection to the pool's database: closed at once
        defer { reader.close() }
        let rows = try reader.query("SELECT id, title, content FROM posts")
        var stored: [Int64: (title: String, content: String)] = [:]
        for row in rows { stored[try row.get("id")] = (try row.get("title"), try row.get("content")) }
        let client = self.client
        for exchange in created {
            let expected = Self.post(client: exchange.client, index: exchange.index)
            let id = try #require(try JSONValue.parse(Array(exchange.body.utf8))["id"]?.intValue, "\(exchange.body)")
            #expect(stored[id]?.title == expected.title && stored[id]?.content == expected.content, "row \(id): \(String(describing: stored[id]))")
            let read = try client.get("/api/v1/posts/\(id)")
            #expect(read.status == .ok, "GET post \(id): \(read.status)")
            #expect(try read.json()["content"]?.stringValue == expected.content)
        }
        // A request that failed may still have written its row: a worker killed, or a database stopped,
        // between the commit and the answer, or a worker killed while its INSERT waited on a lock (the
        // server runs the statement once the lock is free). It cannot have written half a row (one INSERT,
        // autocommit), and it cannot have written more than one.
        let failed = Set(exchanges.filter { $0.status != 201 }.map { Self.post(client: $0.client, index: $0.index).title })
        let createdIDs = Set(created.compactMap { try? JSONValue.parse(Array($0.body.utf8))["id"]?.intValue })
        let extra = stored.filter { !createdIDs.contains($0.key) }
        #expect(extra.values.allSatisfy { failed.contains($0.title) }, "rows from no failed request: \(extra.values.map(\.title))")
        #expect(
            rows.count - created.count <= (failuresMayHaveWritten ? failed.count : 0),
            "\(rows.count) rows for \(created.count) created and \(failed.count) failed")
        #expect(Set(extra.values.map(\.title)).count == extra.count, "a failed request wrote twice")
    }

    /// The pool's connections to its database, as the server sees them.
    func databaseConnections() throws -> Int {
        let rows = try probe.query("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ?", [.init(database.database ?? "")])
        return try rows[0].get("n", as: Int.self)
    }

    /// At most one database connection per worker while the pool runs, and no process but the master and
    /// its workers; then the pool stops and leaves no process (by the socket each one inherited) and no
    /// connection behind.
    func expectCleanStop() throws {
        // Workers connect on first use, so fewer is fine (after a reload the new ones may not have served yet).
        #expect(
            eventually(seconds: 5) { (try? databaseConnections()).map { $0 <= Self.workers } ?? false },
            "connections while running: \(String(describing: try? databaseConnections()))")
        // Every process of this pool is the master or one of its workers: none was orphaned by the fault.
        #expect(Set(pool.processes) == Set([pool.process.pid] + pool.workerPIDs), "\(pool.processes) vs \(pool.workerPIDs)")
        nginx.stop()
        pool.stop()
        #expect(pool.process.poll() == 0, "\(pool.process.log)")
        #expect(eventually(seconds: 5) { pool.processes.isEmpty }, "left behind: \(pool.processes)")
        #expect(eventually(seconds: 5) { (try? databaseConnections()) == 0 }, "connections after stop: \(String(describing: try? databaseConnections()))")
    }
}

extension PerchPool {
    /// Every live process of this pool, master, workers and orphans alike: those whose environment holds
    /// this pool's socket (other pools in this test process run the same binary).
    var processes: [pid_t] {
        let marker = Array("PERCH_LISTEN=unix:\(socketPath)".utf8)
        let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { pid_t($0) }
        return pids.filter { pid in
            guard ChildProcess.isAlive(pid), let environ = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return false }
            return [UInt8](environ).split(separator: 0).contains { Array($0) == marker }
        }
    }
}
