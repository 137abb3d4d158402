import Foundation
import MariaDB
import TestSupport
import Testing

/// The deploy files' database accounts: the service runs with row rights only (the GRANTs deploy/README.md
/// gives), the migrations have their own account, and the multi-host example verifies the database's TLS.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct DatabaseAccountTests {
    /// The README's service GRANT (SELECT, INSERT, UPDATE, DELETE) is enough for the whole flow, and that
    /// account can neither change the schema nor run the migrations.
    @Test func theServiceRunsWithRowRightsOnly() throws {
        let database = try PrivateMariaDB.shared.makeMigratedDatabase()
        let name = try #require(database.database)
        let admin = Connection(configuration: database)
        defer { admin.close() }
        let user = "svc\(UInt32.random(in: 0...UInt32.max))"
        let password = "pw-\(UInt64.random(in: 0...UInt64.max))"
        try admin.execute("CREATE USER '\(user)'@'localhost' IDENTIFIED BY '\(password)'")
        try admin.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON `\(name)`.* TO '\(user)'@'localhost'")
        let service = DatabaseConfiguration(endpoint: database.endpoint, user: user, password: password, database: name)

        let pool = try PerchPool(workers: 2, environment: try DeployFlow.appEnvironment().merging(service.perchEnvironment) { $1 })
        let nginx = try PrivateNginx(socketPath: pool.socketPath)
        try DeployFlow.exercise(baseURL: nginx.baseURL)

        let connection = Connection(configuration: service)
        defer { connection.close() }
        #expect(throws: (any Error).self) { try connection.execute("DROP TABLE posts") }
        #expect(throws: (any Error).self) { try connection.execute("ALTER TABLE users ADD COLUMN x INT") }
        // On an empty database the same rights cannot run the migrations: that is perch_migrate's job.
        let empty = try PrivateMariaDB.shared.makeDatabase()
        let emptyName = try #require(empty.database)
        try admin.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON `\(emptyName)`.* TO '\(user)'@'localhost'")
        var environment = DatabaseConfiguration(endpoint: database.endpoint, user: user, password: password, database: emptyName).perchEnvironment
        environment["PERCH_MIGRATIONS_DIR"] = PrivateMariaDB.migrationsDirectory.path
        environment["PATH"] = "/usr/bin:/bin"
        environment["PERCH_ENV"] = "development"
        let migrate = try run([Paths.perchBinary, "migrate"], environment: environment, seconds: 60)
        #expect(migrate.status != 0 && migrate.output.contains("denied"), "\(migrate.output)")
    }

    /// perch-migrate.service reads its own account after the service's, with a password only it receives.
    @Test func theMigrateUnitHasItsOwnAccount() throws {
        let unit = try String(contentsOfFile: Paths.packageRoot + "/deploy/systemd/perch-migrate.service", encoding: .utf8)
        let lines = unit.components(separatedBy: "\n")
        let files = lines.filter { $0.hasPrefix("EnvironmentFile=") }
        #expect(files == ["EnvironmentFile=/etc/perch/perch.env", "EnvironmentFile=/etc/perch/migrate.env"])
        #expect(lines.contains("LoadCredential=database-password:/etc/perch/database-migrate-password"))
        let migrate = try ShippedFile.values(Paths.packageRoot + "/deploy/systemd/migrate.env")
        let service = try ShippedFile.values(Paths.packageRoot + "/deploy/systemd/perch.env")
        let migrateUser = try DatabaseConfiguration(url: try #require(migrate["PERCH_DATABASE_URL"])).user
        let serviceUser = try DatabaseConfiguration(url: try #require(service["PERCH_DATABASE_URL"])).user
        #expect(migrateUser != serviceUser)
        #expect(migrate["PERCH_DATABASE_PASSWORD_FILE"] == "/run/credentials/perch-migrate.service/database-password")
    }

    @Test func theMultiHostExampleVerifiesTheDatabaseCertificate() throws {
        let values = try ShippedFile.values(Paths.packageRoot + "/deploy/multi-host/perch.env")
        let configuration = try DatabaseConfiguration(url: try #require(values["PERCH_DATABASE_URL"]))
        #expect(configuration.tls == DatabaseConfiguration.TLS(caFile: "/etc/perch/database-ca.pem", verifyServerCertificate: true))
    }
}

/// KEY=VALUE lines of a shipped environment file, comments and blanks left out.
enum ShippedFile {
    static func values(_ path: String) throws -> [String: String] {
        var values: [String: String] = [:]
        for line in try String(contentsOfFile: path, encoding: .utf8).components(separatedBy: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, !trimmed.hasPrefix("#"), let equals = trimmed.firstIndex(of: "=") else { continue }
            values[String(trimmed[..<equals])] = String(trimmed[trimmed.index(after: equals)...])
        }
        return values
    }
}
