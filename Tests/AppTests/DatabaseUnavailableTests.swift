import App
import Logging
import MariaDB
import TestSupport
import Testing
import Web

/// With the database gone, routes that need it answer 503 with Retry-After (DatabaseErrorMiddleware), never a
/// 500 or a hang, and the error text (which names the server's socket) stays in the log, not the response.
@Suite struct DatabaseUnavailableTests {
    static let socket = "/nonexistent/perch-test-mysqld.sock"

    private func client() throws -> InProcessTestClient<AppContext> {
        let logger = Logger(label: "test")
        var config = try AppConfiguration.load(environment: ["PERCH_ENV": "development"])
        config.database = DatabaseConfiguration(endpoint: .socket(path: Self.socket), user: "nobody", database: "none")
        return InProcessTestClient(PerchApp.makeApplication(services: AppServices(config: config, logger: logger), logger: logger))
    }

    private func expectRetryable(_ response: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(response.status == .serviceUnavailable, "\(response.text)", sourceLocation: sourceLocation)
        #expect(response.headers[.retryAfter] == "1", sourceLocation: sourceLocation)
        #expect(try response.json()["detail"]?.stringValue == "Service temporarily unavailable", sourceLocation: sourceLocation)
        #expect(!response.text.contains(Self.socket), "no server details in the response", sourceLocation: sourceLocation)
    }

    @Test func readsAre503WithRetryAfter() throws {
        let client = try client()
        try expectRetryable(try client.get("/api/v1/posts?limit=5"))
        try expectRetryable(try client.get("/api/v1/posts/1"))
    }

    @Test func writesAre503WithRetryAfter() throws {
        let client = try client()
        try expectRetryable(try client.execute(.post, "/api/v1/users", json: ["email": "down@example.com", "password": "a long enough secret"]))
        try expectRetryable(try client.execute(.post, "/api/v1/auth/login", form: [("username", "down@example.com"), ("password", "a long enough secret")]))
    }

    @Test func validationStillComesFirst() throws {
        // A request that is invalid on its face is answered without touching the database.
        let response = try client().execute(.post, "/api/v1/users", json: ["email": "not an email"])
        #expect(response.status == .unprocessableContent, "\(response.text)")
    }
}
