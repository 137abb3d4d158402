import Foundation
import MariaDB
import TestSupport
import Testing

/// A temporary migrations folder, removed when the test ends.
final class MigrationFolder {
    let url: URL
    init(_ files: [String: String]) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("perch-migrations-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for (name, text) in files { try write(name, text) }
    }
    func write(_ name: String, _ text: String) throws {
        try text.write(to: url.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }
    func remove(_ name: String) throws {
        try FileManager.default.removeItem(at: url.appendingPathComponent(name))
    }
    deinit { try? FileManager.default.removeItem(at: url) }
}

let twoFiles = [
    "0001_first.sql": "CREATE TABLE a (id INT PRIMARY KEY);\nINSERT INTO a VALUES (1);",
    "0002_second.sql": "-- b depends on a\nCREATE TABLE b (id INT PRIMARY KEY, a_id INT NOT NULL, FOREIGN KEY (a_id) REFERENCES a (id));"
]

@Suite struct MigrationTests {
    @Test func freshApplyThenRerunDoesNothing() throws {
        let folder = try MigrationFolder(twoFiles)
        let db = try freshConnection()
        let migrator = Migrator(connection: db, directory: folder.url)
        #expect(try migrator.status().map(\.state) == [.pending, .pending])
        #expect(try migrator.migrate() == ["0001_first.sql", "0002_second.sql"])
        #expect(try migrator.migrate() == [])
        #expect(try db.query("SELECT COUNT(*) AS n FROM a")[0].get("n", as: Int.self) == 1)  // not inserted twice

        let status = try migrator.status()
        #expect(status.map(\.name) == ["0001_first.sql", "0002_second.sql"])
        for entry in status {
            guard case .applied = entry.state else {
                Issue.record("\(entry)")
                continue
            }
        }
        #expect(status[0].description.hasPrefix("applied  0001_first.sql  20"))
        let sums = try db.query("SELECT checksum FROM schema_migrations ORDER BY version").map { try $0.get("checksum", as: String.self) }
        #expect(sums.count == 2 && sums.allSatisfy { $0.count == 64 })

        // A new file is pending, then applied alone.
        try folder.write("0003_third.sql", "CREATE TABLE c (id INT);")
        #expect(try migrator.status().last?.state == .pending)
        #expect(try migrator.migrate() == ["0003_third.sql"])
    }

    @Test func aChangedAppliedFileIsRefused() throws {
        let folder = try MigrationFolder(twoFiles)
        let db = try freshConnection()
        let migrator = Migrator(connection: db, directory: folder.url)
        try migrator.migrate()
        try folder.write("0001_first.sql", "CREATE TABLE a (id BIGINT PRIMARY KEY);")
        try folder.write("0003_third.sql", "CREATE TABLE c (id INT);")
        #expect(throws: MigrationError.changedAfterApply(file: "0001_first.sql")) { try migrator.migrate() }
        guard case .changed = try migrator.status()[0].state else {
            Issue.record("status not changed")
            return
        }
        // Nothing after the refusal ran.
        #expect(
            try db.query("SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'c'")[0].get("n", as: Int.self)
                == 0)
    }

    @Test func aMissingAppliedFileIsRefused() throws {
        let folder = try MigrationFolder(twoFiles)
        let db = try freshConnection()
        let migrator = Migrator(connection: db, directory: folder.url)
        try migrator.migrate()
        try folder.remove("0002_second.sql")
        #expect(throws: MigrationError.missingAppliedFile(file: "0002_second.sql")) { try migrator.migrate() }
        guard case .missing = try migrator.status()[1].state else {
            Issue.record("status not missing")
            return
        }
    }

    @Test func aBrokenFileStopsTheRunAndNamesTheStatement() throws {
        let folder = try MigrationFolder([
            "0001_ok.sql": "CREATE TABLE a (id INT);",
            "0002_broken.sql": "CREATE TABLE b (id INT);\n\nINSERT INTO b VALUES (1);\nCREATE TABEL oops (id INT);\nCREATE TABLE never (id INT);",
            "0003_after.sql": "CREATE TABLE c (id INT);"
        ])
        let db = try freshConnection()
        let migrator = Migrator(connection: db, directory: folder.url)
        do {
            try migrator.migrate()
            Issue.record("broken migration applied")
        } catch let error as MigrationError {
            guard case .statementFailed(let file, let index, let line, let firstLine, let underlying) = error else {
                Issue.record("got \(error)")
                return
            }
            #expect(file == "0002_broken.sql")
            #expect(index == 3)
            #expect(line == 4)
            #expect(firstLine == "CREATE TABEL oops (id INT)")
            guard case .server(1064, _) = underlying else {
                Issue.record("got \(underlying)")
                return
            }
            #expect("\(error)".contains("0002_broken.sql failed at statement 3 (line 4: CREATE TABEL oops (id INT))"))
        }
        #expect(try migrator.status().map(\.state.isPending) == [false, true, true])
    }

    @Test func badFileNamesAreClearErrors() throws {
        for bad in ["1_short.sql", "0001-dash.sql", "0001_Upper.sql", "0001_.sql", "notes.txt", "0001_x.SQL"] {
            let folder = try MigrationFolder(["0001_ok.sql": "SELECT 1;", bad: "SELECT 1;"])
            let migrator = Migrator(connection: try freshConnection(), directory: folder.url)
            #expect(throws: MigrationError.badFileName(bad)) { try migrator.migrate() }
        }
        let folder = try MigrationFolder(["0001_a.sql": "SELECT 1;", "0001_b.sql": "SELECT 1;"])
        #expect(throws: MigrationError.duplicateVersion(1, ["0001_a.sql", "0001_b.sql"])) {
            try Migrator(connection: try freshConnection(), directory: folder.url).migrate()
        }
    }

    @Test func twoConcurrentRunsApplyOnce() throws {
        let folder = try MigrationFolder([
            "0001_slow.sql": "CREATE TABLE a (id INT);\nDO SLEEP(0.5);\nINSERT INTO a VALUES (1);",
            "0002_more.sql": "INSERT INTO a VALUES (2);"
        ])
        let configuration = try PrivateMariaDB.shared.makeDatabase()
        let results = Locked([[String]]())
        let errors = Locked([String]())
        let finished = onThreads(2) { _ in
            do {
                let applied = try Migrator(connection: Connection(configuration: configuration), directory: folder.url).migrate()
                results.withLock { $0.append(applied) }
            } catch {
                errors.withLock { $0.append("\(error)") }
            }
        }
        #expect(finished)
        #expect(errors.current.isEmpty)
        #expect(results.current.sorted { $0.count < $1.count } == [[], ["0001_slow.sql", "0002_more.sql"]])
        let db = Connection(configuration: configuration)
        #expect(try db.query("SELECT COUNT(*) AS n FROM a")[0].get("n", as: Int.self) == 2)
    }

    @Test func theProjectMigrationsApplyAndEnforceTheSchema() throws {
        let configuration = try PrivateMariaDB.shared.makeMigratedDatabase()
        let db = Connection(configuration: configuration)
        let migrator = Migrator(connection: db, directory: PrivateMariaDB.migrationsDirectory)
        #expect(try migrator.migrate() == [])
        let files = try FileManager.default.contentsOfDirectory(atPath: PrivateMariaDB.migrationsDirectory.path).filter { $0.hasSuffix(".sql") }
        #expect(try migrator.status().count == files.count)

        let now = Date()
        let user = try db.execute(
            "INSERT INTO users (email, hashed_password, created_at, updated_at) VALUES (?, ?, ?, ?)",
            ["Alice@Example.com", "x", .date(now), .date(now)])
        // Email is unique case-insensitively, by the named key.
        #expect(throws: DatabaseError.duplicateKey(key: "users_email_unique")) {
            try db.execute(
                "INSERT INTO users (email, hashed_password, created_at, updated_at) VALUES (?, ?, ?, ?)",
                ["alice@EXAMPLE.com", "y", .date(now), .date(now)])
        }
        let defaults = try db.query("SELECT email_normalized, is_active, is_superuser FROM users WHERE id = ?", [.int(user.lastInsertID)])[0]
        #expect(try defaults.get("email_normalized", as: String.self) == "alice@example.com")
        #expect(try defaults.get("is_active", as: Bool.self) == true)
        #expect(try defaults.get("is_superuser", as: Bool.self) == false)

        let post = try db.execute(
            "INSERT INTO posts (author_id, title, content, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
            [.int(user.lastInsertID), "t", "c", .date(now), .date(now)])
        #expect(try db.query("SELECT version, published FROM posts WHERE id = ?", [.int(post.lastInsertID)])[0].get("version", as: Int.self) == 1)
        try db.execute(
            "INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
            [42, .int(user.lastInsertID), .date(now), .date(now.addingTimeInterval(3600))])
        try db.execute(
            "INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
            [.bytes(Data(repeating: 7, count: 32)), 42, .date(now), .date(now)])
        try db.execute(
            "INSERT INTO login_attempts (email_normalized, client_address, attempted_at) VALUES (?, ?, ?)",
            ["alice@example.com", "2001:db8::1", .date(now)])
        #expect {
            try db.execute(
                "INSERT INTO posts (author_id, title, content, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                [999, "t", "c", .date(now), .date(now)])
        } throws: { error in
            if case .foreignKeyViolation = error as? DatabaseError { return true }
            return false
        }
        // Deleting the user cascades to posts, sessions and refresh tokens.
        try db.execute("DELETE FROM users WHERE id = ?", [.int(user.lastInsertID)])
        for table in ["posts", "sessions", "refresh_tokens"] {
            #expect(try db.query("SELECT COUNT(*) AS n FROM \(table)")[0].get("n", as: Int.self) == 0, "\(table)")
        }
    }
}

extension MigrationStatus.State {
    var isPending: Bool { self == .pending }
}

/// The roles migration (0009) on a database that already has users, as an upgrade meets it.
@Suite struct RolesMigrationTests {
    @Test func existingUsersBecomeMembersAndSuperusersStayAdmins() throws {
        let all = try FileManager.default.contentsOfDirectory(atPath: PrivateMariaDB.migrationsDirectory.path).filter { $0.hasSuffix(".sql") }.sorted()
        let rolesFile = try #require(all.first { $0.hasPrefix("0009_") })
        let before = all.filter { $0 < rolesFile }
        func contents(_ name: String) throws -> String {
            try String(contentsOf: PrivateMariaDB.migrationsDirectory.appendingPathComponent(name), encoding: .utf8)
        }
        let folder = try MigrationFolder(Dictionary(uniqueKeysWithValues: try before.map { ($0, try contents($0)) }))
        let db = try freshConnection()
        let migrator = Migrator(connection: db, directory: folder.url)
        #expect(try migrator.migrate() == before)

        // A live table: rows, one of them a superuser, and a session made before scopes existed.
        let now = Date()
        var ids: [Int64] = []
        for (index, superuser) in [false, true, false].enumerated() {
            let user = try db.execute(
                "INSERT INTO users (email, hashed_password, is_superuser, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                [.string("user\(index)@example.com"), "x", .int(superuser ? 1 : 0), .date(now), .date(now)])
            ids.append(user.lastInsertID)
        }
        try db.execute(
            "INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
            [7, .int(ids[0]), .date(now), .date(now.addingTimeInterval(3600))])

        // ALGORITHM=INSTANT in the file: MariaDB refuses the statement rather than copy the table, so applying it
        // to rows shows no table copy and no long lock.
        try folder.write(rolesFile, try contents(rolesFile))
        #expect(try migrator.migrate() == [rolesFile])
        let rows = try db.query("SELECT id, roles, is_superuser FROM users ORDER BY id")
        #expect(try rows.map { try $0.get("roles", as: String.self) } == ["member", "member", "member"])
        #expect(try rows.map { try $0.get("is_superuser", as: Bool.self) } == [false, true, false])  // admin is is_superuser
        #expect(try db.query("SELECT scope FROM sessions WHERE id = 7")[0]["scope"] == .null)
    }
}
