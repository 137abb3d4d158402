import App
import Foundation
import HTTPTypes
import MariaDB
import Sodium
import TestSupport
import Testing
import Web

/// The account findings of the security review: promotion from the command line, a superuser deleting
/// themselves, and lost updates on the users row (each test failed on the code before its fix).
@Suite struct AccountIntegrityTests {
    /// Anyone can sign up with the operator's address before the operator runs create-superuser: promoting
    /// that account must be asked for, and must not hand its existing tokens superuser rights.
    @Test func createSuperuserPromotesOnlyWhenAskedAndEndsTheAccountsSessions() throws {
        let app = try TestApp()
        let id = try app.makeUser(email: "ada@example.com")
        let squatter = try app.tokens("ada@example.com")
        #expect(throws: AppConfigurationError.self) {
            try Superuser.create(email: "ADA@example.com", password: "operator password", config: app.services.config)
        }
        #expect(try app.client().get("/api/v1/users", headers: bearer(squatter.access)).status == .forbidden)
        #expect(try app.me(squatter.access).json()["is_superuser"] == false)

        let line = try Superuser.create(
            email: "ADA@example.com", password: "operator password", promoteExisting: true,
            config: app.services.config)
        #expect(line.hasPrefix("promoted user \(id)"))
        // The tokens from before the promotion are dead; the new password logs in as a superuser.
        #expect(try app.client().get("/api/v1/users", headers: bearer(squatter.access)).status == .unauthorized)
        #expect(try app.refresh(squatter.refresh).status == .unauthorized)
        #expect(try app.login("ada@example.com").status == .unauthorized)
        let root = try app.tokens("ada@example.com", "operator password")
        #expect(try app.client().get("/api/v1/users", headers: bearer(root.access)).status == .ok)
    }

    @Test func aSuperuserCannotDeleteThemselvesByID() throws {
        let app = try TestApp()
        let root = try app.makeUser(email: "root@example.com", superuser: true)
        let token = try app.accessToken(for: root)
        let response = try app.client().delete("/api/v1/users/\(root)", headers: bearer(token))
        #expect(response.status == .forbidden)
        #expect(try app.me(token).status == .ok)
    }

    /// PATCH /users/me used to write back every column of the row it read at authentication. Here an admin's
    /// demotion commits while that PATCH waits for the row lock: it must survive the PATCH.
    @Test func patchMeDoesNotUndoAConcurrentDemotion() throws {
        let app = try TestApp()
        let id = try app.makeUser(email: "ada@example.com", superuser: true)
        let token = try app.accessToken(for: id)
        let admin = Connection(configuration: app.database)
        defer { admin.close() }
        try admin.execute("START TRANSACTION")
        _ = try admin.query("SELECT id FROM users WHERE id = ? FOR UPDATE", [.int(id)])
        let patched = Locked<TestResponse?>(nil)
        let patch = Thread {
            let response = try? app.client().execute(.patch, "/api/v1/users/me", json: ["full_name": "Ada"], headers: bearer(token))
            patched.withLock { $0 = response }
        }
        patch.start()
        // The PATCH has read the row (at authentication) and its UPDATE now waits for the lock the admin holds.
        let waiting = eventually(seconds: 10) {
            (try? admin.query("SELECT COUNT(*) AS n FROM information_schema.processlist WHERE info LIKE 'UPDATE users SET %'")[0].get("n") as Int64) == 1
        }
        #expect(waiting)
        _ = try admin.execute("UPDATE users SET is_superuser = FALSE WHERE id = ?", [.int(id)])
        try admin.execute("COMMIT")
        #expect(eventually(seconds: 10) { patched.current != nil })
        #expect(patched.current?.status == .ok)
        let row = try #require(try UserRepository(app.connection).find(id: id))
        #expect(row.fullName == "Ada")
        #expect(row.isSuperuser == false)
    }

    /// A login that verified the old password just before a password change used to create a session
    /// after it that nothing ended. Sessions now carry the credential generation their login read.
    @Test func aSessionFromBeforeAPasswordChangeIsDead() throws {
        let app = try TestApp()
        let id = try app.makeUser(email: "ada@example.com")
        let before = try #require(try UserRepository(app.connection).find(id: id))  // what the slow login read
        let current = try app.tokens("ada@example.com")
        let change = try app.client().execute(
            .post, "/api/v1/users/me/password",
            json: ["current_password": .string(testPassword), "new_password": "a new password 2"],
            headers: bearer(current.access))
        #expect(change.status == .noContent)
        #expect(try app.me(current.access).status == .ok)  // the session that changed it stays
        let late = try AuthRepository(app.connection).createSession(
            userID: id, credentialGeneration: before.credentialGeneration,
            now: Date(), maxAge: 3600)
        let issued = Int(Date().timeIntervalSince1970)
        let token = try app.services.config.auth.signer.sign(claims: JWTClaims(sub: "\(id)", sid: "\(late)", iat: issued, exp: issued + 900, jti: "late"))
        #expect(try app.me(token).status == .unauthorized)
    }

    /// Password writes apply only over the hash that was read: a rehash or a change based on an old hash
    /// loses to the password set in between.
    @Test func passwordWritesAreConditionalOnTheHashThatWasRead() throws {
        let app = try TestApp()
        let id = try app.makeUser(email: "ada@example.com")
        let users = UserRepository(app.connection)
        let stale = try #require(try users.find(id: id))
        let hasher = app.services.config.auth.hasher
        #expect(try users.setPassword(id: id, hashedPassword: try hasher.hash("reset password 1"), ifCurrent: stale.hashedPassword, now: Date()))
        try users.rehashPassword(id: id, hashedPassword: try hasher.hash(testPassword), ifCurrent: stale.hashedPassword)
        #expect(try !users.setPassword(id: id, hashedPassword: try hasher.hash("old password 1"), ifCurrent: stale.hashedPassword, now: Date()))
        #expect(try app.login("ada@example.com", "reset password 1").status == .ok)
        #expect(try users.find(id: id)?.credentialGeneration == stale.credentialGeneration + 1)
    }

    /// Password hashes are admitted across the pool (PERCH_HASH_CONCURRENCY): with every permit taken, a
    /// sign-up, a login and a password change wait briefly and then get 503 with Retry-After; once a permit
    /// is free the same requests pass. A taken email answers 409 without waiting for a hash at all.
    @Test func passwordHashesWaitForAPermitThen503() throws {
        let app = try TestApp(environment: ["PERCH_HASH_CONCURRENCY": "1", "PERCH_HASH_WAIT": "30"])
        let id = try app.makeUser(email: "ada@example.com")
        let token = try app.accessToken(for: id)
        let client = app.client()
        let signUp: JSONValue = ["email": "bob@example.com", "password": "bob's password"]
        try app.services.passwords.admitted {
            let refused = try client.execute(.post, "/api/v1/users", json: signUp)
            #expect(refused.status == .serviceUnavailable)
            #expect(refused.headers[.retryAfter] == "1")
            #expect(try app.login("ada@example.com").status == .serviceUnavailable)
            let change = try client.execute(
                .post, "/api/v1/users/me/password", json: ["current_password": .string(testPassword), "new_password": "another password 1"],
                headers: bearer(token))
            #expect(change.status == .serviceUnavailable)
            #expect(try client.execute(.post, "/api/v1/users", json: ["email": "ADA@example.com", "password": "whatever 123"]).status == .conflict)
        }
        #expect(try client.execute(.post, "/api/v1/users", json: signUp).status == .created)
        #expect(try app.login("ada@example.com").status == .ok)
        // The refused guesses were taken back: they do not count as failed logins.
        let attempts: Int64 = try app.connection.query("SELECT COUNT(*) AS n FROM login_attempts")[0].get("n")
        #expect(attempts == 0)
    }
}
