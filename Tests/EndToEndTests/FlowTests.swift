import Foundation
import Testing
import TestSupport

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
