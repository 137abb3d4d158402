import Foundation
import TestSupport
import Testing

/// The whole product as a user meets it: the shipped nginx site in front of the pool, on a real MariaDB,
/// through the live HTTP client: sign-up, login, create a post, read it back (DeployFlow).
@Suite(.serialized, .timeLimit(.minutes(2)))
struct FlowTests {
    @Test func signUpLoginCreatePostReadPostThroughNginx() throws {
        let pool = try PerchPool(workers: 2, environment: try DeployFlow.appEnvironment())
        let nginx = try PrivateNginx(socketPath: pool.socketPath)
        try DeployFlow.exercise(baseURL: nginx.baseURL)
    }
}

/// What nginx answers itself, before or instead of the app, in the API's error shape (API.md: JSON
/// `{"detail": ...}`), not nginx's HTML pages: found by schemathesis' fuzzing phase (a 413 page for a body
/// over the limit).
@Suite(.serialized, .timeLimit(.minutes(2)))
struct NginxErrorShapeTests {
    private func expectDetail(_ response: TestResponse, _ status: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(response.status.code == status, "\(response.status) \(response.text)", sourceLocation: sourceLocation)
        #expect(response.headers[.contentType] == "application/json", sourceLocation: sourceLocation)
        #expect(response.headers[.xContentTypeOptions] == "nosniff", sourceLocation: sourceLocation)
        let json = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        #expect(json?["detail"] is String, "\(response.text)", sourceLocation: sourceLocation)
    }

    @Test func bodyTooLargeRateLimitedAndPoolDownAreJSON() throws {
        let pool = try PerchPool(workers: 1)
        let nginx = try PrivateNginx(socketPath: pool.socketPath)
        let client = LiveTestClient(host: "127.0.0.1", port: nginx.port)

        let tooLarge = try client.execute(.post, "/api/v1/posts", raw: String(repeating: "a", count: 1_100_000), contentType: "application/json")
        expectDetail(tooLarge, 413)

        // The shipped site lets 5 logins a second through, with a burst of 10: thirty at once overflow it.
        var limited: TestResponse?
        for _ in 0..<30 where limited == nil {
            let response = try client.execute(.post, "/api/v1/auth/login", form: [("username", "nobody@example.com"), ("password", "x")])
            if response.status.code == 429 { limited = response }
        }
        let rateLimited = try #require(limited, "nginx's login rate limit never answered")
        expectDetail(rateLimited, 429)
        #expect(rateLimited.headers[.retryAfter] == "1")

        // Sign-ups (an Argon2 hash each) have their own budget: 2 a second, a burst of 5; GETs are not counted.
        var signUpLimited: TestResponse?
        for _ in 0..<20 where signUpLimited == nil {
            let response = try client.execute(.post, "/api/v1/users", json: [:])
            if response.status.code == 429 { signUpLimited = response }
        }
        expectDetail(try #require(signUpLimited, "nginx's sign-up rate limit never answered"), 429)
        #expect(try client.execute(.get, "/api/v1/users").status.code == 401)  // the admin's list: not limited

        pool.stop()
        expectDetail(try client.execute(.get, "/api/v1/health"), 502)
    }
}
