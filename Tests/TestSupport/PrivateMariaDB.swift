import Foundation
import MariaDB

#if canImport(Glibc)
    import Glibc
#endif

/// A MariaDB server for tests.
///
/// `PrivateMariaDB.shared` uses `PERCH_TEST_DATABASE_URL` (password in `PERCH_TEST_DATABASE_PASSWORD`) when
/// set; otherwise it starts one private server per test process, lazily and thread-safely, in a temporary
/// folder (unix socket only, no TCP), and stops it at process exit. `PrivateMariaDB()` makes a separate
/// private server, for tests that stop or restart it without disturbing others.
public final class PrivateMariaDB: @unchecked Sendable {
    public static let shared = PrivateMariaDB(allowExternal: true)

    /// The repository's sql/migrations folder.
    public static let migrationsDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("sql/migrations")

    private let lock = NSLock()
    private let allowExternal: Bool
    private var folder: String?
    /// The shell that runs mariadbd and kills it when `lifeline` closes, which also happens when this
    /// process dies in any way (crash, SIGKILL): no server outlives its tests.
    private var guardian: pid_t = 0
    private var lifeline: Int32 = -1
    private var server: DatabaseConfiguration?
    private var admin: Connection?
    private var databaseCounter = 0

    /// A separate private server; it starts on first use (or `start()`) and stops at process exit.
    public convenience init() { self.init(allowExternal: false) }

    private init(allowExternal: Bool) { self.allowExternal = allowExternal }

    /// The server's configuration with no database selected (root over the socket). Starts it if needed.
    public func serverConfiguration() throws -> DatabaseConfiguration {
        try lock.withLock { try ensureRunning() }
    }

    /// A new, empty, uniquely named database (utf8mb4, utf8mb4_unicode_ci).
    public func makeDatabase() throws -> DatabaseConfiguration {
        try lock.withLock {
            let server = try ensureRunning()
            databaseCounter += 1
            let name = "perch_t\(getpid())_\(databaseCounter)_\(UInt32.random(in: 0...UInt32.max))"
            let admin = self.admin ?? Connection(configuration: server)
            self.admin = admin
            try admin.execute("CREATE DATABASE `\(name)` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
            return server.with(database: name)
        }
    }

    /// A new database with sql/migrations applied.
    public func makeMigratedDatabase() throws -> DatabaseConfiguration {
        let configuration = try makeDatabase()
        let connection = Connection(configuration: configuration)
        defer { connection.close() }
        try Migrator(connection: connection, directory: Self.migrationsDirectory).migrate()
        return configuration
    }

    /// Starts the private server (installing its data folder the first time). No-op when running.
    public func start() throws {
        try lock.withLock { _ = try ensureRunning() }
    }

    /// Stops the private server (SIGTERM, then waits); its data stays for a later `start()`.
    public func stop() throws {
        try lock.withLock {
            guard !isExternal else { throw SetupError("cannot stop an external test database") }
            stopServer()
        }
    }

    /// Freezes the server (SIGSTOP): it keeps its connections but answers nothing, as when overloaded.
    public func suspend() throws {
        try signalServer(SIGSTOP)
        // The signal is delivered asynchronously: wait until the kernel reports the process stopped.
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            let stat = (try? String(contentsOfFile: "/proc/\(serverPID())/stat", encoding: .utf8)) ?? ""
            if let close = stat.lastIndex(of: ")"), stat[close...].hasPrefix(") T") { return }
            usleep(5_000)
        }
    }

    /// Undoes `suspend()` (SIGCONT).
    public func resume() throws {
        try signalServer(SIGCONT)
    }

    private func signalServer(_ signal: Int32) throws {
        try lock.withLock {
            let pid = serverPID()
            guard !isExternal, guardian > 0, pid > 0 else { throw SetupError("no private server running") }
            kill(pid, signal)
        }
    }

    public func restart() throws {
        try stop()
        try start()
    }

    // MARK: - Internals (called with the lock held)

    private var isExternal: Bool {
        allowExternal && ProcessInfo.processInfo.environment["PERCH_TEST_DATABASE_URL"] != nil
    }

    private func ensureRunning() throws -> DatabaseConfiguration {
        let env = ProcessInfo.processInfo.environment
        if allowExternal, let url = env["PERCH_TEST_DATABASE_URL"] {
            if let server { return server }
            let configuration = try DatabaseConfiguration(url: url, password: env["PERCH_TEST_DATABASE_PASSWORD"])
            server = configuration.with(database: nil)
            return server!
        }
        if guardian > 0, let server { return server }
        let folder = try self.folder ?? makeFolder()
        self.folder = folder
        let data = folder + "/data"
        if !FileManager.default.fileExists(atPath: data + "/mysql") {
            let status = try runToCompletion(
                try tool("mariadb-install-db"),
                [
                    "--no-defaults", "--datadir=\(data)", "--auth-root-authentication-method=normal",
                    "--skip-test-db", "--skip-name-resolve", "--tmpdir=\(folder)"  // not the shared /tmp, where a temp table file once vanished mid-install
                ] + userArgument, log: folder + "/install.log")
            guard status == 0 else { throw SetupError("mariadb-install-db failed (\(status)); see \(folder)/install.log") }
        }
        let socket = folder + "/mysqld.sock"
        try? FileManager.default.removeItem(atPath: folder + "/mysqld.pid")
        var pipeEnds: [Int32] = [-1, -1]
        guard pipe(&pipeEnds) == 0 else { throw SetupError("cannot create a pipe") }
        // Not inherited by anything else this process spawns; the spawn below dup2s the read end to fd 3.
        _ = fcntl(pipeEnds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(pipeEnds[1], F_SETFD, FD_CLOEXEC)
        defer { close(pipeEnds[0]) }
        lifeline = pipeEnds[1]
        guardian = try spawn(
            "/bin/sh",
            [
                "-c", Self.guardianScript, "sh", folder, try tool("mariadbd"),
                "--no-defaults", "--datadir=\(data)", "--socket=\(socket)", "--skip-networking",
                "--pid-file=\(folder)/mysqld.pid", "--log-error=\(folder)/error.log", "--tmpdir=\(folder)",
                "--skip-log-bin", "--skip-name-resolve", "--innodb-buffer-pool-size=32M",
                "--innodb-log-file-size=16M", "--innodb-flush-log-at-trx-commit=2", "--innodb-doublewrite=0",
                "--innodb-lock-wait-timeout=10", "--max-connections=1000",
                "--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci"
            ] + userArgument, log: folder + "/stdout.log", lifeline: pipeEnds[0])
        PrivateMariaDB.register(self)
        let configuration = DatabaseConfiguration(
            endpoint: .socket(path: socket), user: "root", database: nil,
            connectTimeout: 2, readTimeout: 30, writeTimeout: 30)
        try waitUntilAnswering(configuration, log: folder + "/error.log")
        server = configuration
        return configuration
    }

    private var userArgument: [String] { geteuid() == 0 ? ["--user=root"] : [] }

    /// Runs "$@" (mariadbd) and waits for it; a watcher kills it with SIGTERM once fd 3 (the lifeline
    /// pipe) reaches end of file. mariadbd itself gets no fd 3. When the test process is gone by then
    /// (crashed, killed), nobody else will remove the server's folder ($1), so the guardian does.
    static let guardianScript = """
        folder=$1; shift
        "$@" 3<&- &
        server=$!
        ( cat <&3 >/dev/null; kill -TERM $server 2>/dev/null ) &
        exec 3<&-
        wait $server
        status=$?
        kill -0 $PPID 2>/dev/null || rm -rf "$folder"
        exit $status
        """

    /// mariadbd's own pid, from its pid file (0 when unknown).
    private func serverPID() -> pid_t {
        guard let folder, let text = try? String(contentsOfFile: folder + "/mysqld.pid", encoding: .utf8) else { return 0 }
        return pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    private func waitUntilAnswering(_ configuration: DatabaseConfiguration, log: String) throws {
        let probe = Connection(configuration: configuration)
        defer { probe.close() }
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            var status: Int32 = 0
            if waitpid(guardian, &status, WNOHANG) == guardian {
                guardian = 0
                close(lifeline)
                let tail = (try? String(contentsOfFile: log, encoding: .utf8))?.suffix(2000) ?? ""
                throw SetupError("mariadbd exited during startup:\n\(tail)")
            }
            if FileManager.default.fileExists(atPath: configuration.socketPath ?? ""),
                (try? probe.query("SELECT 1")) != nil
            {
                return
            }
            usleep(50_000)
        }
        stopServer()
        throw SetupError("mariadbd did not answer within 60s; see \(log)")
    }

    private func stopServer() {
        guard guardian > 0 else { return }
        admin?.close()
        let pid = serverPID()
        if pid > 0 { kill(pid, SIGCONT) }  // in case a test suspended it
        close(lifeline)  // the guardian sends SIGTERM and waits for mariadbd to exit
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(60)
        while waitpid(guardian, &status, WNOHANG) == 0 {
            if Date() > deadline {
                if pid > 0 { kill(pid, SIGKILL) }
                waitpid(guardian, &status, 0)
                break
            }
            usleep(20_000)
        }
        guardian = 0
    }

    private func makeFolder() throws -> String {
        var template = Array("/tmp/perch-mdb-XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else { throw SetupError("cannot create a temporary folder") }
        return String(cString: template)
    }

    private func tool(_ name: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for dir in path.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/local/sbin", "/usr/bin", "/sbin"] {
            let candidate = dir + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw SetupError("\(name) not found; install mariadb-server or set PERCH_TEST_DATABASE_URL")
    }

    // MARK: - Process exit

    private static let registryLock = NSLock()
    nonisolated(unsafe) private static var running: [ObjectIdentifier: PrivateMariaDB] = [:]
    private static let exitHook: Void = { atexit { PrivateMariaDB.stopAll() } }()

    private static func register(_ instance: PrivateMariaDB) {
        _ = exitHook
        registryLock.withLock { running[ObjectIdentifier(instance)] = instance }
    }

    private static func stopAll() {
        let instances = registryLock.withLock { Array(running.values) }
        for instance in instances {
            instance.stopServer()  // no lock: a test thread may hold it while the process exits
            if let folder = instance.folder { try? FileManager.default.removeItem(atPath: folder) }
        }
    }
}

public struct SetupError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

extension DatabaseConfiguration {
    var socketPath: String? {
        if case .socket(let path) = endpoint { return path }
        return nil
    }
}

// MARK: - Spawning without inheriting the test process's descriptors

/// Starts `path` with stdout and stderr appended to `log`, stdin from /dev/null, `lifeline` (if any) as
/// fd 3, and every other descriptor closed (a test's listening sockets must not live on in the server).
func spawn(_ path: String, _ arguments: [String], log: String, lifeline: Int32? = nil) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    if let lifeline { posix_spawn_file_actions_adddup2(&actions, lifeline, 3) }
    if let closeFrom = closeFromAction { _ = closeFrom(&actions, lifeline == nil ? 3 : 4) }
    // The spawning thread may have signals blocked or ignored (test runner threads do): the child
    // must start with an empty mask and default handlers, or it cannot wait for or be stopped by them.
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var noSignals = sigset_t()
    sigemptyset(&noSignals)
    var allSignals = sigset_t()
    sigfillset(&allSignals)
    posix_spawnattr_setsigmask(&attributes, &noSignals)
    posix_spawnattr_setsigdefault(&attributes, &allSignals)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
    guard rc == 0 else { throw SetupError("cannot start \(path): \(String(cString: strerror(rc)))") }
    return pid
}

func runToCompletion(_ path: String, _ arguments: [String], log: String) throws -> Int32 {
    let pid = try spawn(path, arguments, log: log)
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return (status & 0x7f) == 0 ? (status >> 8) & 0xff : -1
}

/// glibc's posix_spawn_file_actions_addclosefrom_np (2.34+), looked up at run time since the Glibc
/// module does not export GNU extensions.
private let closeFromAction: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
    return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
}()
