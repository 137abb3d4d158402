import Foundation
import MariaDB

#if canImport(Glibc)
    import Glibc
#endif

/// A three-node MariaDB Galera cluster on loopback for tests (Debian's galera-4): `gcomm://` between
/// 127.0.0.1 ports, rsync state transfers, each node in a folder of its own. `GaleraCluster.shared` starts
/// once per test process, on first use, and stops at exit; tests that kill or refuse a node put it back.
///
/// rsync state transfers need explicit data, InnoDB and Aria log paths, and a joiner's data folder that
/// rsync's daemon user can write: as root that user is nobody, so the nodes run as nobody then.
public final class GaleraCluster: @unchecked Sendable {
    public static let shared = GaleraCluster()
    public static let size = 3
    /// The user the app connects as: no SUPER, so wsrep_reject_queries applies to it as to any client.
    public static let appUser = "perch"

    public struct Node {
        public let index: Int
        public let folder: String
        public let sqlPort: Int
        let groupPort: Int, istPort: Int, sstPort: Int
        var guardian: pid_t = 0
        var lifeline: Int32 = -1
        public var socket: String { folder + "/mysqld.sock" }
    }

    private let lock = NSLock()
    private var folder: String?
    public private(set) var nodes: [Node] = []
    private var databaseCounter = 0

    private init() {}

    private var runAs: [String] { geteuid() == 0 ? ["--user=nobody"] : [] }

    /// Starts the cluster if it is not running (about 20 s: a bootstrap node and two joiners by rsync, one at a
    /// time), then waits until it is whole (`waitUntilWhole`).
    public func start() throws {
        try lock.withLock {
            try boot()
            try waitUntilWhole()
        }
    }

    private func boot() throws {
        guard nodes.isEmpty else { return }
        let folder = Paths.makeTemporaryDirectory("perch-galera")
        chmod(folder, 0o755)
        self.folder = folder
        nodes = try (0..<Self.size).map { index in
            Node(
                index: index, folder: folder + "/node\(index)", sqlPort: try freeLoopbackPort(), groupPort: try freeLoopbackPort(),
                istPort: try freeLoopbackPort(), sstPort: try freeLoopbackPort())
        }
        GaleraCluster.registerExitHook()
        for node in nodes {
            mkdir(node.folder, 0o755)
            mkdir(node.folder + "/data", 0o755)
            if geteuid() == 0 {
                chown(node.folder, 65534, 65534)
                chown(node.folder + "/data", 65534, 65534)
            }
        }
        let install = try runToCompletion(
            try Self.tool("mariadb-install-db"),
            [
                "--no-defaults", "--datadir=\(nodes[0].folder)/data", "--auth-root-authentication-method=normal",
                "--skip-test-db", "--skip-name-resolve", "--tmpdir=\(nodes[0].folder)"
            ] + runAs, log: nodes[0].folder + "/install.log")
        guard install == 0 else { throw SetupError("mariadb-install-db failed (\(install)); see \(nodes[0].folder)/install.log") }
        try launch(0, bootstrap: true)
        try waitUntilSynced(0)
        let admin = try adminConnection(0)
        defer { admin.close() }
        try admin.execute("CREATE USER '\(Self.appUser)'@'127.0.0.1'")
        try admin.execute("GRANT ALL PRIVILEGES ON `perch\\_g%`.* TO '\(Self.appUser)'@'127.0.0.1'")
        // One joiner at a time: node 0 is the donor of both.
        try launch(1)
        try waitUntilSynced(1)
        try launch(2)
        try waitUntilSynced(2)
    }

    /// Waits up to 30 s until every node answers Synced, in a primary component of all three (a partition
    /// heals by itself: Galera merges the components again); throws with the end of each node's log if not.
    private func waitUntilWhole() throws {
        var states: [String] = []
        let deadline = Date().addingTimeInterval(30)
        repeat {
            states = nodes.indices.map { index in
                guard let admin = try? adminConnection(index) else { return "no connection" }
                defer { admin.close() }
                var status: [String: String] = [:]
                for row in (try? admin.query("SHOW STATUS WHERE Variable_name IN ('wsrep_local_state_comment', 'wsrep_cluster_status', 'wsrep_cluster_size')"))
                    ?? []
                {
                    if let name = try? row.get("Variable_name", as: String.self), let value = try? row.get("Value", as: String.self) { status[name] = value }
                }
                return "\(status["wsrep_local_state_comment"] ?? "?") \(status["wsrep_cluster_status"] ?? "?") \(status["wsrep_cluster_size"] ?? "?")"
            }
            if states.allSatisfy({ $0 == "Synced Primary \(Self.size)" }) { return }
            usleep(100_000)
        } while Date() < deadline
        let logs = nodes.map { node in
            let log = (try? String(contentsOfFile: node.folder + "/error.log", encoding: .utf8)) ?? ""
            return "node\(node.index):\n" + log.split(separator: "\n").suffix(40).joined(separator: "\n")
        }
        throw SetupError("the galera cluster is not whole within 30 s: \(states)\n" + logs.joined(separator: "\n"))
    }

    /// Root over a node's unix socket, for the test's own checks and faults.
    public func adminConnection(_ index: Int, database: String? = nil) throws -> Connection {
        Connection(
            configuration: DatabaseConfiguration(
                endpoint: .socket(path: nodes[index].socket), user: "root",
                database: database, connectTimeout: 2, readTimeout: 60, writeTimeout: 30))
    }

    /// A new migrated database; the configuration lists the three nodes in order, as the app user over TCP.
    public func makeMigratedDatabase() throws -> DatabaseConfiguration {
        try start()
        let name = lock.withLock { () -> String in
            databaseCounter += 1
            return "perch_g\(getpid())_\(databaseCounter)"
        }
        let admin = try adminConnection(0)
        defer { admin.close() }
        try admin.execute("CREATE DATABASE `\(name)` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        var configuration = try DatabaseConfiguration(url: url(database: name))
        configuration.connectTimeout = 2
        let connection = Connection(configuration: configuration)
        defer { connection.close() }
        try Migrator(connection: connection, directory: PrivateMariaDB.migrationsDirectory).migrate()
        return configuration
    }

    /// mariadb://perch@127.0.0.1:p0,127.0.0.1:p1,127.0.0.1:p2/database
    public func url(database: String) -> String {
        "mariadb://\(Self.appUser)@" + nodes.map { "127.0.0.1:\($0.sqlPort)" }.joined(separator: ",") + "/\(database)"
    }

    /// mariadbd's pid on `index` (0 when not running).
    public func serverPID(_ index: Int) -> pid_t {
        guard let text = try? String(contentsOfFile: nodes[index].folder + "/mysqld.pid", encoding: .utf8) else { return 0 }
        return pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    /// kill -9 of node `index`'s mariadbd; returns when it is gone.
    public func kill9(_ index: Int) {
        lock.withLock {
            let pid = serverPID(index)
            if pid > 0 { kill(pid, SIGKILL) }
            reap(index, seconds: 10)
        }
    }

    /// Starts node `index` again (it rejoins by state transfer) and waits until it is Synced.
    public func rejoin(_ index: Int) throws {
        try lock.withLock {
            try? FileManager.default.removeItem(atPath: nodes[index].folder + "/mysqld.pid")
            try launch(index)
            try waitUntilSynced(index)
        }
    }

    /// wsrep_local_state_comment of node `index` ("Synced", "Joined", ...), or nil when it does not answer.
    public func state(_ index: Int) -> String? {
        guard let admin = try? adminConnection(index) else { return nil }
        defer { admin.close() }
        return try? admin.query("SHOW STATUS LIKE 'wsrep_local_state_comment'").first?.get("Value", as: String.self)
    }

    /// The connections of `user` on node `index`, as that node sees them.
    public func connections(_ index: Int, database: String) -> Int {
        guard let admin = try? adminConnection(index) else { return 0 }
        defer { admin.close() }
        let rows = try? admin.query("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ?", [.string(database)])
        return (try? rows?.first?.get("n", as: Int.self)) ?? 0
    }

    // MARK: - Internals (called with the lock held)

    private func launch(_ index: Int, bootstrap: Bool = false) throws {
        let node = nodes[index]
        let data = node.folder + "/data"
        let members = nodes.map { "127.0.0.1:\($0.groupPort)" }.joined(separator: ",")
        var pipeEnds: [Int32] = [-1, -1]
        guard pipe(&pipeEnds) == 0 else { throw SetupError("cannot create a pipe") }
        _ = fcntl(pipeEnds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(pipeEnds[1], F_SETFD, FD_CLOEXEC)
        defer { close(pipeEnds[0]) }
        nodes[index].lifeline = pipeEnds[1]
        nodes[index].guardian = try spawn(
            "/bin/sh",
            [
                "-c", PrivateMariaDB.guardianScript, "sh", node.folder, try Self.tool("mariadbd"),
                "--no-defaults", "--datadir=\(data)", "--socket=\(node.socket)", "--port=\(node.sqlPort)", "--bind-address=127.0.0.1",
                "--pid-file=\(node.folder)/mysqld.pid", "--log-error=\(node.folder)/error.log", "--tmpdir=\(node.folder)",
                "--innodb-data-home-dir=\(data)", "--innodb-log-group-home-dir=\(data)", "--aria-log-dir-path=\(data)",
                "--skip-name-resolve", "--innodb-buffer-pool-size=32M", "--innodb-log-file-size=16M",
                "--innodb-flush-log-at-trx-commit=2", "--innodb-doublewrite=0", "--max-connections=500",
                "--binlog-format=ROW", "--innodb-autoinc-lock-mode=2", "--default-storage-engine=InnoDB",
                "--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci",
                "--wsrep-on=ON", "--wsrep-provider=/usr/lib/galera/libgalera_smm.so", "--wsrep-cluster-name=perch-test",
                "--wsrep-cluster-address=gcomm://\(members)", "--wsrep-node-name=node\(index)",
                "--wsrep-node-address=127.0.0.1:\(node.groupPort)", "--wsrep-sst-method=rsync",
                "--wsrep-sst-receive-address=127.0.0.1:\(node.sstPort)",
                "--wsrep-provider-options=gmcast.listen_addr=tcp://127.0.0.1:\(node.groupPort);ist.recv_addr=127.0.0.1:\(node.istPort);gcache.size=64M;"
                    + Self.failureDetection
            ] + runAs + (bootstrap ? ["--wsrep-new-cluster"] : []), log: node.folder + "/stdout.log", lifeline: pipeEnds[0])
    }

    /// Galera's failure detection, shortened from its 5 s so a killed node stops blocking commits on the others
    /// within about 0.7 s: suspected after 0.5 s without a message (checked every 0.1 s, keepalives every 0.1 s),
    /// join messages resent every 0.1 s (at 0.3 s the view change took 0.13 s longer).
    /// The install timeout must stay well above the inactive timeout: it defaults to half of it, and at 1 s
    /// (with a 2 s inactive timeout) a view change under load timed out, every node declared the others inactive
    /// and each ended alone, non-primary: the whole cluster refused queries after one node was killed.
    static let failureDetection =
        "evs.keepalive_period=PT0.1S;evs.inactive_check_period=PT0.1S;evs.suspect_timeout=PT0.5S;"
        + "evs.inactive_timeout=PT6S;evs.install_timeout=PT3S;evs.join_retrans_period=PT0.1S"

    private func waitUntilSynced(_ index: Int) throws {
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline {
            var status: Int32 = 0
            if waitpid(nodes[index].guardian, &status, WNOHANG) == nodes[index].guardian {
                nodes[index].guardian = 0
                close(nodes[index].lifeline)
                let tail = (try? String(contentsOfFile: nodes[index].folder + "/error.log", encoding: .utf8))?.suffix(3000) ?? ""
                throw SetupError("galera node \(index) exited during startup:\n\(tail)")
            }
            if state(index) == "Synced" { return }
            usleep(100_000)
        }
        throw SetupError("galera node \(index) not Synced within 90 s; see \(nodes[index].folder)/error.log")
    }

    /// Waits for node `index`'s guardian after its server ended (or kills it past `seconds`).
    private func reap(_ index: Int, seconds: Double) {
        let guardian = nodes[index].guardian
        guard guardian > 0 else { return }
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(seconds)
        while waitpid(guardian, &status, WNOHANG) == 0 {
            if Date() > deadline {
                let pid = serverPID(index)
                if pid > 0 { kill(pid, SIGKILL) }
                waitpid(guardian, &status, 0)
                break
            }
            usleep(20_000)
        }
        close(nodes[index].lifeline)
        nodes[index].guardian = 0
    }

    private func stopAll() {
        for index in nodes.indices where nodes[index].guardian > 0 {
            close(nodes[index].lifeline)  // the guardian sends SIGTERM
        }
        for index in nodes.indices where nodes[index].guardian > 0 {
            var status: Int32 = 0
            let deadline = Date().addingTimeInterval(30)
            while waitpid(nodes[index].guardian, &status, WNOHANG) == 0 && Date() < deadline { usleep(20_000) }
            let pid = serverPID(index)
            if pid > 0 && kill(pid, 0) == 0 { kill(pid, SIGKILL) }
            nodes[index].guardian = 0
        }
        if let folder { try? FileManager.default.removeItem(atPath: folder) }
    }

    private static let exitHook: Void = { atexit { GaleraCluster.shared.stopAll() } }()
    private static func registerExitHook() { _ = exitHook }

    static func tool(_ name: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for dir in path.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/bin", "/sbin"] {
            if FileManager.default.isExecutableFile(atPath: dir + "/" + name) { return dir + "/" + name }
        }
        throw SetupError("\(name) not found; install mariadb-server and galera-4")
    }
}
