import Foundation
import MariaDB
import TestSupport

/// A connection to a fresh, empty database on the shared test server.
func freshConnection() throws -> Connection {
    Connection(configuration: try PrivateMariaDB.shared.makeDatabase())
}

/// Runs `body` on `count` threads at once and waits for all (bounded by `timeout` seconds).
func onThreads(_ count: Int, timeout: TimeInterval = 60, _ body: @escaping @Sendable (Int) -> Void) -> Bool {
    let group = DispatchGroup()
    for i in 0..<count {
        group.enter()
        Thread.detachNewThread {
            body(i)
            group.leave()
        }
    }
    return group.wait(timeout: .now() + timeout) == .success
}
