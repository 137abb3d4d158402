import Foundation
import HTTPTypes
import Sodium
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// What every deployment must serve, checked through a live base URL (nginx, Apache or lighttpd in front):
/// health, the app's own 404, and the whole user flow on a real database: sign-up → login → create post →
/// read post. Every deploy test runs it, so a server that cannot pass the database or the key through fails.
enum DeployFlow {
    /// One migrated database on the shared private server and one signing key for every deploy test (the
    /// hosts behind one upstream must share both).
    private static let shared: Result<[String: String], Error> = Result {
        let database = try PrivateMariaDB.shared.makeMigratedDatabase()
        // The web servers' children run as www-data when the tests run as root: they must reach the
        // server's socket, so its folder becomes traversable (not listable).
        if geteuid() == 0, case .socket(let socket) = database.endpoint {
            chmod((socket as NSString).deletingLastPathComponent, 0o711)
        }
        return FaultTests.appEnvironment(database).filter { !$0.value.isEmpty }
    }

    /// The app's environment for every deploy test (the web server passes it on, or the pool gets it).
    static func appEnvironment() throws -> [String: String] {
        try shared.get().merging(["PERCH_ENV": "development", "PERCH_LOG_LEVEL": "info"]) { $1 }.merging(PerchPool.noRateLimits) { $1 }
    }

    /// Drives the flow through `baseURL` and returns the path of the published post it created (for read
    /// loads); `#expect`s each step, so a broken deployment fails the test.
    @discardableResult
    static func exercise(baseURL: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let health = try curl(baseURL + "/api/v1/health")
        #expect(health.status == 200, "health: \(health.status) \(health.body)", sourceLocation: sourceLocation)
        #expect(health.body == #"{"status":"ok"}"#, sourceLocation: sourceLocation)
        #expect(health.headers["content-type"] == "application/json; charset=utf-8", sourceLocation: sourceLocation)
        // The app, not the web server, answers an unknown path: the whole site is routed to perch.
        let missing = try curl(baseURL + "/api/v1/no-such-thing?x=1")
        #expect(missing.status == 404, sourceLocation: sourceLocation)
        #expect(missing.body == #"{"detail":"Not Found"}"#, sourceLocation: sourceLocation)

        let address = try #require(URLComponents(string: baseURL), sourceLocation: sourceLocation)
        let client = LiveTestClient(host: address.host ?? "127.0.0.1", port: address.port ?? 80)
        let email = "flow-\(UUID().uuidString.prefix(8).lowercased())@example.com"
        let signUp = try client.execute(
            .post, "/api/v1/users", json: ["email": .string(email.uppercased()), "password": "a long enough secret", "full_name": "Flo"])
        try #require(signUp.status == .created, "sign-up: \(signUp.status) \(signUp.text)", sourceLocation: sourceLocation)
        #expect(signUp.headers[.location] != nil, sourceLocation: sourceLocation)

        let login = try client.execute(.post, "/api/v1/auth/login", form: [("username", email), ("password", "a long enough secret")])
        try #require(login.status == .ok, "login: \(login.status) \(login.text)", sourceLocation: sourceLocation)
        let token = try #require(try login.json()["access_token"]?.stringValue, sourceLocation: sourceLocation)

        let created = try client.execute(
            .post, "/api/v1/posts", json: ["title": "Hello", "content": .string("Through \(baseURL)"), "published": true],
            headers: [.authorization: "Bearer \(token)"])
        try #require(created.status == .created, "create post: \(created.status) \(created.text)", sourceLocation: sourceLocation)
        let location = try #require(created.headers[.location], sourceLocation: sourceLocation)

        let read = try client.get(location)
        #expect(read.status == .ok, "read post: \(read.status) \(read.text)", sourceLocation: sourceLocation)
        #expect(try read.json()["content"]?.stringValue == "Through \(baseURL)", sourceLocation: sourceLocation)
        #expect(try read.json()["author"]?["full_name"]?.stringValue == "Flo", sourceLocation: sourceLocation)
        #expect(read.headers[.eTag] != nil, sourceLocation: sourceLocation)
        #expect(!read.text.contains(email), "the author's email is not public", sourceLocation: sourceLocation)
        return location
    }
}

/// `text` with `target` replaced, failing when the shipped file no longer contains it (so a test never
/// silently runs a configuration it did not render).
func replacingRequired(_ text: String, _ target: String, with replacement: String, in file: String) throws -> String {
    guard text.contains(target) else { throw SupportError("\(file) no longer contains \"\(target)\"; update the test's rendering") }
    return text.replacingOccurrences(of: target, with: replacement)
}

/// Pids of live processes running `executable` (to prove spawned programs are gone after their server).
func processes(running executable: String) -> [pid_t] {
    guard let resolved = realpath(executable, nil) else { return [] }
    let path = String(cString: resolved)
    free(resolved)
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { pid_t($0) }.filter { pid in
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")) == path && ChildProcess.isAlive(pid)
    }
}
