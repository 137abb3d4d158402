import App
import Foundation
import HTTPTypes
import MariaDB
import Sodium
import TestSupport
import Testing
import Web

@Suite struct UsersTests {
    private func signUp(_ app: TestApp, _ body: JSONValue) throws -> TestResponse {
        try app.client().execute(.post, "/api/v1/users", json: body)
    }

    @Test func signUpAnswers201WithLocationAndNoSecrets() throws {
        let app = try TestApp()
        let response = try signUp(app, ["email": "Ada@Example.com", "password": "s3cret-Pa55word", "full_name": "Ada"])
        #expect(response.status == .created)
        let body = try response.json()
        let id = try #require(body["id"]?.intValue)
        #expect(response.headers[.location] == "/api/v1/users/\(id)")
        #expect(body.objectValue?.map(\.0) == ["id", "email", "full_name", "is_active", "is_superuser", "email_verified", "created_at", "updated_at"])
        #expect(body["email"] == "Ada@Example.com")
        #expect(body["is_active"] == true)
        #expect(body["is_superuser"] == false)
        let created = try #require(body["created_at"]?.stringValue)
        #expect(created.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$"#, options: .regularExpression) != nil)
        let hash = try app.storedHash(id)
        #expect(hash.hasPrefix("$argon2id$"))
        #expect(!response.text.contains("s3cret-Pa55word") && !response.text.contains(hash) && !response.text.contains("password"))
        #expect(try app.login("ada@example.com", "s3cret-Pa55word").status == .ok)
        #expect(!app.logs.text.contains("s3cret-Pa55word") && !app.logs.text.contains(hash))
    }

    /// The route's declared security answers before its inputs are validated (FastAPI's order): 401 for no
    /// token and 403 for a caller without the rights, where a 422 used to come first.
    @Test(arguments: TestTransport.allCases)
    func authenticationComesBeforeValidation(_ transport: TestTransport) throws {
        let app = try TestApp(transport)
        let client = app.client()
        let token = try app.accessToken(for: try app.makeUser(email: "ada@example.com"))
        #expect(try client.get("/api/v1/users?limit=0").status == .unauthorized)
        #expect(try client.get("/api/v1/users?limit=0", headers: bearer(token)).status == .forbidden)
        #expect(try client.execute(.patch, "/api/v1/users/me", json: ["email": 5]).status == .unauthorized)
        #expect(try client.execute(.patch, "/api/v1/users/1", json: ["unknown": true], headers: bearer(token)).status == .forbidden)
        #expect(try client.execute(.post, "/api/v1/posts", raw: "{", contentType: "application/json").status == .unauthorized)
        #expect(try client.get("/api/v1/users/me/posts?cursor=!").status == .unauthorized)
        // With the rights, the same inputs are a 422.
        let root = try app.accessToken(for: try app.makeUser(email: "root@example.com", superuser: true))
        #expect(try client.get("/api/v1/users?limit=0", headers: bearer(root)).status == .unprocessableContent)
        #expect(try client.execute(.patch, "/api/v1/users/me", json: ["email": 5], headers: bearer(token)).status == .unprocessableContent)
    }

    @Test func signUpWithATakenEmailIs409CaseInsensitively() throws {
        let app = try TestApp()
        try app.makeUser(email: "ada@example.com")
        let response = try signUp(app, ["email": "ADA@EXAMPLE.COM", "password": "another password"])
        #expect(response.status == .conflict)
        #expect(response.text == #"{"detail":"Email already registered"}"#)
    }

    @Test func signUpIsValidatedWithoutEchoingThePassword() throws {
        let app = try TestApp()
        let short = try signUp(app, ["email": "ada@example.com", "password": "short12"])
        #expect(short.status == .unprocessableContent)
        #expect(try short.json()["detail"]?[0]?["type"] == "string_too_short")
        #expect(!short.text.contains("short12"))
        let long = try signUp(app, ["email": "ada@example.com", "password": .string(String(repeating: "x", count: 129))])
        #expect(try long.json()["detail"]?[0]?["type"] == "string_too_long")
        #expect(try signUp(app, ["email": "ada@example.com", "password": .string(String(repeating: "é", count: 128))]).status == .created)
        #expect(try signUp(app, ["email": "not-an-email", "password": "long enough"]).status == .unprocessableContent)
        let longEmail = String(repeating: "a", count: 64) + "@" + String(repeating: "b", count: 186) + ".com"  // 255
        #expect(try signUp(app, ["email": .string(longEmail), "password": "long enough"]).status == .unprocessableContent)
        #expect(
            try signUp(app, ["email": "bob@example.com", "password": "long enough", "full_name": .string(String(repeating: "n", count: 101))]).status
                == .unprocessableContent)
        let extra = try signUp(app, ["email": "bob@example.com", "password": "long enough", "is_superuser": true])
        #expect(extra.status == .unprocessableContent)
        #expect(try extra.json()["detail"]?[0]?["type"] == "extra_forbidden")
        #expect(try signUp(app, ["email": "bob@example.com"]).status == .unprocessableContent)
    }

    @Test(arguments: TestTransport.allCases)
    func meGetAndPatch(_ transport: TestTransport) throws {
        let app = try TestApp(transport)
        let id = try app.makeUser(email: "ada@example.com", fullName: "Ada")
        try app.makeUser(email: "taken@example.com")
        let token = try app.tokens("ada@example.com").access
        let me = try app.me(token)
        #expect(me.status == .ok)
        #expect(try me.json()["id"]?.intValue == id)
        #expect(me.headers[.cacheControl] == "no-store")
        let client = app.client()
        let renamed = try client.execute(.patch, "/api/v1/users/me", json: ["full_name": "Ada L."], headers: bearer(token))
        #expect(renamed.status == .ok)
        #expect(try renamed.json()["full_name"] == "Ada L.")
        #expect(try renamed.json()["email"] == "ada@example.com")
        let cleared = try client.execute(.patch, "/api/v1/users/me", json: ["full_name": nil], headers: bearer(token))
        #expect(try cleared.json()["full_name"] == .null)
        let taken = try client.execute(.patch, "/api/v1/users/me", json: ["email": "TAKEN@example.com"], headers: bearer(token))
        #expect(taken.status == .conflict)
        #expect(taken.text == #"{"detail":"Email already registered"}"#)
        let moved = try client.execute(.patch, "/api/v1/users/me", json: ["email": "ada2@example.com"], headers: bearer(token))
        #expect(try moved.json()["email"] == "ada2@example.com")
        #expect(try client.execute(.patch, "/api/v1/users/me", json: ["is_superuser": true], headers: bearer(token)).status == .unprocessableContent)
        #expect(try client.execute(.patch, "/api/v1/users/me", json: ["full_name": "x"]).status == .unauthorized)
    }

    @Test func passwordChangeEndsTheOtherSessionsOnly() throws {
        let app = try TestApp()
        let id = try app.makeUser(email: "ada@example.com")
        let current = try app.tokens("ada@example.com")
        let other = try app.tokens("ada@example.com")
        let client = app.client()
        let wrong = try client.execute(
            .post, "/api/v1/users/me/password",
            json: ["current_password": "wrong password", "new_password": "brand new password"], headers: bearer(current.access))
        #expect(wrong.status == .badRequest)
        #expect(wrong.text == #"{"detail":"Incorrect password"}"#)
        #expect(try app.me(other.access).status == .ok)
        let before = try app.storedHash(id)
        let changed = try client.execute(
            .post, "/api/v1/users/me/password",
            json: ["current_password": .string(testPassword), "new_password": "brand new password"], headers: bearer(current.access))
        #expect(changed.status == .noContent)
        #expect(try app.me(current.access).status == .ok)
        #expect(try app.refresh(current.refresh).status == .ok)
        #expect(try app.me(other.access).status == .unauthorized)
        #expect(try app.refresh(other.refresh).status == .unauthorized)
        #expect(try app.login("ada@example.com").status == .unauthorized)
        #expect(try app.login("ada@example.com", "brand new password").status == .ok)
        let after = try app.storedHash(id)
        for text in [changed.text, wrong.text, app.logs.text] {
            #expect(!text.contains("brand new password") && !text.contains(testPassword) && !text.contains(before) && !text.contains(after))
        }
    }

    @Test func deleteMeRemovesUserPostsAndSessionsButNotASuperuser() throws {
        let app = try TestApp()
        let id = try app.makeUser(email: "ada@example.com")
        let token = try app.tokens("ada@example.com").access
        let now = Date()
        try app.connection.execute(
            "INSERT INTO posts (author_id, title, content, created_at, updated_at) VALUES (?, 't', 'c', ?, ?)",
            [.int(id), .date(now), .date(now)])
        #expect(try app.client().delete("/api/v1/users/me", headers: bearer(token)).status == .noContent)
        for table in ["users WHERE id", "posts WHERE author_id", "sessions WHERE user_id"] {
            let n: Int64 = try app.connection.query("SELECT COUNT(*) AS n FROM \(table) = ?", [.int(id)])[0].get("n")
            #expect(n == 0, "\(table)")
        }
        #expect(try app.me(token).status == .unauthorized)
        let admin = try app.makeUser(email: "root@example.com", superuser: true)
        let forbidden = try app.client().delete("/api/v1/users/me", headers: bearer(try app.accessToken(for: admin)))
        #expect(forbidden.status == .forbidden)
        #expect(try app.connection.query("SELECT id FROM users WHERE id = ?", [.int(admin)]).count == 1)
    }

    @Test func getByIdIsSelfOrSuperuser() throws {
        let app = try TestApp()
        let ada = try app.makeUser(email: "ada@example.com")
        let bob = try app.makeUser(email: "bob@example.com")
        let admin = try app.makeUser(email: "root@example.com", superuser: true)
        let adaToken = try app.accessToken(for: ada)
        let client = app.client()
        #expect(try client.get("/api/v1/users/\(ada)", headers: bearer(adaToken)).status == .ok)
        #expect(try client.get("/api/v1/users/\(bob)", headers: bearer(adaToken)).status == .forbidden)
        let adminToken = try app.accessToken(for: admin)
        #expect(try client.get("/api/v1/users/\(bob)", headers: bearer(adminToken)).status == .ok)
        let missing = try client.get("/api/v1/users/999999", headers: bearer(adminToken))
        #expect(missing.status == .notFound)
        #expect(try client.get("/api/v1/users/abc", headers: bearer(adminToken)).status == .unprocessableContent)
        #expect(try client.get("/api/v1/users/0", headers: bearer(adminToken)).status == .unprocessableContent)
        #expect(try client.get("/api/v1/users/\(bob)").status == .unauthorized)
    }

    @Test func superuserListPaginatesNewestFirst() throws {
        var now = Date()
        let app = try TestApp(clock: { now })
        let admin = try app.makeUser(email: "root@example.com", superuser: true)
        now = Date()  // after the admin's real-clock creation; a few seconds ahead at most, within token checks
        var created: [Int64] = []
        for i in 0..<5 {
            now = now.addingTimeInterval(i == 3 ? 0 : 1)  // two share a timestamp: the id breaks the tie
            let r = try app.client().execute(.post, "/api/v1/users", json: ["email": .string("u\(i)@example.com"), "password": "long enough"])
            created.append(try #require(try r.json()["id"]?.intValue))
        }
        let token = try app.accessToken(for: admin)
        let client = app.client()
        var seen: [Int64] = []
        var cursor: String? = nil
        var pages = 0
        repeat {
            let path = "/api/v1/users?limit=2" + (cursor.map { "&cursor=\($0)" } ?? "")
            let page = try client.get(path, headers: bearer(token))
            #expect(page.status == .ok)
            let body = try page.json()
            seen += body["items"]?.arrayValue?.compactMap { $0["id"]?.intValue } ?? []
            cursor = body["next_cursor"]?.stringValue
            #expect(body["next_cursor"] != nil)
            pages += 1
        } while cursor != nil && pages < 10
        #expect(seen == created.reversed() + [admin])
        #expect(pages == 3)
        let defaultPage = try client.get("/api/v1/users", headers: bearer(token))
        #expect(try defaultPage.json()["items"]?.arrayValue?.count == 6)
        #expect(try defaultPage.json()["next_cursor"] == .null)
        for bad in ["limit=0", "limit=101", "limit=x", "cursor=bm9wZQ", "cursor=!!!"] {
            #expect(try client.get("/api/v1/users?\(bad)", headers: bearer(token)).status == .unprocessableContent, "\(bad)")
        }
        let plain = try app.accessToken(for: created[0])
        #expect(try client.get("/api/v1/users", headers: bearer(plain)).status == .forbidden)
        #expect(try client.get("/api/v1/users").status == .unauthorized)
    }

    @Test func superuserPatchAndDeactivationEndSessions() throws {
        let app = try TestApp()
        let admin = try app.makeUser(email: "root@example.com", superuser: true)
        let ada = try app.makeUser(email: "ada@example.com")
        try app.makeUser(email: "taken@example.com")
        let adminToken = try app.accessToken(for: admin)
        let client = app.client()
        let adaPair = try app.tokens("ada@example.com")
        // a plain user cannot
        #expect(try client.execute(.patch, "/api/v1/users/\(ada)", json: ["is_superuser": true], headers: bearer(adaPair.access)).status == .forbidden)
        let renamed = try client.execute(.patch, "/api/v1/users/\(ada)", json: ["full_name": "Ada", "is_superuser": true], headers: bearer(adminToken))
        #expect(renamed.status == .ok)
        #expect(try renamed.json()["is_superuser"] == true)
        #expect(try app.me(adaPair.access).status == .ok)  // no session ends for that
        #expect(try client.execute(.patch, "/api/v1/users/\(ada)", json: ["email": "Taken@example.com"], headers: bearer(adminToken)).status == .conflict)
        #expect(try client.execute(.patch, "/api/v1/users/424242", json: ["full_name": "x"], headers: bearer(adminToken)).status == .notFound)
        let deactivated = try client.execute(.patch, "/api/v1/users/\(ada)", json: ["is_active": false], headers: bearer(adminToken))
        #expect(try deactivated.json()["is_active"] == false)
        #expect(try app.me(adaPair.access).status == .unauthorized)
        #expect(try app.refresh(adaPair.refresh).status == .unauthorized)
        #expect(try app.login("ada@example.com").status == .forbidden)
        // reactivate and set a password: the sessions made since end too
        _ = try client.execute(.patch, "/api/v1/users/\(ada)", json: ["is_active": true], headers: bearer(adminToken))
        let fresh = try app.tokens("ada@example.com")
        let repassworded = try client.execute(.patch, "/api/v1/users/\(ada)", json: ["password": "set by admin 123"], headers: bearer(adminToken))
        #expect(repassworded.status == .ok)
        #expect(!repassworded.text.contains("set by admin 123"))
        #expect(try app.me(fresh.access).status == .unauthorized)
        #expect(try app.login("ada@example.com", "set by admin 123").status == .ok)
        #expect(!app.logs.text.contains("set by admin 123"))
    }

    @Test func superuserDelete() throws {
        let app = try TestApp()
        let admin = try app.makeUser(email: "root@example.com", superuser: true)
        let ada = try app.makeUser(email: "ada@example.com")
        let bob = try app.makeUser(email: "bob@example.com")
        let client = app.client()
        #expect(try client.delete("/api/v1/users/\(bob)", headers: bearer(try app.accessToken(for: ada))).status == .forbidden)
        let adminToken = try app.accessToken(for: admin)
        #expect(try client.delete("/api/v1/users/\(ada)", headers: bearer(adminToken)).status == .noContent)
        #expect(try client.delete("/api/v1/users/\(ada)", headers: bearer(adminToken)).status == .notFound)
        #expect(try client.get("/api/v1/users/\(ada)", headers: bearer(adminToken)).status == .notFound)
    }

    @Test func noResponseOrLogCarriesSecrets() throws {
        let app = try TestApp()
        let id = try app.makeUser(email: "ada@example.com")
        let login = try app.login("ada@example.com")
        let refresh = try #require(try login.json()["refresh_token"]?.stringValue)
        let failed = try app.login("ada@example.com", "wrong password 1")
        let rotated = try app.refresh(refresh)
        let reused = try app.refresh(refresh)
        let hash = try app.storedHash(id)
        for text in [failed.text, rotated.text, reused.text, app.logs.text] {
            #expect(!text.contains(testPassword) && !text.contains("wrong password 1") && !text.contains(hash))
        }
        #expect(!app.logs.text.contains(refresh))
        #expect(!reused.text.contains(refresh) && !rotated.text.contains(refresh))
        #expect(!app.logs.text.isEmpty)
    }

    @Test func superuserCommandCreatesOrPromotes() throws {
        let app = try TestApp()
        let line = try Superuser.create(email: "root@example.com", password: "root password", config: app.services.config)
        #expect(line.hasPrefix("created superuser"))
        let pair = try app.tokens("root@example.com", "root password")
        #expect(try app.me(pair.access).json()["is_superuser"] == true)
        #expect(throws: (any Error).self) { try Superuser.create(email: "x@example.com", password: "short", config: app.services.config) }
        let hs = SigningKeys.configurationLines(algorithm: .hs256)
        #expect(hs.contains { $0.hasPrefix("PERCH_JWT_SIGNING_KEY=") })
        let ed = SigningKeys.configurationLines(algorithm: .edDSA)
        let key = try #require(ed.first { $0.hasPrefix("PERCH_JWT_SIGNING_KEY=") }?.dropFirst("PERCH_JWT_SIGNING_KEY=".count))
        #expect(try JWTKey.ed25519(privateKey: JWTKeyGenerator.decode(String(key))).canSign)
    }
}
