import App
import Foundation
import HTTPTypes
import MariaDB
import Sodium
import TestSupport
import Testing
import Web

@Suite struct AuthTests {
    @Test func loginAnswersATokenPairAndNoStore() throws {
        let app = try TestApp()
        let id = try app.makeUser(email: "ada@example.com")
        let response = try app.login("ADA@example.com")
        #expect(response.status == .ok)
        #expect(response.headers[.cacheControl] == "no-store")
        let body = try response.json()
        #expect(body["token_type"] == "bearer")
        #expect(body["expires_in"] == 900)
        let refresh = try #require(body["refresh_token"]?.stringValue)
        #expect(Base64URL.decode(refresh)?.count ?? 0 >= 32)
        let access = try #require(body["access_token"]?.stringValue)
        let claims = try app.services.config.auth.signer.verify(access)
        #expect(claims.sub == "\(id)")
        #expect(claims.exp - claims.iat == 900)
        #expect(!claims.jti.isEmpty)
        let session = try app.connection.query("SELECT user_id FROM sessions WHERE id = ?", [.int(Int64(claims.sid)!)])
        #expect(try session.first?.get("user_id", as: Int64.self) == id)
        // Only the hash of the refresh token is stored.
        let stored = try app.connection.query("SELECT token_hash FROM refresh_tokens")
        #expect(stored.count == 1)
        #expect(try stored[0].get("token_hash", as: Data.self) == Data(sha256(refresh)))
        #expect(try app.me(access).status == .ok)
    }

    @Test func wrongPasswordAndUnknownEmailGetTheSame401() throws {
        let app = try TestApp()
        try app.makeUser(email: "ada@example.com")
        let wrong = try app.login("ada@example.com", "wrong password")
        let unknown = try app.login("nobody@example.com", "wrong password")
        for response in [wrong, unknown] {
            #expect(response.status == .unauthorized)
            #expect(response.text == #"{"detail":"Incorrect email or password"}"#)
            #expect(response.headers[.wwwAuthenticate] == "Bearer")
        }
    }

    @Test func inactiveUserGets403() throws {
        let app = try TestApp()
        try app.makeUser(email: "ada@example.com", active: false)
        let response = try app.login("ada@example.com")
        #expect(response.status == .forbidden)
        #expect(response.text == #"{"detail":"Inactive user"}"#)
        // a wrong password still says 401, revealing nothing
        #expect(try app.login("ada@example.com", "nope nope nope").status == .unauthorized)
    }

    @Test func loginFormIsValidated() throws {
        let app = try TestApp()
        try app.makeUser(email: "ada@example.com")
        let client = app.client()
        let badGrant = try client.execute(
            .post, "/api/v1/auth/login", form: [("username", "ada@example.com"), ("password", testPassword), ("grant_type", "client_credentials")])
        #expect(badGrant.status == .unprocessableContent)
        let missing = try client.execute(.post, "/api/v1/auth/login", form: [("username", "ada@example.com")])
        #expect(missing.status == .unprocessableContent)
        let withGrant = try client.execute(
            .post, "/api/v1/auth/login", form: [("username", "ada@example.com"), ("password", testPassword), ("grant_type", "password"), ("scope", "")])
        #expect(withGrant.status == .ok)
        let json = try client.execute(.post, "/api/v1/auth/login", json: ["username": "ada@example.com", "password": .string(testPassword)])
        #expect(json.status == .unsupportedMediaType)
    }

    @Test func refreshRotatesAndReuseRevokesTheSession() throws {
        let app = try TestApp()
        try app.makeUser(email: "ada@example.com")
        let first = try app.tokens("ada@example.com")
        let rotated = try app.refresh(first.refresh)
        #expect(rotated.status == .ok)
        #expect(rotated.headers[.cacheControl] == "no-store")
        let second = try #require(try rotated.json()["refresh_token"]?.stringValue)
        let secondAccess = try #require(try rotated.json()["access_token"]?.stringValue)
        #expect(second != first.refresh)
        #expect(try app.me(secondAccess).status == .ok)
        // Presenting the old one again: 401, and the whole session is gone.
        let reused = try app.refresh(first.refresh)
        #expect(reused.status == .unauthorized)
        #expect(reused.headers[.wwwAuthenticate] == "Bearer")
        #expect(try app.refresh(second).status == .unauthorized)
        #expect(try app.me(secondAccess).status == .unauthorized)
        #expect(try app.me(first.access).status == .unauthorized)
    }

    @Test func unknownAndExpiredRefreshTokensGet401() throws {
        var now = Date()
        let app = try TestApp(clock: { now })
        try app.makeUser(email: "ada@example.com")
        #expect(try app.refresh(SecureRandom.token(bytes: 32)).status == .unauthorized)
        let pair = try app.tokens("ada@example.com")
        now = now.addingTimeInterval(7 * 24 * 3600 + 1)
        #expect(try app.refresh(pair.refresh).status == .unauthorized)
        let malformed = try app.client().execute(.post, "/api/v1/auth/refresh", json: ["refresh_token": 42])
        #expect(malformed.status == .unprocessableContent)
    }

    @Test func logoutKillsAccessAndRefreshAtOnce() throws {
        let app = try TestApp()
        try app.makeUser(email: "ada@example.com")
        let pair = try app.tokens("ada@example.com")
        let other = try app.tokens("ada@example.com")
        let response = try app.client().execute(.post, "/api/v1/auth/logout", headers: bearer(pair.access))
        #expect(response.status == .noContent)
        #expect(response.headers[.cacheControl] == "no-store")
        #expect(try app.me(pair.access).status == .unauthorized)
        #expect(try app.refresh(pair.refresh).status == .unauthorized)
        // another session of the same user lives on
        #expect(try app.me(other.access).status == .ok)
        #expect(try app.client().execute(.post, "/api/v1/auth/logout").status == .unauthorized)
    }

    @Test func throttlesAfterTooManyFailures() throws {
        var now = Date()
        let app = try TestApp(environment: ["PERCH_LOGIN_MAX_FAILURES": "3", "PERCH_LOGIN_WINDOW": "600"], clock: { now })
        try app.makeUser(email: "ada@example.com")
        try app.makeUser(email: "bob@example.com")
        for _ in 0..<3 { #expect(try app.login("ada@example.com", "wrong password").status == .unauthorized) }
        now = now.addingTimeInterval(100)
        let throttled = try app.login("ADA@example.com")  // even the right password
        #expect(throttled.status == .tooManyRequests)
        let retry = try #require(throttled.headers[.retryAfter].flatMap { Int($0) })
        #expect(retry > 490 && retry <= 500)
        #expect(try throttled.json()["detail"]?.stringValue != nil)
        // another email, another address: not affected
        #expect(try app.login("bob@example.com").status == .ok)
        #expect(try app.login("ada@example.com", from: "10.0.0.2").status == .ok)
        // once the window has passed, the right password works and clears the count
        now = now.addingTimeInterval(501)
        #expect(try app.login("ada@example.com").status == .ok)
        let count: Int64 = try app.connection.query("SELECT COUNT(*) AS n FROM login_attempts WHERE client_address = '127.0.0.1'")[0].get("n")
        #expect(count == 0)
    }

    @Test func successClearsTheFailureCount() throws {
        let app = try TestApp(environment: ["PERCH_LOGIN_MAX_FAILURES": "3"])
        try app.makeUser(email: "ada@example.com")
        for _ in 0..<2 { _ = try app.login("ada@example.com", "wrong password") }
        #expect(try app.login("ada@example.com").status == .ok)
        for _ in 0..<2 { _ = try app.login("ada@example.com", "wrong password") }
        #expect(try app.login("ada@example.com").status == .ok)
    }

    @Test func attemptsInFlightCountAgainstTheLimit() throws {
        // Another worker's login that has begun but not finished verifying holds a place in the count, so
        // concurrent guesses near the limit cannot all pass the check before any of them is recorded.
        let now = Date()
        let app = try TestApp(environment: ["PERCH_LOGIN_MAX_FAILURES": "3"], clock: { now })
        try app.makeUser(email: "ada@example.com")
        for _ in 0..<2 { #expect(try app.login("ada@example.com", "wrong password").status == .unauthorized) }
        let elsewhere = AuthRepository(app.connection)
        let inFlight = try elsewhere.beginLoginAttempt(email: "ada@example.com", address: "127.0.0.1", now: now)
        #expect(try app.login("ada@example.com").status == .tooManyRequests)
        // the refused attempt took itself back; when the other one ends (here: withdrawn), logins pass again
        #expect(try elsewhere.loginAttempts(email: "ada@example.com", address: "127.0.0.1", since: now.addingTimeInterval(-60)).count == 3)
        try elsewhere.withdrawLoginAttempt(id: inFlight)
        #expect(try app.login("ada@example.com").status == .ok)
    }

    @Test func rightPasswordOfAnInactiveUserClearsTheCount() throws {
        let app = try TestApp(environment: ["PERCH_LOGIN_MAX_FAILURES": "3"])
        try app.makeUser(email: "ada@example.com", active: false)
        for _ in 0..<2 { #expect(try app.login("ada@example.com", "wrong password").status == .unauthorized) }
        #expect(try app.login("ada@example.com").status == .forbidden)
        let count: Int64 = try app.connection.query("SELECT COUNT(*) AS n FROM login_attempts")[0].get("n")
        #expect(count == 0)
        for _ in 0..<3 { #expect(try app.login("ada@example.com", "wrong password").status == .unauthorized) }
        #expect(try app.login("ada@example.com").status == .tooManyRequests)
    }

    @Test func weakerStoredHashIsUpgradedOnLogin() throws {
        let weak = try TestApp()  // minimum Argon2 limits
        let strongEnv = [
            "PERCH_ARGON2_OPSLIMIT": "\(PasswordHasher.minimumOpsLimit + 1)",
            "PERCH_ARGON2_MEMLIMIT": "\(PasswordHasher.minimumMemLimit * 2)"
        ]
        let app = try TestApp(environment: strongEnv)
        let weakHash = try weak.services.config.auth.hasher.hash(testPassword)
        let id = try app.makeUser(email: "ada@example.com")
        try app.connection.execute("UPDATE users SET hashed_password = ? WHERE id = ?", [.string(weakHash), .int(id)])  // a hash from older settings
        #expect(app.services.config.auth.hasher.needsRehash(weakHash))
        #expect(try app.login("ada@example.com").status == .ok)
        let upgraded = try app.storedHash(id)
        #expect(upgraded != weakHash)
        #expect(upgraded.hasPrefix("$argon2id$"))
        #expect(!app.services.config.auth.hasher.needsRehash(upgraded))
        #expect(try app.login("ada@example.com").status == .ok)
        #expect(try app.storedHash(id) == upgraded)
    }
}
