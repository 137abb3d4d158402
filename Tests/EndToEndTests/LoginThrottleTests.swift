import Foundation
import Sodium
import TestSupport
import Testing

/// The failed-login limit holds across workers: guesses that arrive together, each verified by another
/// worker at full Argon2 cost, cannot all slip under the limit before any of them is counted.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct LoginThrottleTests {
    @Test func concurrentGuessesGetNoMoreThanTheLimit() throws {
        let database = try PrivateMariaDB.shared.makeMigratedDatabase()
        var environment = FaultTests.appEnvironment(database)
        environment["PERCH_LOGIN_MAX_FAILURES"] = "3"
        // Real (interactive) Argon2 limits: each verification takes long enough for the guesses to overlap.
        environment["PERCH_ARGON2_OPSLIMIT"] = "\(PasswordHasher.interactiveOpsLimit)"
        environment["PERCH_ARGON2_MEMLIMIT"] = "\(PasswordHasher.interactiveMemLimit)"
        let pool = try PerchPool(workers: 4, environment: environment)
        let nginx = try PrivateNginx(socketPath: pool.socketPath)
        let client = LiveTestClient(host: "127.0.0.1", port: nginx.port)
        let signUp = try client.execute(.post, "/api/v1/users", json: ["email": "ada@example.com", "password": "a long enough secret"])
        try #require(signUp.status == .created, "\(signUp.text)")

        let guesses = 8
        let statuses = Locked([Int]())
        DispatchQueue.concurrentPerform(iterations: guesses) { i in
            let guess = LiveTestClient(host: "127.0.0.1", port: nginx.port)
            let status =
                (try? guess.execute(.post, "/api/v1/auth/login", form: [("username", "ada@example.com"), ("password", "guess number \(i)")]))?.status.code ?? 0
            statuses.withLock { $0.append(status) }
        }
        let seen = statuses.withLock { $0 }
        #expect(seen.allSatisfy { $0 == 401 || $0 == 429 }, "\(seen)")
        let failures = seen.filter { $0 == 401 }.count
        #expect(failures <= 3, "more guesses verified than the limit allows: \(seen)")
        // Refused attempts took their rows back: the right password is locked out exactly when three guesses
        // were verified (guesses that raced each other may all have been refused, failing closed).
        let right = try client.execute(.post, "/api/v1/auth/login", form: [("username", "ada@example.com"), ("password", "a long enough secret")])
        #expect(right.status == (failures == 3 ? .tooManyRequests : .ok), "\(seen), then \(right.status)")
    }
}
