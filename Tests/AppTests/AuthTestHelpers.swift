import App
import Foundation
import HTTPTypes
import MariaDB
import TestSupport
import Web

let testPassword = "correct horse battery"

func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }

extension TestApp {
    /// Logs in through the API; the response, whatever it is.
    func login(_ email: String, _ password: String = testPassword, from address: String = "127.0.0.1") throws -> TestResponse {
        try client(from: address).execute(.post, "/api/v1/auth/login", form: [("username", email), ("password", password)])
    }

    /// A successful login's (access, refresh) pair.
    func tokens(_ email: String, _ password: String = testPassword) throws -> (access: String, refresh: String) {
        let response = try login(email, password)
        guard response.status == .ok, let body = try? response.json(),
            let access = body["access_token"]?.stringValue, let refresh = body["refresh_token"]?.stringValue
        else { throw TestFailure("login failed: \(response.status) \(response.text)") }
        return (access, refresh)
    }

    func refresh(_ token: String) throws -> TestResponse {
        try client().execute(.post, "/api/v1/auth/refresh", json: ["refresh_token": .string(token)])
    }

    func me(_ access: String) throws -> TestResponse {
        try client().get("/api/v1/users/me", headers: bearer(access))
    }

    func storedHash(_ userID: Int64) throws -> String {
        try connection.query("SELECT hashed_password FROM users WHERE id = ?", [.int(userID)]).first!.get("hashed_password")
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
