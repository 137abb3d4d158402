import App
import Foundation
import HTTPTypes
import MariaDB
import TestSupport
import Testing
import Web

/// GET /users/me/sessions, DELETE /users/me/sessions/{id}, POST /auth/logout-all and the superuser's
/// DELETE /users/{id}/sessions, end to end through nginx; `last_used_at` in-process (it needs the clock).
@Suite struct SessionsTests {
    /// Logs in with a User-Agent; the (access, refresh) pair.
    private func login(_ app: TestApp, _ email: String, agent: String) throws -> (access: String, refresh: String) {
        let response = try app.client().execute(
            .post, "/api/v1/auth/login", form: [("username", email), ("password", testPassword)], headers: [.userAgent: agent])
        let body = try response.json()
        guard response.status == .ok, let access = body["access_token"]?.stringValue, let refresh = body["refresh_token"]?.stringValue else {
            throw TestFailure("login failed: \(response.status) \(response.text)")
        }
        return (access, refresh)
    }

    private func sessions(_ app: TestApp, _ access: String) throws -> [JSONValue] {
        let response = try app.client().get("/api/v1/users/me/sessions", headers: bearer(access))
        guard response.status == .ok else { throw TestFailure("sessions: \(response.status) \(response.text)") }
        #expect(response.headers[.cacheControl] == "no-store")
        return try response.json()["items"]?.arrayValue ?? []
    }

    @Test func listEndOneAndLogoutAllThroughNginx() throws {
        let app = try TestApp(.live)
        try app.makeUser(email: "ada@example.com")
        let laptop = try login(app, "ada@example.com", agent: "Laptop/1.0")
        let phone = try login(app, "ada@example.com", agent: "Phone/2.0")

        let listed = try sessions(app, laptop.access)
        try #require(listed.count == 2)
        #expect(listed[0].objectValue?.map(\.0) == ["id", "created_at", "last_used_at", "expires_at", "user_agent", "current"])
        // Newest first; `current` marks the laptop's own session.
        #expect(listed.map { $0["user_agent"] } == ["Phone/2.0", "Laptop/1.0"])
        #expect(listed.map { $0["current"] } == [false, true])
        let phoneSession = try #require(listed[0]["id"]?.intValue)
        let laptopSession = try #require(listed[1]["id"]?.intValue)
        #expect(try sessions(app, phone.access).map { $0["current"] } == [true, false])

        // Another user can neither see nor end them.
        try app.makeUser(email: "bob@example.com")
        let bob = try login(app, "bob@example.com", agent: "Bob")
        #expect(try sessions(app, bob.access).count == 1)
        let foreign = try app.client().delete("/api/v1/users/me/sessions/\(phoneSession)", headers: bearer(bob.access))
        #expect(foreign.status == .notFound)
        #expect(foreign.text == #"{"detail":"Session not found"}"#)
        #expect(try app.me(phone.access).status == .ok)

        // Ending the phone's session stops its access and refresh tokens at once; the laptop's lives on.
        #expect(try app.client().delete("/api/v1/users/me/sessions/\(phoneSession)", headers: bearer(laptop.access)).status == .noContent)
        #expect(try app.me(phone.access).status == .unauthorized)
        #expect(try app.refresh(phone.refresh).status == .unauthorized)
        #expect(try app.me(laptop.access).status == .ok)
        #expect(try sessions(app, laptop.access).map { $0["id"]?.intValue } == [laptopSession])
        // An ended session is no longer the caller's to end; a malformed id is a 422; no token is a 401.
        #expect(try app.client().delete("/api/v1/users/me/sessions/\(phoneSession)", headers: bearer(laptop.access)).status == .notFound)
        #expect(try app.client().delete("/api/v1/users/me/sessions/abc", headers: bearer(laptop.access)).status == .unprocessableContent)
        #expect(try app.client().delete("/api/v1/users/me/sessions/\(laptopSession)").status == .unauthorized)
        #expect(try app.client().get("/api/v1/users/me/sessions").status == .unauthorized)

        // logout-all ends every session of the caller, this one included; Bob's stays.
        let another = try login(app, "ada@example.com", agent: "Tablet")
        let all = try app.client().execute(.post, "/api/v1/auth/logout-all", headers: bearer(laptop.access))
        #expect(all.status == .noContent)
        #expect(all.headers[.cacheControl] == "no-store")
        for pair in [laptop, another] {
            #expect(try app.me(pair.access).status == .unauthorized)
            #expect(try app.refresh(pair.refresh).status == .unauthorized)
        }
        #expect(try app.me(bob.access).status == .ok)
        #expect(try app.client().execute(.post, "/api/v1/auth/logout-all").status == .unauthorized)
    }

    @Test func aSuperuserEndsEverySessionOfAUserThroughNginx() throws {
        let app = try TestApp(.live)
        let ada = try app.makeUser(email: "ada@example.com")
        try app.makeUser(email: "root@example.com", superuser: true)
        let first = try login(app, "ada@example.com", agent: "one")
        let second = try login(app, "ada@example.com", agent: "two")
        let root = try login(app, "root@example.com", agent: "admin")

        // Not a superuser: 403, and nothing ended.
        #expect(try app.client().delete("/api/v1/users/\(ada)/sessions", headers: bearer(first.access)).status == .forbidden)
        #expect(try app.me(second.access).status == .ok)
        #expect(try app.client().delete("/api/v1/users/\(ada)/sessions").status == .unauthorized)

        let missing = try app.client().delete("/api/v1/users/\(ada + 1000)/sessions", headers: bearer(root.access))
        #expect(missing.status == .notFound)
        #expect(missing.text == #"{"detail":"User not found"}"#)

        #expect(try app.client().delete("/api/v1/users/\(ada)/sessions", headers: bearer(root.access)).status == .noContent)
        for pair in [first, second] {
            #expect(try app.me(pair.access).status == .unauthorized)
            #expect(try app.refresh(pair.refresh).status == .unauthorized)
        }
        #expect(try app.me(root.access).status == .ok)
        // Ada logs in again: a new session works.
        #expect(try app.me(login(app, "ada@example.com", agent: "three").access).status == .ok)
    }

    /// `last_used_at` is written when the stored value is a minute old or more, not on every request.
    @Test func lastUsedAtIsWrittenAtMostOnceAMinute() throws {
        let start = Date()
        let clock = Locked(start)
        let app = try TestApp(clock: { clock.current })
        try app.makeUser(email: "ada@example.com")
        let pair = try login(app, "ada@example.com", agent: "Laptop")
        func stored() throws -> Date {
            try app.connection.query("SELECT last_used_at FROM sessions").first!.get("last_used_at")
        }
        func advance(to seconds: TimeInterval) { clock.withLock { $0 = start.addingTimeInterval(seconds) } }
        let created = try stored()
        #expect(abs(created.timeIntervalSince(start)) < 0.001)

        advance(to: 30)
        #expect(try app.me(pair.access).status == .ok)
        #expect(try stored() == created)  // within the minute: no write
        advance(to: 61)
        #expect(try app.me(pair.access).status == .ok)
        let touched = try stored()
        #expect(abs(touched.timeIntervalSince(start.addingTimeInterval(61))) < 0.001)
        advance(to: 100)
        #expect(try app.me(pair.access).status == .ok)
        #expect(try stored() == touched)
        let listed = try sessions(app, pair.access)
        #expect(listed.first?["last_used_at"]?.stringValue == RFC3339.format(touched))
        #expect(listed.first?["current"] == true)
    }

    /// Expired sessions and those of an older credential generation are not listed.
    @Test func onlyLiveSessionsAreListed() throws {
        let app = try TestApp()
        let id = try app.makeUser(email: "ada@example.com")
        let pair = try login(app, "ada@example.com", agent: "Laptop")
        _ = try login(app, "ada@example.com", agent: "Old")
        try app.connection.execute("UPDATE sessions SET expires_at = ? WHERE user_agent = 'Old'", [.date(Date().addingTimeInterval(-1))])
        let stale = try AuthRepository(app.connection).createSession(userID: id, credentialGeneration: 7, now: Date(), maxAge: 3600)
        let listed = try sessions(app, pair.access)
        #expect(listed.map { $0["user_agent"] } == ["Laptop"])
        #expect(!listed.contains { $0["id"]?.intValue == stale })
        #expect(listed.first?["id"]?.intValue != nil)
    }
}
