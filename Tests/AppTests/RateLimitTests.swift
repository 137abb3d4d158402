import App
import Foundation
import HTTPTypes
import TestSupport
import Testing
import Web

/// Rate limits per role and limit group, in the pool's shared memory.
@Suite struct RateLimitTests {
    static let policy = HTTPField.Name("RateLimit-Policy")!
    static let state = HTTPField.Name("RateLimit")!

    /// Over budget: 429 with the headers; after the window, the budget is whole again. The clock is the test's,
    /// so the window's end is a step, not a wait.
    @Test func aBurstOverBudgetGets429AndTheBudgetRefills() throws {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let now = Locked(start)
        let app = try TestApp(
            environment: ["PERCH_RATE_LIMIT_ANONYMOUS": "read=3,write=1", "PERCH_RATE_LIMIT_WINDOW": "60"],
            clock: { now.current }, rateLimited: true)
        let client = app.client()
        for remaining in [2, 1, 0] {
            let ok = try client.get("/api/v1/posts")
            #expect(ok.status == .ok)
            #expect(ok.headers[Self.policy] == #""read";q=3;w=60"#)
            #expect(ok.headers[Self.state] == #""read";r=\#(remaining);t=60"#)
        }
        now.withLock { $0 = start.addingTimeInterval(15) }
        let refused = try client.get("/api/v1/posts")
        #expect(refused.status == .tooManyRequests)
        #expect(refused.text == #"{"detail":"Too many requests"}"#)
        #expect(refused.headers[.retryAfter] == "45")
        #expect(refused.headers[Self.state] == #""read";r=0;t=45"#)
        #expect(refused.headers[Self.policy] == #""read";q=3;w=60"#)
        // Another group has its own budget; another client address its own count; health checks none.
        #expect(try client.execute(.post, "/api/v1/users", json: ["email": "a@example.com", "password": "long enough"]).status == .created)
        #expect(try client.execute(.post, "/api/v1/users", json: ["email": "b@example.com", "password": "long enough"]).status == .tooManyRequests)
        #expect(try app.client(from: "10.0.0.2").get("/api/v1/posts").status == .ok)
        let health = try client.get("/api/v1/health")
        #expect(health.status == .ok && health.headers[Self.policy] == nil)

        now.withLock { $0 = start.addingTimeInterval(60) }
        let refilled = try client.get("/api/v1/posts")
        #expect(refilled.status == .ok)
        #expect(refilled.headers[Self.state] == #""read";r=2;t=60"#)
    }

    /// A signed-in caller is counted by user, with their role's budget.
    @Test func rolesHaveTheirOwnBudgetsCountedPerUser() throws {
        let app = try TestApp(
            environment: ["PERCH_RATE_LIMIT_ANONYMOUS": "read=1", "PERCH_RATE_LIMIT_MEMBER": "read=2", "PERCH_RATE_LIMIT_ADMIN": "read=0"],
            rateLimited: true)
        let member = try app.accessToken(for: try app.makeUser(email: "m@example.com"), scope: "posts:write")
        let admin = try app.accessToken(for: try app.makeUser(email: "a@example.com", superuser: true), scope: "users:admin users:read")
        let client = app.client()
        #expect(try client.get("/api/v1/posts").status == .ok)
        #expect(try client.get("/api/v1/posts").status == .tooManyRequests)
        let first = try client.get("/api/v1/users/me", headers: bearer(member))
        #expect(first.status == .ok && first.headers[Self.policy] == #""read";q=2;w=60"#)
        #expect(try client.get("/api/v1/users/me", headers: bearer(member)).status == .ok)
        #expect(try client.get("/api/v1/users/me", headers: bearer(member)).status == .tooManyRequests)
        // Budget 0: no limit, and no headers.
        for _ in 0..<5 { #expect(try client.get("/api/v1/users", headers: bearer(admin)).status == .ok) }
        #expect(try client.get("/api/v1/users", headers: bearer(admin)).headers[Self.policy] == nil)
    }

    @Test func aBadBudgetIsAClearConfigurationError() throws {
        #expect(throws: AppConfigurationError.self) {
            try AppConfiguration.load(environment: ["PERCH_ENV": "development", "PERCH_RATE_LIMIT_MEMBER": "reads=5"])
        }
        #expect(throws: AppConfigurationError.self) { try AppConfiguration.load(environment: ["PERCH_ENV": "development", "PERCH_RATE_LIMIT_WINDOW": "0"]) }
    }

    /// The pool's workers share one budget: a concurrent burst through nginx at four workers gets exactly the
    /// budget's worth of 200s, however the requests spread over the workers (per worker it would be up to 4x).
    @Test func theBudgetIsSharedByEveryWorkerOfThePool() throws {
        let app = try TestApp(.live, environment: ["PERCH_RATE_LIMIT_ANONYMOUS": "read=10", "PERCH_RATE_LIMIT_WINDOW": "86400", "PERCH_WORKERS": "4"])
        let statuses = Locked<[HTTPResponse.Status]>([])
        let refusals = Locked<[TestResponse]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            let client = app.client()
            for _ in 0..<5 {
                guard let response = try? client.get("/api/v1/posts") else { continue }
                statuses.withLock { $0.append(response.status) }
                if response.status == .tooManyRequests { refusals.withLock { $0.append(response) } }
            }
        }
        #expect(statuses.current.count == 40)
        #expect(statuses.current.filter { $0 == .ok }.count == 10)
        #expect(refusals.current.count == 30)
        for refused in refusals.current {
            #expect(refused.headers[.retryAfter].flatMap(Int.init).map { $0 > 0 && $0 <= 86_400 } == true)
            #expect(refused.headers[Self.policy] == #""read";q=10;w=86400"#)
            #expect(refused.headers[Self.state]?.hasPrefix(#""read";r=0;t="#) == true)
        }
    }
}
