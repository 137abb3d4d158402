import Foundation
import MariaDB
import TestSupport
import Testing
import Web

#if canImport(Glibc)
    import Glibc
#endif

/// The pool on a real three-node Galera cluster (GaleraCluster.shared, started once for this suite), each
/// test under a bounded write load through the shipped nginx: a node killed, a node refusing queries, two
/// pools writing the same rows through two nodes, reads after a move. Each test leaves the cluster whole.
/// The figures each event cost are printed ("galera:" lines) for the README.
/// They run when PERCH_GALERA_TESTS=1 (deploy/test.sh sets it in its first stage; about a minute with the
/// cluster's start), as they need Debian's galera-4 and rsync.
@Suite(.serialized, .timeLimit(.minutes(4)), .enabled(if: ProcessInfo.processInfo.environment["PERCH_GALERA_TESTS"] == "1"))
struct GaleraTests {
    @Test func killedNodeCostsOnlyInFlightWritesAndIsUsedAgainAfterItRejoins() throws {
        let cluster = GaleraCluster.shared
        let rig = try ClusterRig(cluster: cluster)
        let load = rig.startLoad()
        usleep(700_000)
        #expect(cluster.connections(0, database: rig.name) > 0, "the pool is on node 0 (first of the list)")
        let killed = rig.endFault()
        cluster.kill9(0)
        let exchanges = try load.result(seconds: 60)
        let failures = exchanges.filter { $0.status != 201 }
        // Only what was in flight at the kill fails, each with the app's 503 (nginx never retries a POST): a
        // write sent after it waits until the two others have dropped the dead node from their view, then
        // succeeds. (How long that takes is printed, not asserted: it is Galera's failure detection, the
        // GaleraCluster.failureDetection settings, and the machine's load.)
        #expect(
            failures.allSatisfy { $0.status == 503 && $0.started <= killed.addingTimeInterval(0.1) },
            "failures: \(failures.map { "\($0.status) \($0.body)" })")
        #expect(failures.count <= ClusterRig.clients)
        let recovered = try #require(exchanges.filter { $0.status == 201 && $0.started > killed }.map(\.ended).min())
        print(
            "galera: kill -9 of the pool's node: \(exchanges.count) writes, \(failures.count) failed (503), writes again \(Int(recovered.timeIntervalSince(killed) * 1000)) ms after the kill, \(rig.retries()) retries"
        )
        try rig.expectAcknowledgedOn(nodes: [1, 2], exchanges)

        // The node rejoins (state transfer), and the pool moves back to it (failback every second here).
        let rejoinStarted = Date()
        try cluster.rejoin(0)
        let synced = Date()
        let more = recordedLoad(clients: 2, seconds: 3, pause: 0.02) { c, i in try rig.write(client: c, index: i) }
        #expect(more.allSatisfy { $0.status == 201 }, "\(more.filter { $0.status != 201 }.map(\.status))")
        #expect(cluster.connections(0, database: rig.name) > 0, "the pool is back on node 0")
        print("galera: node 0 rejoined in \(Int(synced.timeIntervalSince(rejoinStarted) * 1000)) ms; the pool back on it within 3 s")
        try rig.expectAcknowledgedOn(nodes: [0, 1, 2], exchanges + more)
        rig.stop()
    }

    @Test func nodeRejectingQueriesIsLeftWithoutA500() throws {
        let cluster = GaleraCluster.shared
        let rig = try ClusterRig(cluster: cluster)
        let admin = try cluster.adminConnection(0)
        defer {
            _ = try? admin.execute("SET GLOBAL wsrep_reject_queries = NONE")
            admin.close()
        }
        let readiness = Locked([Int]())
        let probe = BackgroundLoad {
            recordedLoad(clients: 1, seconds: 20, pause: 0.05, until: { _ in !rig.loadRunning }) { _, _ in try rig.client.get("/api/v1/health/ready") }
        }
        let load = rig.startLoad()
        usleep(700_000)
        let refused = rig.endFault()
        try admin.execute("SET GLOBAL wsrep_reject_queries = ALL_KILL")
        let exchanges = try load.result(seconds: 60)
        readiness.withLock { $0 = (try? probe.result(seconds: 30))?.map(\.status) ?? [] }
        let failures = exchanges.filter { $0.status != 201 }
        #expect(!exchanges.contains { $0.status == 500 })
        // ALL_KILL closes the node's connections: a COMMIT under way then may be lost with its connection
        // (503, outcome unknown); transactions cut off before it run again on another node. Nothing sent
        // after fails.
        #expect(
            failures.allSatisfy { $0.status == 503 && $0.started <= refused.addingTimeInterval(0.1) },
            "\(failures.map { "\($0.status) \($0.body)" })")
        let recovered = try #require(exchanges.filter { $0.status == 201 && $0.started > refused }.map(\.ended).min())
        #expect(readiness.current.allSatisfy { $0 == 200 }, "readiness while node 0 refused: \(readiness.current)")
        #expect(cluster.connections(1, database: rig.name) + cluster.connections(2, database: rig.name) > 0)
        print(
            "galera: wsrep_reject_queries=ALL_KILL on the pool's node: \(exchanges.count) writes, \(failures.count) failed (503), writes again \(Int(recovered.timeIntervalSince(refused) * 1000)) ms after, \(rig.retries()) retries; readiness \(readiness.current.count)x 200"
        )

        // No node usable: readiness says so (503), and writes get 503, not 500.
        let others = try [cluster.adminConnection(1), cluster.adminConnection(2)]
        for other in others { try other.execute("SET GLOBAL wsrep_reject_queries = ALL_KILL") }
        let ready = try rig.client.get("/api/v1/health/ready")
        let write = try rig.write(client: 99, index: 0)
        for other in others {
            try other.execute("SET GLOBAL wsrep_reject_queries = NONE")
            other.close()
        }
        #expect(ready.status == .serviceUnavailable)
        #expect(write.status == .serviceUnavailable && write.headers[.retryAfter] != nil, "\(write.status) \(write.text)")
        #expect(try rig.client.get("/api/v1/health/ready").status == .ok)
        try rig.expectAcknowledgedOn(nodes: [1, 2], exchanges)
        rig.stop()
    }

    @Test func readsAfterAMoveSeeTheWritesBeforeIt() throws {
        let cluster = GaleraCluster.shared
        let rig = try ClusterRig(cluster: cluster)
        let created = try rig.write(client: 0, index: 0)
        #expect(created.status == .created)
        let id = try #require(try created.json()["id"]?.intValue)
        // Node 1 (next in the list) stops applying what the cluster commits: a local LOCK TABLES ... READ
        // holds its applier on the posts table.
        let locker = try cluster.adminConnection(1, database: rig.name)
        defer { locker.close() }
        try locker.execute("LOCK TABLES posts READ")
        let moved = try rig.write(client: 0, index: 1)  // commits on node 0; node 1 cannot apply it yet
        let movedID = try #require(try moved.json()["id"]?.intValue)
        let admin = try cluster.adminConnection(0)
        defer {
            _ = try? admin.execute("SET GLOBAL wsrep_reject_queries = NONE")
            admin.close()
        }
        // A plain read on node 1 now misses the write: the lag is real. (Not through Connection, which would
        // wait for node 1 to catch up when it connects.)
        let plain = try run([
            "/usr/bin/mariadb", "--no-defaults", "-N", "-uroot", "-S", cluster.nodes[1].socket, rig.name,
            "-e", "SELECT COUNT(*) FROM posts WHERE id = \(movedID)"
        ])
        #expect(plain.output.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "\(plain.output)")
        try admin.execute("SET GLOBAL wsrep_reject_queries = ALL_KILL")  // the pool must move to node 1
        let unlock = BackgroundLoad { () -> Date in
            usleep(1_000_000)
            try locker.execute("UNLOCK TABLES")
            return Date()
        }
        let read = try rig.client.get("/api/v1/posts/\(movedID)")
        let unlocked = try unlock.result(seconds: 10)
        #expect(read.status == .ok, "the first read after the move sees the write: \(read.status)")
        #expect(Date() >= unlocked)
        #expect(try rig.client.get("/api/v1/posts/\(id)").status == .ok)
        rig.stop()
    }

    @Test func twoPoolsWritingTheSameRowsThroughTwoNodes() throws {
        let cluster = GaleraCluster.shared
        let rigA = try ClusterRig(cluster: cluster)
        // The second pool lists node 1 first: the two pools write through two nodes.
        let rigB = try ClusterRig(cluster: cluster, database: rigA.database, order: [1, 2, 0], sharing: rigA)
        let post = try rigA.write(client: 0, index: 0)
        let id = try #require(try post.json()["id"]?.intValue)
        let statuses = Locked([Int: Int]())
        let before = try cluster.certificationFailures()
        let loads = [rigA, rigB].map { rig in
            BackgroundLoad {
                recordedLoad(clients: 4, seconds: 4) { c, i in
                    try rig.client.execute(
                        .patch, "/api/v1/posts/\(id)", json: ["title": .string("edit \(c)-\(i)")],
                        headers: [.authorization: "Bearer \(rig.token)"])
                }
            }
        }
        let exchanges = try loads.flatMap { try $0.result(seconds: 30) }
        for exchange in exchanges { statuses.withLock { $0[exchange.status, default: 0] += 1 } }
        let conflicts = try cluster.certificationFailures() - before
        // 200, or 412 when the other pool changed the post between this one's read and write; never a 5xx.
        #expect(exchanges.allSatisfy { $0.status == 200 || $0.status == 412 || $0.status == 503 }, "\(statuses.current)")
        #expect(!exchanges.contains { $0.status == 500 })
        #expect(cluster.connections(0, database: rigA.name) > 0 && cluster.connections(1, database: rigA.name) > 0)
        let retries = rigA.retries() + rigB.retries()
        // The two nodes did certify against each other, and the pools ran the losers again.
        #expect(conflicts > 0 && retries > 0, "conflicts \(conflicts), retries \(retries)")
        print(
            "galera: two pools PATCHing one post through nodes 0 and 1 for 4 s: \(statuses.current), certification conflicts \(conflicts), retries \(retries)")
        rigA.stop()
        rigB.stop()
    }

    @Test func migrationsFromTwoHostsAtOnceApplyEachFileOnce() throws {
        let cluster = GaleraCluster.shared
        try cluster.start()
        let admin = try cluster.adminConnection(0)
        defer { admin.close() }
        let name = "perch_g\(getpid())_migrate"
        try admin.execute("CREATE DATABASE `\(name)`")
        // Two hosts, each on its own node, run `perch migrate` at the same moment.
        let urls = [cluster.url(database: name), "mariadb://\(GaleraCluster.appUser)@127.0.0.1:\(cluster.nodes[1].sqlPort)/\(name)"]
        let runs = urls.map { url in
            BackgroundLoad {
                try run(
                    [Paths.perchBinary, "migrate"],
                    environment: [
                        "PATH": "/usr/bin:/bin", "PERCH_ENV": "development",
                        "PERCH_DATABASE_URL": url,
                        "PERCH_MIGRATIONS_DIR": PrivateMariaDB.migrationsDirectory.path
                    ])
            }
        }
        let results = try runs.map { try $0.result(seconds: 120) }
        #expect(results.allSatisfy { $0.status == 0 }, "\(results.map(\.output))")
        let files = try FileManager.default.contentsOfDirectory(atPath: PrivateMariaDB.migrationsDirectory.path).filter { $0.hasSuffix(".sql") }
        for node in 0..<GaleraCluster.size {
            let check = try cluster.adminConnection(node, database: name)
            #expect(try check.query("SELECT COUNT(*) AS n FROM schema_migrations")[0].get("n", as: Int.self) == files.count)
            check.close()
        }
    }
}

/// PERCH_DATABASE_NODE_CHOICE=first against spread on the cluster, for the README's default: wrk through
/// nginx, 4 workers, 8 connections, alternating rounds, two workloads: new posts (no shared rows) and edits of
/// 5 hot posts (every writer on the same rows). Prints one "galera bench:" line per run: req/s, p50/p99, the
/// pool's retries, the nodes' certification failures, and the status codes. Runs when PERCH_GALERA_BENCH=1
/// (deploy/bench/galera.sh): a measurement, not part of the test command.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["PERCH_GALERA_BENCH"] == "1"))
struct GaleraNodeChoiceBenchmark {
    @Test func firstAgainstSpread() throws {
        let cluster = GaleraCluster.shared
        let environment = ProcessInfo.processInfo.environment
        let seconds = Int(environment["BENCH_DURATION"] ?? "") ?? 8
        let rounds = Int(environment["BENCH_ROUNDS"] ?? "") ?? 2
        for round in 1...rounds {
            for choice in ["first", "spread"] {
                let rig = try ClusterRig(cluster: cluster, settings: ["PERCH_DATABASE_NODE_CHOICE": choice])
                defer { rig.stop() }
                var ids: [Int64] = []
                for index in 0..<5 { ids.append(try #require(try rig.write(client: 0, index: index).json()["id"]?.intValue)) }
                let folder = Paths.makeTemporaryDirectory("perch-galera-bench")
                defer { try? FileManager.default.removeItem(atPath: folder) }
                try (rig.token + "\n").write(toFile: folder + "/tokens", atomically: true, encoding: .utf8)
                try ids.map(String.init).joined(separator: "\n").write(toFile: folder + "/ids", atomically: true, encoding: .utf8)
                for (workload, script, path) in [("new posts", "create_post.lua", "/api/v1/posts"), ("hot edits", "patch_post.lua", "/api/v1/posts")] {
                    let retriesBefore = rig.retries()
                    let conflictsBefore = try cluster.certificationFailures()
                    let statusesBefore = rig.statusCounts()
                    let wrk = try run(
                        [
                            "/usr/bin/wrk", "-t2", "-c8", "-d\(seconds)s", "--timeout", "10s", "-s", Paths.packageRoot + "/deploy/bench/lua/" + script,
                            "http://127.0.0.1:\(rig.nginx.port)\(path)"
                        ],
                        environment: [
                            "BENCH_LUA_DIR": Paths.packageRoot + "/deploy/bench/lua", "BENCH_TOKENS_FILE": folder + "/tokens",
                            "BENCH_IDS_FILE": folder + "/ids"
                        ], seconds: Double(seconds) + 60)
                    let line = try #require(wrk.output.split(separator: "\n").first { $0.hasPrefix("BENCH ") }, "\(wrk.output)")
                    let statuses = rig.statusCounts().merging(statusesBefore) { $0 - $1 }.filter { $0.value > 0 }
                    #expect(statuses[500] == nil, "\(statuses)")
                    #expect(line.contains(" errors=0 "), "\(line)")
                    print(
                        "galera bench: round \(round) \(choice) \(workload): \(line.dropFirst(6)) retries=\(rig.retries() - retriesBefore) cert_failures=\(try cluster.certificationFailures() - conflictsBefore) statuses=\(statuses.sorted { $0.key < $1.key })"
                    )
                }
            }
        }
    }
}

/// A pool of `workers` on the cluster behind nginx, on a fresh migrated database, a signed-up user with a
/// bearer token, and the checks the cluster tests make.
private final class ClusterRig {
    static let workers = 4
    static let clients = 8

    let cluster: GaleraCluster
    let database: DatabaseConfiguration
    let pool: PerchPool
    let nginx: PrivateNginx
    let token: String
    var name: String { database.database ?? "" }
    private let faultOver = Locked<Date?>(nil)
    private let running = Locked(false)

    let environment: [String: String]

    /// `sharing`: another rig whose database, signing key and user this one uses.
    init(
        cluster: GaleraCluster, database: DatabaseConfiguration? = nil, order: [Int] = [0, 1, 2], sharing other: ClusterRig? = nil,
        settings: [String: String] = [:]
    ) throws {
        self.cluster = cluster
        let database = try database ?? cluster.makeMigratedDatabase()
        self.database = database
        let url =
            "mariadb://\(GaleraCluster.appUser)@" + order.map { "127.0.0.1:\(cluster.nodes[$0].sqlPort)" }.joined(separator: ",")
            + "/\(database.database ?? "")?connect_timeout=2"
        var environment = other?.environment ?? FaultTests.appEnvironment(database)
        environment["PERCH_DATABASE_URL"] = url
        environment["PERCH_DATABASE_FAILBACK"] = "1"
        environment["PERCH_REQUEST_TIMEOUT"] = "20"
        environment.merge(settings) { $1 }
        self.environment = environment
        pool = try PerchPool(workers: Self.workers, environment: environment)
        nginx = try PrivateNginx(socketPath: pool.socketPath)
        if let token = other?.token {
            self.token = token
        } else {
            let client = LiveTestClient(host: "127.0.0.1", port: nginx.port, timeout: 15)
            let email = "writer\(UInt32.random(in: 0...UInt32.max))@example.com"
            let signUp = try client.execute(.post, "/api/v1/users", json: ["email": .string(email), "password": "a long enough secret"])
            guard signUp.status == .created else { throw SupportError("sign-up: \(signUp.status) \(signUp.text)") }
            let login = try client.execute(.post, "/api/v1/auth/login", form: [("username", email), ("password", "a long enough secret")])
            guard let token = try? login.json()["access_token"]?.stringValue else { throw SupportError("login: \(login.status) \(login.text)") }
            self.token = token
        }
    }

    var client: LiveTestClient { LiveTestClient(host: "127.0.0.1", port: nginx.port, timeout: 25) }
    var loadRunning: Bool { running.current }

    func write(client c: Int, index: Int) throws -> TestResponse {
        try client.execute(
            .post, "/api/v1/posts", json: ["title": .string("c\(c)-\(index)"), "content": .string("by \(c), \(index)"), "published": true],
            headers: [.authorization: "Bearer \(token)"])
    }

    /// `clients` writers, each POSTing one post after another until 3 s after `endFault()` (20 s at most): time for the cluster to drop a killed node.
    func startLoad() -> BackgroundLoad<[Exchange]> {
        let faultOver = self.faultOver
        running.withLock { $0 = true }
        return BackgroundLoad { [self] in
            defer { running.withLock { $0 = false } }
            return recordedLoad(
                clients: Self.clients, seconds: 20, pause: 0.01,
                until: { last in faultOver.current.map { last.started > $0.addingTimeInterval(3) } ?? false }
            ) { c, i in
                try self.write(client: c, index: i)
            }
        }
    }

    @discardableResult
    func endFault() -> Date {
        let now = Date()
        faultOver.withLock { $0 = now }
        return now
    }

    /// Transactions and statements the pool ran again, from its log.
    func retries() -> Int {
        pool.process.log.split(separator: "\n").filter { $0.contains("transaction retried") || $0.contains("statement retried") }.count
    }

    /// How many responses of each status the pool logged.
    func statusCounts() -> [Int: Int] {
        var counts: [Int: Int] = [:]
        for line in pool.process.log.split(separator: "\n") where line.contains("msg=request ") {
            guard let field = line.split(separator: " ").first(where: { $0.hasPrefix("status=") }), let status = Int(field.dropFirst(7)) else { continue }
            counts[status, default: 0] += 1
        }
        return counts
    }

    /// Every acknowledged (201) post is on each of `nodes`, as written.
    func expectAcknowledgedOn(nodes: [Int], _ exchanges: [Exchange]) throws {
        let created = exchanges.filter { $0.status == 201 }
        #expect(!created.isEmpty)
        for node in nodes {
            let reader = try cluster.adminConnection(node, database: name)
            defer { reader.close() }
            try reader.execute("SET SESSION wsrep_sync_wait = 1")
            var stored: [Int64: String] = [:]
            for row in try reader.query("SELECT id, title FROM posts") { stored[try row.get("id")] = try row.get("title") }
            let missing = created.filter { exchange in
                guard let id = try? JSONValue.parse(Array(exchange.body.utf8))["id"]?.intValue else { return true }
                return stored[Int64(id)] != "c\(exchange.client)-\(exchange.index)"
            }
            let missingCount = missing.count
            #expect(missingCount == 0, "node \(node) lacks acknowledged writes: \(missing.prefix(3).map { "c\($0.client)-\($0.index)" })")
        }
    }

    func stop() {
        nginx.stop()
        pool.stop()
    }
}

extension GaleraCluster {
    /// Certification failures so far, summed over the live nodes.
    func certificationFailures() throws -> Int {
        var total = 0
        for node in 0..<Self.size {
            guard let admin = try? adminConnection(node) else { continue }
            defer { admin.close() }
            if let value = try? admin.query("SHOW STATUS LIKE 'wsrep_local_cert_failures'").first?.get("Value", as: String.self) {
                total += Int(value) ?? 0
            }
        }
        return total
    }
}
