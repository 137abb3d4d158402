import App
import TestSupport
import Testing
import Web

/// A 422 never echoes a secret the caller sent, whether the schema knows the field or not.
@Suite struct SecretEchoTests {
    @Test func patchMeWithAPasswordIsRefusedWithoutEchoingIt() throws {
        let app = try TestApp()
        let token = try app.accessToken(for: try app.makeUser(email: "ada@example.com"))
        let response = try app.client().execute(
            .patch, "/api/v1/users/me", json: ["password": "hunter2-Secret", "refresh_token": "rt-Secret"],
            headers: bearer(token))
        #expect(response.status == .unprocessableContent)
        let detail = try #require(try response.json()["detail"]?.arrayValue)
        #expect(detail.map { $0["type"] } == ["extra_forbidden", "extra_forbidden"])
        #expect(detail.allSatisfy { $0.objectValue?.contains { $0.0 == "input" } == false })
        #expect(!response.text.contains("Secret"))
    }
}
