import Foundation
import HTTPTypes
import TestSupport
import Testing
import Web

@testable import App

/// The login throttle's keys and budgets (security review, item 5).
@Suite struct LoginThrottleBudgetTests {
    @Test func clientKeysGroupAnIPv6Slash64() {
        #expect(LoginThrottle.clientKey("192.0.2.7") == "192.0.2.7")
        #expect(LoginThrottle.clientKey("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64")
        #expect(LoginThrottle.clientKey("2001:DB8:1:2:ffff:ffff:ffff:ffff") == "2001:db8:1:2::/64")
        #expect(LoginThrottle.clientKey("2001:db8:1:3::1") == "2001:db8:1:3::/64")
        #expect(LoginThrottle.clientKey("::ffff:192.0.2.7") == "192.0.2.7")
        #expect(LoginThrottle.clientKey("") == "")
        #expect(LoginThrottle.clientKey("not:an:address") == "not:an:address")
    }

    /// An attacker rotating through the addresses of one /64 is one client: the per-client budget holds.
    @Test func rotatingThroughAnIPv6Slash64DoesNotResetTheBudget() throws {
        let app = try TestApp(environment: ["PERCH_LOGIN_MAX_FAILURES": "3"])
        try app.makeUser(email: "ada@example.com")
        for i in 1...3 { #expect(try app.login("ada@example.com", "wrong password", from: "2001:db8:1:2::\(i)").status == .unauthorized) }
        #expect(try app.login("ada@example.com", "wrong password", from: "2001:db8:1:2::99").status == .tooManyRequests)
        #expect(try app.login("ada@example.com", from: "2001:db8:1:2:abcd::1").status == .tooManyRequests)
        #expect(try app.login("ada@example.com", from: "2001:db8:1:3::1").status == .ok)  // another /64
    }

    /// Guesses from many clients spend the account's budget; a client the owner already logged in from is not
    /// refused (no malicious lockout), a new one waits for the window.
    @Test func theAccountBudgetSparesClientsTheOwnerUses() throws {
        var now = Date()
        let app = try TestApp(
            environment: [
                "PERCH_LOGIN_MAX_FAILURES": "2", "PERCH_LOGIN_ACCOUNT_MAX_FAILURES": "5",
                "PERCH_LOGIN_WINDOW": "600"
            ], clock: { now })
        try app.makeUser(email: "ada@example.com")
        #expect(try app.login("ada@example.com", from: "192.0.2.1").status == .ok)  // the owner's usual place
        for i in 1...5 { #expect(try app.login("ada@example.com", "wrong password", from: "198.51.100.\(i)").status == .unauthorized) }
        let refused = try app.login("ada@example.com", "wrong password", from: "198.51.100.6")
        #expect(refused.status == .tooManyRequests)
        #expect(refused.headers[.retryAfter] != nil)
        #expect(try app.login("ada@example.com", from: "203.0.113.9").status == .tooManyRequests)  // a new client waits
        #expect(try app.login("ada@example.com", from: "192.0.2.1").status == .ok)  // the owner does not
        now = now.addingTimeInterval(601)
        #expect(try app.login("ada@example.com", from: "203.0.113.9").status == .ok)
    }

    /// A stolen access token must not become a way to guess the password through the password change.
    @Test func theCurrentPasswordCheckIsThrottled() throws {
        let app = try TestApp(environment: ["PERCH_LOGIN_MAX_FAILURES": "3"])
        let id = try app.makeUser(email: "ada@example.com")
        let token = try app.accessToken(for: id)
        func change(_ current: String) throws -> TestResponse {
            try app.client().execute(
                .post, "/api/v1/users/me/password", json: ["current_password": .string(current), "new_password": "a new password 1"],
                headers: [.authorization: "Bearer \(token)"])
        }
        for _ in 0..<3 { #expect(try change("wrong password").status == .badRequest) }
        let throttled = try change("correct horse battery")
        #expect(throttled.status == .tooManyRequests)
        #expect(throttled.headers[.retryAfter] != nil)
    }
}
