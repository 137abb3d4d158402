import FoundationEssentials
import Glibc

/// One migration file and where it stands.
public struct MigrationStatus: Sendable, Equatable, CustomStringConvertible {
    public enum State: Sendable, Equatable {
        case pending
        case applied(at: Date)
        /// Applied, but the file changed since (its checksum differs).
        case changed(appliedAt: Date)
        /// Applied, but the file is gone.
        case missing(appliedAt: Date)
    }

    public var version: Int
    /// File name, e.g. "0001_create_users.sql".
    public var name: String
    public var state: State

    /// One line for `migrate --status`, e.g. "applied  0001_create_users.sql  2026-01-02 03:04:05 UTC".
    public var description: String {
        func utc(_ date: Date) -> String {
            var time = time_t(date.timeIntervalSince1970.rounded(.down))
            var t = tm()
            gmtime_r(&time, &t)
            func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
            return "\(t.tm_year + 1900)-\(two(t.tm_mon + 1))-\(two(t.tm_mday)) \(two(t.tm_hour)):\(two(t.tm_min)):\(two(t.tm_sec)) UTC"
        }
        switch state {
        case .pending: return "pending  \(name)"
        case .applied(let at): return "applied  \(name)  \(utc(at))"
        case .changed(let at): return "CHANGED  \(name)  applied \(utc(at)), file modified since"
        case .missing(let at): return "MISSING  \(name)  applied \(utc(at)), file gone"
        }
    }
}

public enum MigrationError: Error, Equatable, CustomStringConvertible {
    case badFileName(String)
    case duplicateVersion(Int, [String])
    case unreadable(file: String, reason: String)
    case changedAfterApply(file: String)
    case missingAppliedFile(file: String)
    case lockTimeout(seconds: Int)
    case statementFailed(file: String, index: Int, line: Int, firstLine: String, error: DatabaseError)

    public var description: String {
        switch self {
        case .badFileName(let name):
            return "migration folder: '\(name)' is not named NNNN_name.sql (4 digits, then lowercase letters, digits, _)"
        case .duplicateVersion(let version, let files):
            return "migration folder: version \(version) is used by more than one file: \(files.joined(separator: ", "))"
        case .unreadable(let file, let reason):
            return "migration \(file): cannot read it as UTF-8 text: \(reason)"
        case .changedAfterApply(let file):
            return "migration \(file) was changed after it was applied (checksum differs); restore it and add a new migration instead"
        case .missingAppliedFile(let file):
            return "migration \(file) was applied but its file is missing from the folder"
        case .lockTimeout(let seconds):
            return "another migration run holds the lock 'perch_migrate' (waited \(seconds)s; on a Galera cluster the holder is in "
                + "schema_migrations_lock: if that run died, DELETE its row)"
        case .statementFailed(let file, let index, let line, let firstLine, let error):
            return "migration \(file) failed at statement \(index) (line \(line): \(firstLine)): \(error)"
        }
    }
}

/// Applies numbered SQL files (`NNNN_name.sql`) from a folder in order and records each in
/// `schema_migrations` with its SHA-256. Concurrent runs serialise on `GET_LOCK('perch_migrate')`, or on a
/// Galera cluster (where GET_LOCK holds on one node only) on a row of `schema_migrations_lock`, which the
/// cluster certifies like any write: two hosts on two nodes cannot both hold it. DDL runs in total order
/// (Galera's default, TOI), so every node has applied a file's statements before it is recorded.
/// MariaDB commits DDL implicitly, so each file is recorded right after its statements ran; a file that
/// fails half-way leaves its earlier statements applied and is not recorded (write migrations so a
/// failed one can be fixed and re-run, e.g. CREATE TABLE IF NOT EXISTS when in doubt).
public final class Migrator {
    public let connection: Connection
    public let directory: URL
    public let lockTimeout: Int

    static let lockName = "perch_migrate"

    public init(connection: Connection, directory: URL, lockTimeout: Int = 60) {
        self.connection = connection
        self.directory = directory
        self.lockTimeout = lockTimeout
    }

    struct File {
        var version: Int
        var name: String
        var contents: Data
    }

    struct Applied {
        var version: Int
        var name: String
        var checksum: String
        var appliedAt: Date
    }

    /// Every file and every applied migration, in version order. Does not change the database.
    public func status() throws -> [MigrationStatus] {
        let files = try readFolder()
        let applied = try appliedMigrations()
        var result: [MigrationStatus] = []
        let appliedByVersion = Dictionary(applied.map { ($0.version, $0) }, uniquingKeysWith: { a, _ in a })
        for file in files {
            if let record = appliedByVersion[file.version] {
                let sum = try checksum(file.contents)
                let same = record.name == file.name && sum == record.checksum
                result.append(
                    MigrationStatus(
                        version: file.version, name: file.name,
                        state: same ? .applied(at: record.appliedAt) : .changed(appliedAt: record.appliedAt)))
            } else {
                result.append(MigrationStatus(version: file.version, name: file.name, state: .pending))
            }
        }
        let fileVersions = Set(files.map(\.version))
        for record in applied where !fileVersions.contains(record.version) {
            result.append(MigrationStatus(version: record.version, name: record.name, state: .missing(appliedAt: record.appliedAt)))
        }
        return result.sorted { $0.version < $1.version }
    }

    /// Applies the pending files in order and returns their names (empty when there was nothing to do).
    /// Refuses to run when an applied file changed or is missing.
    @discardableResult
    public func migrate() throws -> [String] {
        let files = try readFolder()  // bad names fail before touching the database
        try acquireLock()
        defer { releaseLock() }
        try connection.executeUnprepared(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version INT UNSIGNED NOT NULL PRIMARY KEY,
                name VARCHAR(255) NOT NULL,
                checksum CHAR(64) NOT NULL,
                applied_at DATETIME(6) NOT NULL
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
            """)
        let applied = try appliedMigrations()
        let filesByVersion = Dictionary(files.map { ($0.version, $0) }, uniquingKeysWith: { a, _ in a })
        for record in applied {
            guard let file = filesByVersion[record.version] else { throw MigrationError.missingAppliedFile(file: record.name) }
            let sum = try checksum(file.contents)
            guard file.name == record.name, sum == record.checksum else {
                throw MigrationError.changedAfterApply(file: file.name)
            }
        }
        let appliedVersions = Set(applied.map(\.version))
        var done: [String] = []
        for file in files where !appliedVersions.contains(file.version) {
            try apply(file)
            done.append(file.name)
        }
        return done
    }

    private func apply(_ file: File) throws {
        guard let text = String(data: file.contents, encoding: .utf8) else {
            throw MigrationError.unreadable(file: file.name, reason: "not valid UTF-8")
        }
        for (index, statement) in SQLSplitter.split(text).enumerated() {
            do {
                try connection.executeUnprepared(statement.text)
            } catch let error as DatabaseError {
                throw MigrationError.statementFailed(
                    file: file.name, index: index + 1, line: statement.line,
                    firstLine: statement.firstLine, error: error)
            }
        }
        try connection.execute(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, UTC_TIMESTAMP(6))",
            [.integer(file.version), .string(file.name), .string(try checksum(file.contents))])
    }

    // MARK: - Folder

    func readFolder() throws -> [File] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw MigrationError.unreadable(file: directory.path, reason: "cannot list the folder")
        }
        var files: [File] = []
        for name in names.sorted() where !name.hasPrefix(".") {
            guard let version = Self.version(of: name) else { throw MigrationError.badFileName(name) }
            guard let contents = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path) else {
                throw MigrationError.unreadable(file: name, reason: "cannot open it")
            }
            files.append(File(version: version, name: name, contents: contents))
        }
        let byVersion = Dictionary(grouping: files, by: \.version)
        if let clash = byVersion.first(where: { $0.value.count > 1 }) {
            throw MigrationError.duplicateVersion(clash.key, clash.value.map(\.name).sorted())
        }
        return files.sorted { $0.version < $1.version }
    }

    /// "0001_create_users.sql" → 1; nil for anything else.
    static func version(of name: String) -> Int? {
        guard name.hasSuffix(".sql") else { return nil }
        let stem = name.dropLast(4)
        let digits = stem.prefix(4)
        let rest = stem.dropFirst(4)
        guard digits.count == 4, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
            rest.first == "_", rest.count > 1,
            rest.dropFirst().allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") })
        else { return nil }
        return Int(digits)
    }

    // MARK: - Database

    func appliedMigrations() throws -> [Applied] {
        let exists = try connection.query(
            "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'schema_migrations'")
        guard try exists.first?.get("n", as: Int.self) == 1 else { return [] }
        return try connection.query("SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version").map {
            Applied(
                version: try $0.get("version"), name: try $0.get("name"),
                checksum: try $0.get("checksum"), appliedAt: try $0.get("applied_at"))
        }
    }

    /// SHA-256 hex of the file's bytes, computed by the server (Foundation has none on Linux).
    func checksum(_ contents: Data) throws -> String {
        try connection.query("SELECT SHA2(?, 256) AS sum", [.bytes(contents)]).first?.get("sum", as: String.self) ?? ""
    }

    /// Who holds the cluster lock: this host and process, and a random part (two runs in one process).
    private lazy var holder: String = {
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, name.count - 1)
        return "\(String(cString: name)):\(getpid()):\(UInt32.random(in: 0...UInt32.max))"
    }()
    private var clusterLock = false

    private func acquireLock() throws {
        let wsrep = try connection.query("SELECT VARIABLE_VALUE AS v FROM information_schema.GLOBAL_VARIABLES WHERE VARIABLE_NAME = 'WSREP_ON'")
        clusterLock = try wsrep.first?.get("v", as: String.self).uppercased() == "ON"
        guard clusterLock else {
            let rows = try connection.query("SELECT GET_LOCK(?, ?) AS got", [.string(Self.lockName), .integer(lockTimeout)])
            guard try rows.first?.get("got", as: Int?.self) == 1 else { throw MigrationError.lockTimeout(seconds: lockTimeout) }
            return
        }
        try connection.executeUnprepared(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations_lock (
                id TINYINT UNSIGNED NOT NULL PRIMARY KEY,
                holder VARCHAR(255) NOT NULL,
                acquired_at DATETIME(6) NOT NULL
            ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
            """)
        let deadline = Date().addingTimeInterval(TimeInterval(lockTimeout))
        while true {
            do {
                try connection.execute(
                    "INSERT INTO schema_migrations_lock (id, holder, acquired_at) VALUES (1, ?, UTC_TIMESTAMP(6))",
                    [.string(holder)])
                return
            } catch DatabaseError.duplicateKey, DatabaseError.deadlock {
                // Held, or another host's insert won the certification: wait for its release.
            }
            guard Date() < deadline else { throw MigrationError.lockTimeout(seconds: lockTimeout) }
            usleep(200_000)
        }
    }

    private func releaseLock() {
        if clusterLock {
            _ = try? connection.execute("DELETE FROM schema_migrations_lock WHERE id = 1 AND holder = ?", [.string(holder)])
        } else {
            _ = try? connection.query("SELECT RELEASE_LOCK(?) AS released", [.string(Self.lockName)])
        }
    }
}
