import App
import Foundation
import HTTPTypes
import MariaDB
import Sodium
import TestSupport
import Testing
import Web

/// Access tokens the app must refuse, each checked against a control that it accepts.
@Suite struct AuthTokenTests {
    private func segments(_ token: String) -> [String] { token.split(separator: ".", omittingEmptySubsequences: false).map(String.init) }

    private func expectRejected(_ app: TestApp, _ token: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let response = try app.me(token)
        #expect(response.status == .unauthorized, sourceLocation: sourceLocation)
        #expect(response.headers[.wwwAuthenticate] == "Bearer", sourceLocation: sourceLocation)
    }

    @Test func algNoneIsRefused() throws {
        let app = try TestApp()
        let id = try app.makeUser(email: "ada@example.com")
        let good = try app.accessToken(for: id)
        #expect(try app.me(good).status == .ok)
        let header = Base64URL.encode(Array(#"{"alg":"none","typ":"JWT"}"#.utf8))
        let parts = segments(good)
        try expectRejected(app, "\(header).\(parts[1]).")
        try expectRejected(app, "\(header).\(parts[1]).\(parts[2])")
    }

    @Test func tamperedSignatureOrPayloadIsRefused() throws {
        let app = try TestApp()
        let id = try app.makeUser(email: "ada@example.com")
        let other = try app.makeUser(email: "bob@example.com")
        let parts = segments(try app.accessToken(for: id))
        var signature = Array(parts[2])
        signature[5] = signature[5] == "A" ? "B" : "A"
        try expectRejected(app, "\(parts[0]).\(parts[1]).\(String(signature))")
        // the same signature over claims naming another user
        var claims = try JWTClaims(json: JSONValue.parse(Base64URL.decode(parts[1])!))
        claims.sub = "\(other)"
        let payload = Base64URL.encode(Array(try JSONEncoder().encode(claims)))
        try expectRejected(app, "\(parts[0]).\(payload).\(parts[2])")
        try expectRejected(app, "not-a-jwt")
    }

    @Test func wrongAlgorithmOrKeyIsRefused() throws {
        let app = try TestApp()
        let id = try app.makeUser(email: "ada@example.com")
        let sid = try #require(Int64(try app.services.config.auth.signer.verify(try app.accessToken(for: id)).sid))
        let now = Int(Date().timeIntervalSince1970)
        let claims = JWTClaims(sub: "\(id)", sid: "\(sid)", iat: now, exp: now + 600, jti: "x")
        let ed = JWTKeyGenerator.ed25519()
        let edSigner = try JWTSigner(algorithm: .edDSA, signingKey: try JWTKey.ed25519(privateKey: ed.secretKey))
        try expectRejected(app, try edSigner.sign(claims: claims))
        let otherSecret = try JWTSigner(algorithm: .hs256, signingKey: try JWTKey.hs256(secret: JWTKeyGenerator.hs256Secret()))
        try expectRejected(app, try otherSecret.sign(claims: claims))
        // control: the app's own signer with those claims works
        #expect(try app.me(try app.services.config.auth.signer.sign(claims: claims)).status == .ok)
    }

    @Test func expiredTokenIsRefused() throws {
        let app = try TestApp()
        let id = try app.makeUser(email: "ada@example.com")
        try expectRejected(app, try app.accessToken(for: id, lifetime: -60))  // past the 30 s leeway
        // and through the clock: a real token, fifteen minutes and a leeway later
        var now = Date()
        let timed = try TestApp(clock: { now })
        try timed.makeUser(email: "ada@example.com")
        let pair = try timed.tokens("ada@example.com")
        #expect(try timed.me(pair.access).status == .ok)
        now = now.addingTimeInterval(900 + 31)
        try expectRejected(timed, pair.access)
    }

    @Test func tokenOfADeletedUserIsRefused() throws {
        let app = try TestApp()
        let id = try app.makeUser(email: "ada@example.com")
        let token = try app.accessToken(for: id)
        #expect(try app.me(token).status == .ok)
        try app.connection.execute("DELETE FROM users WHERE id = ?", [.int(id)])
        try expectRejected(app, token)
    }

    @Test func tokenOfARevokedSessionIsRefused() throws {
        let app = try TestApp()
        let id = try app.makeUser(email: "ada@example.com")
        let token = try app.accessToken(for: id)
        #expect(try app.me(token).status == .ok)
        try AuthRepository(app.connection).revokeAll(userID: id, now: Date())
        try expectRejected(app, token)
    }

    @Test func missingOrNonBearerAuthorizationIs401() throws {
        let app = try TestApp()
        #expect(try app.client().get("/api/v1/users/me").status == .unauthorized)
        let basic = try app.client().get("/api/v1/users/me", headers: [.authorization: "Basic YTpi"])
        #expect(basic.status == .unauthorized)
        #expect(basic.headers[.wwwAuthenticate] == "Bearer")
    }
}
