import Glibc
import Sodium
import Synchronization
import Web

/// The app's password hashing, admitted across the pool: at most `limit` hashes at once per host
/// (`PERCH_HASH_CONCURRENCY`, the cores by default). More would only share the cores, each taking longer, and
/// would let a burst of sign-ups or password checks turn Argon2 against the pool. Past the limit a request
/// waits up to `PERCH_HASH_WAIT` for a turn, then answers 503 with `Retry-After`. Every hash and verify of a
/// request goes through here; the command line's `create-superuser` hashes outside any pool.
public final class Passwords: Sendable {
    public let hasher: PasswordHasher
    let limit: Int
    let waitMillis: Int
    private let permits: Permits

    /// `shared`: the pool's permits (the worker's scoreboard slot); nil counts in this process only (a single
    /// CGI request, tests driving the app in-process).
    init(hasher: PasswordHasher, limit: Int, waitMillis: Int, shared: (tryAcquire: (Int) -> Bool, release: () -> Void)?) {
        self.hasher = hasher
        self.limit = limit
        self.waitMillis = waitMillis
        permits = shared.map { Permits(tryAcquire: $0.tryAcquire, release: $0.release) } ?? Permits.local()
    }

    public func hash(_ password: String) throws -> String { try admitted { try hasher.hash(password) } }
    public func verify(_ password: String, against hash: String) throws -> Bool { try admitted { hasher.verify(password, against: hash) } }
    /// The same cost as a verify, for an unknown account (failures take about the same time).
    public func verifyDummy(_ password: String) throws -> Bool { try admitted { hasher.verifyDummy(password) } }
    public func needsRehash(_ hash: String) -> Bool { hasher.needsRehash(hash) }

    /// Runs `body` holding a permit, waiting for one in short naps with jitter (so waiters do not retry in
    /// step); 503 when none came in time.
    public func admitted<T>(_ body: () throws -> T) throws -> T {
        var waited = 0
        while !permits.tryAcquire(limit) {
            guard waited < waitMillis else {
                throw HTTPError(.serviceUnavailable, detail: "Too many password checks in progress, try again shortly", headers: [.retryAfter: "1"])
            }
            let nap = 2 + Int.random(in: 0...3)
            usleep(useconds_t(nap * 1000))
            waited += nap
        }
        defer { permits.release() }
        return try body()
    }

    /// How a permit is taken: the pool's shared scoreboard, or a counter of this process.
    private struct Permits: @unchecked Sendable {  // the closures are the worker's own (one thread) or lock-guarded
        let tryAcquire: (Int) -> Bool
        let release: () -> Void

        static func local() -> Permits {
            let held = Mutex(0)
            let tryAcquire: (Int) -> Bool = { limit in
                held.withLock { count in
                    guard count < limit else { return false }
                    count += 1
                    return true
                }
            }
            return Permits(tryAcquire: tryAcquire, release: { held.withLock { $0 -= 1 } })
        }
    }
}
