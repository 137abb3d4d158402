import App
import Foundation
import HTTPTypes
import MariaDB
import TestSupport
import Testing
import Web

/// Idempotency-Key on POST /posts and POST /users: replay, 422 on another body, 409 while in flight, scoped
/// to the caller, freed on failure, taken over when expired or abandoned.
@Suite struct IdempotencyTests {
    static let key = HTTPField.Name("Idempotency-Key")!
    static let replayed = HTTPField.Name("Idempotent-Replayed")!

    private func headers(_ key: String, token: String? = nil) -> HTTPFields {
        var fields: HTTPFields = [Self.key: key]
        if let token { fields[.authorization] = "Bearer \(token)" }
        return fields
    }

    private func count(_ app: TestApp, _ table: String) throws -> Int64 {
        try app.connection.query("SELECT COUNT(*) AS n FROM \(table)").first!.get("n")
    }

    @Test(arguments: TestTransport.allCases)
    func aPostIsCreatedOnceAndReplayed(_ transport: TestTransport) throws {
        let app = try TestApp(transport)
        let token = try app.accessToken(for: try app.makeUser(email: "ada@example.com"))
        let body: JSONValue = ["title": "Hello", "content": "once"]
        let first = try app.client().execute(.post, "/api/v1/posts", json: body, headers: headers("post-1", token: token))
        #expect(first.status == .created)
        #expect(first.headers[Self.replayed] == nil)
        let again = try app.client().execute(.post, "/api/v1/posts", json: body, headers: headers("post-1", token: token))
        #expect(again.status == .created)
        #expect(again.headers[Self.replayed] == "true")
        #expect(again.body == first.body)
        #expect(again.headers[.location] == first.headers[.location] && first.headers[.location] != nil)
        #expect(again.headers[.eTag] == first.headers[.eTag] && first.headers[.eTag] != nil)
        #expect(again.headers[.contentType] == "application/json; charset=utf-8")
        #expect(try count(app, "posts") == 1)

        // Another body with the same key: 422, nothing created.
        let other = try app.client().execute(
            .post, "/api/v1/posts", json: ["title": "Hello", "content": "twice"], headers: headers("post-1", token: token))
        #expect(other.status == .unprocessableContent)
        #expect(other.text == #"{"detail":"Idempotency-Key reused with a different request"}"#)
        // The key is the caller's: another user's same key is another key.
        let bob = try app.accessToken(for: try app.makeUser(email: "bob@example.com"))
        let bobs = try app.client().execute(.post, "/api/v1/posts", json: body, headers: headers("post-1", token: bob))
        #expect(bobs.status == .created && bobs.headers[Self.replayed] == nil)
        // Without a key every request creates.
        #expect(try app.client().execute(.post, "/api/v1/posts", json: body, headers: bearer(token)).status == .created)
        #expect(try count(app, "posts") == 3)
        // Authentication and validation come first and do not touch the key.
        #expect(try app.client().execute(.post, "/api/v1/posts", json: body, headers: headers("post-2")).status == .unauthorized)
        #expect(try app.client().execute(.post, "/api/v1/posts", json: ["title": ""], headers: headers("post-2", token: token)).status == .unprocessableContent)
        #expect(try app.client().execute(.post, "/api/v1/posts", json: body, headers: headers("post-2", token: token)).status == .created)
    }

    @Test(arguments: TestTransport.allCases)
    func aSignUpIsCreatedOnceAndReplayed(_ transport: TestTransport) throws {
        let app = try TestApp(transport)
        let body: JSONValue = ["email": "ada@example.com", "password": "long enough password"]
        let first = try app.client().execute(.post, "/api/v1/users", json: body, headers: headers("signup-1"))
        #expect(first.status == .created)
        let again = try app.client().execute(.post, "/api/v1/users", json: body, headers: headers("signup-1"))
        #expect(again.status == .created)
        #expect(again.headers[Self.replayed] == "true")
        #expect(again.body == first.body && again.headers[.location] == first.headers[.location])
        #expect(try count(app, "users") == 1)
        // Without the key the same sign-up is a conflict, as always.
        #expect(try app.client().execute(.post, "/api/v1/users", json: body).status == .conflict)
        let other = try app.client().execute(
            .post, "/api/v1/users", json: ["email": "bob@example.com", "password": "long enough password"], headers: headers("signup-1"))
        #expect(other.status == .unprocessableContent)
        #expect(try count(app, "users") == 1)
    }

    /// An error is not stored: it frees the key, so the same request can succeed later.
    @Test func aFailedRequestFreesItsKey() throws {
        let app = try TestApp()
        let taken = try app.makeUser(email: "ada@example.com")
        let body: JSONValue = ["email": "ada@example.com", "password": "long enough password"]
        #expect(try app.client().execute(.post, "/api/v1/users", json: body, headers: headers("k")).status == .conflict)
        #expect(try count(app, "idempotency_keys") == 0)
        _ = try UserRepository(app.connection).delete(id: taken)
        let retried = try app.client().execute(.post, "/api/v1/users", json: body, headers: headers("k"))
        #expect(retried.status == .created && retried.headers[Self.replayed] == nil)
    }

    @Test func badKeysAre422() throws {
        let app = try TestApp()
        let token = try app.accessToken(for: try app.makeUser(email: "ada@example.com"))
        let body: JSONValue = ["title": "Hello", "content": "x"]
        for (key, type) in [(String(repeating: "k", count: 256), "string_too_long"), ("tab\there", "string_pattern_mismatch")] {
            let response = try app.client().execute(.post, "/api/v1/posts", json: body, headers: headers(key, token: token))
            #expect(response.status == .unprocessableContent)
            #expect(try response.json()["detail"]?[0]?["type"]?.stringValue == type)
            #expect(try response.json()["detail"]?[0]?["loc"] == ["header", "Idempotency-Key"])
        }
        #expect(
            try app.client().execute(.post, "/api/v1/posts", json: body, headers: headers(String(repeating: "k", count: 255), token: token)).status == .created)
        #expect(try count(app, "posts") == 1)
    }

    /// A second request while the first is still being served gets 409; afterwards the replay. Through nginx:
    /// the first request's INSERT waits for a lock the test holds on the author's row.
    @Test func aRepeatWhileTheFirstIsInFlightIs409ThroughNginx() throws {
        let app = try TestApp(.live)
        let id = try app.makeUser(email: "ada@example.com")
        let token = try app.accessToken(for: id)
        let body: JSONValue = ["title": "Hello", "content": "slow"]
        let blocker = Connection(configuration: app.database)
        defer { blocker.close() }
        try blocker.execute("START TRANSACTION")
        _ = try blocker.query("SELECT id FROM users WHERE id = ? FOR UPDATE", [.int(id)])
        let first = Locked<TestResponse?>(nil)
        let thread = Thread {
            let response = try? app.client().execute(.post, "/api/v1/posts", json: body, headers: headers("slow", token: token))
            first.withLock { $0 = response }
        }
        thread.start()
        // The first request holds the key (in flight) and waits for the lock.
        #expect(
            eventually(seconds: 20) {
                (try? app.connection.query("SELECT COUNT(*) AS n FROM idempotency_keys WHERE response_status IS NULL")[0].get("n") as Int64) == 1
            })
        let second = try app.client().execute(.post, "/api/v1/posts", json: body, headers: headers("slow", token: token))
        #expect(second.status == .conflict)
        #expect(second.text == #"{"detail":"A request with this Idempotency-Key is in progress"}"#)
        // Even another body is refused while in flight (422: the key is taken by another request).
        let other = try app.client().execute(.post, "/api/v1/posts", json: ["title": "Other", "content": ""], headers: headers("slow", token: token))
        #expect(other.status == .unprocessableContent)
        try blocker.execute("ROLLBACK")
        #expect(eventually(seconds: 20) { first.current != nil })
        #expect(first.current?.status == .created)
        let third = try app.client().execute(.post, "/api/v1/posts", json: body, headers: headers("slow", token: token))
        #expect(third.status == .created && third.headers[Self.replayed] == "true")
        #expect(third.body == first.current?.body)
        #expect(try count(app, "posts") == 1)
    }

    /// Many copies of one request at once, through nginx: one creates, each other one gets the replay or a 409.
    @Test func concurrentCopiesCreateOnceThroughNginx() throws {
        let app = try TestApp(.live)
        let token = try app.accessToken(for: try app.makeUser(email: "ada@example.com"))
        let body: JSONValue = ["title": "Hello", "content": "raced"]
        let responses = Locked<[TestResponse]>([])
        let threads = (0..<8).map { _ in
            Thread {
                if let response = try? app.client().execute(.post, "/api/v1/posts", json: body, headers: headers("race", token: token)) {
                    responses.withLock { $0.append(response) }
                }
            }
        }
        threads.forEach { $0.start() }
        #expect(eventually(seconds: 30) { responses.current.count == 8 })
        let all = responses.current
        #expect(all.filter { $0.status == .created && $0.headers[Self.replayed] == nil }.count == 1)
        #expect(all.allSatisfy { $0.status == .conflict || ($0.status == .created && $0.body == all.first { $0.status == .created }?.body) })
        #expect(try count(app, "posts") == 1)
    }

    /// Keys live 24 hours: an expired key is a new key, and the cleanup deletes expired rows in batches.
    @Test func expiredKeysAreTakenOverAndPurged() throws {
        let start = Date()
        let clock = Locked(start)
        let app = try TestApp(clock: { clock.current })
        // A token and session that outlive the day the test travels through.
        let token = try app.accessToken(for: try app.makeUser(email: "ada@example.com"), lifetime: 2 * 24 * 3600)
        try app.connection.execute("UPDATE sessions SET expires_at = ?", [.date(start.addingTimeInterval(2 * 24 * 3600))])
        let body: JSONValue = ["title": "Hello", "content": "x"]
        #expect(try app.client().execute(.post, "/api/v1/posts", json: body, headers: headers("day", token: token)).status == .created)
        #expect(try app.client().execute(.post, "/api/v1/posts", json: body, headers: headers("other", token: token)).status == .created)
        clock.withLock { $0 = start.addingTimeInterval(24 * 3600 - 1) }
        #expect(try app.client().execute(.post, "/api/v1/posts", json: body, headers: headers("day", token: token)).headers[Self.replayed] == "true")
        clock.withLock { $0 = start.addingTimeInterval(24 * 3600 + 1) }
        let later = try app.client().execute(.post, "/api/v1/posts", json: ["title": "New", "content": "y"], headers: headers("day", token: token))
        #expect(later.status == .created && later.headers[Self.replayed] == nil)
        #expect(try count(app, "posts") == 3)
        // "other" expired and is still stored until a cleanup; the cleanup takes expired rows only.
        #expect(try IdempotencyRepository(db: app.connection).purgeExpired(now: clock.current) == 1)
        #expect(try count(app, "idempotency_keys") == 1)
    }

    /// A key left in flight by a request that died (no request outlives PERCH_REQUEST_TIMEOUT) is taken over.
    @Test func anAbandonedKeyIsTakenOverAfterTheRequestTimeout() throws {
        let app = try TestApp(environment: ["PERCH_REQUEST_TIMEOUT": "30"])
        let token = try app.accessToken(for: try app.makeUser(email: "ada@example.com"))
        let body: JSONValue = ["title": "Hello", "content": "x"]
        func abandon(secondsAgo: TimeInterval) throws {
            try app.connection.execute("DELETE FROM idempotency_keys")
            let scope = "user:\(try app.connection.query("SELECT id FROM users").first!.get("id") as Int64)"
            try app.connection.execute(
                "INSERT INTO idempotency_keys (scope, idempotency_key, request_hash, created_at, expires_at) VALUES (?, 'dead', ?, ?, ?)",
                [.string(scope), .bytes(Data(repeating: 0, count: 32)), .date(Date().addingTimeInterval(-secondsAgo)), .date(Date().addingTimeInterval(3600))])
        }
        try abandon(secondsAgo: 5)  // could still be running: refused (the hash differs, so 422)
        #expect(try app.client().execute(.post, "/api/v1/posts", json: body, headers: headers("dead", token: token)).status == .unprocessableContent)
        try abandon(secondsAgo: 31)
        let response = try app.client().execute(.post, "/api/v1/posts", json: body, headers: headers("dead", token: token))
        #expect(response.status == .created && response.headers[Self.replayed] == nil)
        #expect(try app.client().execute(.post, "/api/v1/posts", json: body, headers: headers("dead", token: token)).headers[Self.replayed] == "true")
    }

    /// The document shows the header, its rule and the answers it adds, and the session routes.
    @Test func openAPIDocumentsTheKeyAndTheSessionRoutes() throws {
        let app = try TestApp()
        let document = try app.client().get("/openapi.json").json()
        for path in ["/api/v1/posts", "/api/v1/users"] {
            let operation = try #require(document["paths"]?[path]?["post"])
            let header = operation["parameters"]?.arrayValue?.first { $0["name"] == "Idempotency-Key" }
            #expect(header?["in"] == "header" && header?["required"] == false)
            #expect(header?["schema"]?["maxLength"] == 255 && header?["schema"]?["minLength"] == 1)
            #expect(operation["responses"]?["201"]?["headers"]?["Idempotent-Replayed"] != nil)
            #expect(operation["responses"]?["409"] != nil)
            #expect(operation["responses"]?["422"]?["content"]?["application/json"]?["schema"]?["anyOf"]?.arrayValue?.count == 2)
        }
        let paths = try #require(document["paths"])
        #expect(paths["/api/v1/users/me/sessions"]?["get"]?["responses"]?["200"] != nil)
        #expect(paths["/api/v1/users/me/sessions/{id}"]?["delete"]?["responses"]?["404"] != nil)
        #expect(paths["/api/v1/users/{id}/sessions"]?["delete"]?["responses"]?["403"] != nil)
        #expect(paths["/api/v1/auth/logout-all"]?["post"]?["responses"]?["204"] != nil)
        let session = try #require(document["components"]?["schemas"]?["SessionPublic"])
        #expect(session["required"] == ["id", "created_at", "last_used_at", "expires_at", "user_agent", "current"])
    }
}
