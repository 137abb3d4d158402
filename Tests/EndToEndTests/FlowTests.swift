import Foundation
import MariaDB
import Sodium
import Testing
import TestSupport

/// The whole product as a user meets it: the shipped nginx site in front of the pool, on a real MariaDB,
/// through the live HTTP client: sign-up, login, create a post, read it back.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct FlowTests {
    @Test func signUpLoginCreatePostReadPostThroughNginx() throws {
        let database = try PrivateMariaDB.shared.makeMigratedDatabase()
        var environment = FaultTests.environment(database)
        environment["PERCH_JWT_SIGNING_KEY"] = JWTKeyGenerator.encode(JWTKeyGenerator.hs256Secret())
        let pool = try PerchPool(workers: 2, environment: environment)
        let nginx = try PrivateNginx(socketPath: pool.socketPath)
        let client = LiveTestClient(host: "127.0.0.1", port: nginx.port)

        let signUp = try client.execute(.post, "/api/v1/users", json: ["email": "Flow@Example.com", "password": "a long enough secret", "full_name": "Flo"])
        #expect(signUp.status == .created, "\(signUp.text)")
        #expect(signUp.headers[.location] != nil)

        let login = try client.execute(.post, "/api/v1/auth/login", form: [("username", "flow@example.com"), ("password", "a long enough secret")])
        #expect(login.status == .ok, "\(login.text)")
        let token = try #require(try login.json()["access_token"]?.stringValue)

        let created = try client.execute(.post, "/api/v1/posts", json: ["title": "Hello", "content": "From nginx", "published": true],
                                         headers: [.authorization: "Bearer \(token)"])
        #expect(created.status == .created, "\(created.text)")
        let location = try #require(created.headers[.location])

        let read = try client.get(location)
        #expect(read.status == .ok, "\(read.text)")
        #expect(try read.json()["title"]?.stringValue == "Hello")
        #expect(try read.json()["author"]?["full_name"]?.stringValue == "Flo")
        #expect(read.headers[.eTag] != nil)
        #expect(!read.text.contains("flow@example.com"), "the author's email is not public")
    }
}
