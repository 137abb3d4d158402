import App
import Foundation
import MariaDB
import Sodium
import TestSupport
import Testing

/// The `perch` subcommands an operator runs besides `serve` (migrate, openapi, create-superuser,
/// generate-key), run as the built binary with a clean environment, as deploy/README.md tells operators to.
@Suite(.timeLimit(.minutes(2)))
struct CommandLineTests {
    private func perch(_ arguments: [String], _ environment: [String: String] = [:], input: String? = nil) throws -> CommandResult {
        var env = ["PATH": "/usr/bin:/bin", "PERCH_ENV": "development"]
        env.merge(environment) { $1 }
        return try run([Paths.perchBinary] + arguments, environment: env, input: input, seconds: 60)
    }

    @Test func migrateAppliesEachFileOnceAndStatusShowsIt() throws {
        let database = try PrivateMariaDB.shared.makeDatabase()
        var environment = database.perchEnvironment
        environment["PERCH_MIGRATIONS_DIR"] = PrivateMariaDB.migrationsDirectory.path
        let files = try FileManager.default.contentsOfDirectory(atPath: PrivateMariaDB.migrationsDirectory.path)
            .filter { $0.hasSuffix(".sql") }
        try #require(!files.isEmpty)

        let before = try perch(["migrate", "--status"], environment)
        #expect(before.status == 0, "\(before.output)")
        let first = try perch(["migrate"], environment)
        #expect(first.status == 0, "\(first.output)")
        #expect(first.output.components(separatedBy: "applied ").count - 1 == files.count, "\(first.output)")
        let second = try perch(["migrate"], environment)
        #expect(second.status == 0 && second.output.contains("nothing to apply"), "\(second.output)")
        let after = try perch(["migrate", "--status"], environment)
        #expect(after.status == 0 && after.output != before.output, "status changes once applied: \(after.output)")

        let connection = Connection(configuration: database)
        defer { connection.close() }
        #expect(try connection.query("SELECT COUNT(*) AS n FROM users")[0].get("n", as: Int.self) == 0, "the schema exists")
    }

    @Test func migrateWithoutADatabaseIsAConfigurationError() throws {
        let result = try perch(["migrate"])
        #expect(result.status == 78, "EX_CONFIG: \(result.output)")
        #expect(result.output.contains("PERCH_DATABASE_URL"), "\(result.output)")
    }

    @Test func openapiPrintsTheDocumentTheServiceServes() throws {
        let result = try perch(["openapi"])
        #expect(result.status == 0)
        #expect(Array(result.output.utf8) == (try Service.openAPIDocument()), "only the document on stdout and stderr")
        let document = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
        #expect(document?["openapi"] as? String != nil)
        #expect((document?["info"] as? [String: Any])?["version"] as? String == PerchVersion.current)
    }

    // `perch check`, as ExecReload= runs it: 0 on a setup that serves, 78 with every problem listed otherwise.
    @Test func checkPassesOnAGoodSetup() throws {
        var environment = (try PrivateMariaDB.shared.makeMigratedDatabase()).perchEnvironment
        environment["PERCH_MIGRATIONS_DIR"] = PrivateMariaDB.migrationsDirectory.path
        let result = try perch(["check"], environment)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("ok"), "\(result.output)")
    }

    @Test func checkListsEveryProblemOfABadConfiguration() throws {
        let result = try perch(
            ["check"],
            [
                "PERCH_ENV": "staging", "PERCH_WORKERS": "many",
                "PERCH_JWT_SIGNING_KEY_FILE": "/nonexistent/perch-key",
                "PERCH_LISTEN": "unix:/nonexistent/perch.sock"
            ])
        #expect(result.status == 78, "EX_CONFIG: \(result.output)")
        for variable in ["PERCH_ENV", "PERCH_WORKERS", "PERCH_JWT_SIGNING_KEY_FILE"] {
            #expect(result.output.contains(variable), "\(variable) is listed: \(result.output)")
        }
    }

    @Test func checkRefusesAnUnreachableDatabase() throws {
        let result = try perch(["check"], ["PERCH_DATABASE_URL": "mariadb://perch@localhost/perch?socket=/nonexistent/mysqld.sock"])
        #expect(result.status == 78, "\(result.output)")
        #expect(result.output.contains("PERCH_DATABASE_URL: the database does not answer"), "\(result.output)")
    }

    @Test func checkRefusesPendingMigrations() throws {
        var environment = (try PrivateMariaDB.shared.makeDatabase()).perchEnvironment
        environment["PERCH_MIGRATIONS_DIR"] = PrivateMariaDB.migrationsDirectory.path
        let result = try perch(["check"], environment)
        #expect(result.status == 78, "\(result.output)")
        #expect(result.output.contains("0001_") && result.output.contains("pending"), "\(result.output)")
    }

    @Test func checkRefusesASocketThatCannotBeMade() throws {
        let result = try perch(
            ["check"],
            [
                "PERCH_LISTEN": "unix:/nonexistent/perch.sock",
                "PERCH_SOCKET_OWNER": "no-such-user-perch", "PERCH_SOCKET_GROUP": "no-such-group-perch"
            ])
        #expect(result.status == 78, "\(result.output)")
        for variable in ["PERCH_LISTEN: cannot create /nonexistent/perch.sock", "PERCH_SOCKET_OWNER", "PERCH_SOCKET_GROUP"] {
            #expect(result.output.contains(variable), "\(variable) is listed: \(result.output)")
        }
    }

    @Test func versionIsPrintedFromTheOnePlaceItIsWritten() throws {
        let result = try perch(["--version"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.trimmingCharacters(in: .whitespacesAndNewlines) == PerchVersion.current, "\(result.output)")
    }

    @Test func createSuperuserReadsThePasswordFromStdinThenPromotes() throws {
        let database = try PrivateMariaDB.shared.makeMigratedDatabase()
        var environment = database.perchEnvironment
        environment["PERCH_ARGON2_OPSLIMIT"] = "\(PasswordHasher.minimumOpsLimit)"
        environment["PERCH_ARGON2_MEMLIMIT"] = "\(PasswordHasher.minimumMemLimit)"
        let password = "a long enough admin secret"

        let created = try perch(["create-superuser", "--email", "Admin@Example.com"], environment, input: password + "\n")
        #expect(created.status == 0 && created.output.contains("created superuser"), "\(created.output)")
        #expect(!created.output.contains(password))
        // An existing account is promoted only when asked (anyone may have signed up with the address).
        let refused = try perch(["create-superuser", "--email", "admin@example.com"], environment, input: "another long secret\n")
        #expect(refused.status == 78 && refused.output.contains("--promote-existing"), "\(refused.output)")
        let again = try perch(["create-superuser", "--email", "admin@example.com", "--promote-existing"], environment, input: "another long secret\n")
        #expect(again.status == 0 && again.output.contains("promoted user"), "\(again.output)")

        let connection = Connection(configuration: database)
        defer { connection.close() }
        let rows = try connection.query("SELECT is_superuser, hashed_password FROM users")
        try #require(rows.count == 1, "the second run promoted the same account")
        #expect(try rows[0].get("is_superuser", as: Bool.self) == true)
        let hasher = try PasswordHasher(opsLimit: PasswordHasher.minimumOpsLimit, memLimit: PasswordHasher.minimumMemLimit)
        #expect(hasher.verify("another long secret", against: try rows[0].get("hashed_password", as: String.self)))
    }

    @Test func createSuperuserRefusesNoPasswordAndAWeakOne() throws {
        let database = try PrivateMariaDB.shared.makeMigratedDatabase()
        let environment = database.perchEnvironment
        let empty = try perch(["create-superuser", "--email", "admin@example.com"], environment, input: "")
        #expect(empty.status == 1 && empty.output.contains("no password on stdin"), "\(empty.output)")
        let weak = try perch(["create-superuser", "--email", "admin@example.com"], environment, input: "short\n")
        #expect(weak.status == 78 && weak.output.contains("password"), "the sign-up rules: \(weak.output)")
        let connection = Connection(configuration: database)
        defer { connection.close() }
        #expect(try connection.query("SELECT COUNT(*) AS n FROM users")[0].get("n", as: Int.self) == 0)
    }

    @Test(arguments: ["HS256", "EdDSA"])
    func generateKeyPrintsLinesTheServiceAccepts(algorithm: String) throws {
        let result = try perch(["generate-key", "--algorithm", algorithm])
        #expect(result.status == 0, "\(result.output)")
        var environment = ["PERCH_ENV": "production", "PERCH_DATABASE_URL": "mariadb://perch@localhost/perch"]
        for line in result.output.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            try #require(parts.count == 2, "a KEY=value line: \(line)")
            environment[parts[0]] = parts[1]
        }
        #expect(environment["PERCH_JWT_ALGORITHM"] == algorithm)
        let config = try AppConfiguration.load(environment: environment)
        #expect(config.auth.signer.algorithm.rawValue == algorithm, "production accepts the generated key")
        let other = try perch(["generate-key", "--algorithm", algorithm])
        #expect(other.output != result.output, "a new key each time")
    }

    @Test func generateKeyRejectsAnUnknownAlgorithm() throws {
        let result = try perch(["generate-key", "--algorithm", "RS256"])
        #expect(result.status == 1 && result.output.contains("is not HS256 or EdDSA"), "\(result.output)")
    }
}
