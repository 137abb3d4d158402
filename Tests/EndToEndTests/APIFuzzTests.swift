import App
import Foundation
import MariaDB
import Sodium
import TestSupport
import Testing

/// schemathesis against /openapi.json through nginx, with a bearer token of each role: every operation, a
/// bounded number of examples; no 5xx, responses conform to their declared schemas (the 403s of operations
/// whose scopes the role lacks too), declared status codes only. The admin run is the long one; the others
/// run the examples and coverage phases only.
@Suite(.serialized, .timeLimit(.minutes(8)))
struct APIFuzzTests {
    static let examples = ProcessInfo.processInfo.environment["PERCH_SCHEMATHESIS_EXAMPLES"] ?? "15"
    static let seed = ProcessInfo.processInfo.environment["PERCH_SCHEMATHESIS_SEED"] ?? "1"
    static let phases = ProcessInfo.processInfo.environment["PERCH_SCHEMATHESIS_PHASES"] ?? "examples,coverage,fuzzing,stateful"
    /// Our additions to schemathesis' defaults (see the file).
    static let configFile = Paths.packageRoot + "/Tests/EndToEndTests/schemathesis.toml"

    @Test(arguments: [Role.admin, .moderator, .member])
    func schemathesisFindsNoServerErrorAndNoContractBreach(_ role: Role) throws {
        let database = try PrivateMariaDB.shared.makeMigratedDatabase()
        var environment = FaultTests.appEnvironment(database)
        environment["PERCH_LOGIN_MAX_FAILURES"] = "1000"
        let pool = try PerchPool(workers: 2, environment: environment)
        // nginx's login and password rate limits would turn most generated logins and sign-ups into 429s.
        let nginx = try PrivateNginx(
            socketPath: pool.socketPath,
            replacements: [
                "limit_req zone=perch_login burst=10 nodelay;": "",
                "limit_req zone=perch_passwords burst=5 nodelay;": ""
            ])
        var arguments = [
            "/usr/bin/env", "schemathesis", "--config-file", Self.configFile, "run", nginx.baseURL + "/openapi.json",
            // One worker: with two threads, hypothesis' lambda-source parser (ast.parse) on this
            // Python sometimes fails with "AST constructor recursion depth mismatch" (CI, ASan stage).
            "--checks", "all", "--max-examples", role == .admin ? Self.examples : "5", "--workers", "1",
            "--phases", role == .admin ? Self.phases : "examples,coverage", "--seed", Self.seed,
            // nginx answers TRACE itself (405 without Allow) before the app sees it; generated
            // "valid" data can still be refused for reasons no schema expresses (a taken email).
            "--exclude-checks", "unsupported_method,positive_data_acceptance",
            // Logging out would end the one session the whole run uses (AuthTests and SessionsTests cover them).
            "--exclude-path", "/api/v1/auth/logout", "--exclude-path", "/api/v1/auth/logout-all"
        ]
        // An admin cannot delete itself (403); anyone else would end the run's one account.
        if role != .admin { arguments += ["--exclude-name", "DELETE /api/v1/users/me"] }
        arguments += ["--header", "Authorization: Bearer \(try Self.token(of: role, nginx.baseURL, database))"]
        let result = try run(arguments, environment: ProcessInfo.processInfo.environment.merging(["NO_COLOR": "1"]) { $1 }, seconds: 420)
        // Lines cut short: a failing case's replay command can hold a megabyte of generated body.
        let readable = result.output.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.count > 300 ? String($0.prefix(300)) + " …" : String($0) }.joined(separator: "\n")
        #expect(result.status == 0, "\(readable.suffix(12_000))")
        // schemathesis's warnings and summary in the test log, so a shrinking reach is seen.
        if let summary = result.output.range(of: "WARNINGS") { print(result.output[summary.lowerBound...].prefix(2_500)) }
        #expect(!pool.process.log.contains("unhandled error"), "\(pool.process.log.suffix(3_000))")
    }

    /// Signs a user up, gives them `role` in the database and logs in through the API. An admin reaches
    /// every operation (the user admin routes too), and cannot delete itself (403), so the token outlives the
    /// stateful phase's DELETE /users/me.
    ///
    /// Its id is far from the small ids that examples and boundaries try, so that the generated
    /// DELETE /users/{id}/sessions ends other users' sessions, not the run's own.
    static func token(of role: Role, _ baseURL: String, _ database: DatabaseConfiguration) throws -> String {
        let email = "fuzz-\(UUID().uuidString.prefix(8))@example.com"
        let setup = Connection(configuration: database)
        try setup.execute("ALTER TABLE users AUTO_INCREMENT = \(Int64.random(in: 1_000_000_000...9_000_000_000))")
        setup.close()
        let signUp = try curl(
            baseURL + "/api/v1/users", method: "POST", headers: ["Content-Type": "application/json"],
            body: #"{"email":"\#(email)","password":"fuzzing password 1"}"#)
        try #require(signUp.status == 201, "sign-up: \(signUp.status) \(signUp.body)")
        let connection = Connection(configuration: database)
        defer { connection.close() }
        let users = UserRepository(connection)
        let user = try #require(try users.find(email: email))
        _ = try users.update(id: user.id, UserChanges(roles: [role]), now: Date())
        let login = try curl(
            baseURL + "/api/v1/auth/login", method: "POST", headers: ["Content-Type": "application/x-www-form-urlencoded"],
            body: "username=\(email.replacingOccurrences(of: "@", with: "%40"))&password=fuzzing+password+1")
        try #require(login.status == 200, "login: \(login.status) \(login.body)")
        let json = try JSONSerialization.jsonObject(with: Data(login.body.utf8)) as? [String: Any]
        return try #require(json?["access_token"] as? String)
    }
}
