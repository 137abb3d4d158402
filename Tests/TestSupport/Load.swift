import Foundation

/// A bounded load from ApacheBench: `requests` in total over `concurrency` connections.
public struct LoadResult {
    public let complete: Int
    public let failed: Int
    public let non2xx: Int
    public let output: String
    public var allSucceeded: Bool { complete > 0 && failed == 0 && non2xx == 0 }
}

public func abLoad(_ url: String, requests: Int, concurrency: Int, keepAlive: Bool = false, postBody: String? = nil) throws -> LoadResult {
    var arguments = ["/usr/bin/ab", "-q", "-s", "30", "-n", "\(requests)", "-c", "\(concurrency)"]
    if keepAlive { arguments.append("-k") }
    if let postBody {
        let file = Paths.makeTemporaryDirectory("perch-ab") + "/body.json"
        try postBody.write(toFile: file, atomically: true, encoding: .utf8)
        arguments += ["-p", file, "-T", "application/json"]
    }
    arguments.append(url)
    let result = try run(arguments, seconds: 120)
    func number(_ label: String) -> Int {
        guard let line = result.output.split(separator: "\n").first(where: { $0.hasPrefix(label) }) else { return 0 }
        return Int(line.split(separator: ":").last?.trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "") ?? 0
    }
    return LoadResult(
        complete: number("Complete requests"), failed: number("Failed requests"),
        non2xx: number("Non-2xx responses"), output: result.output)
}

/// A bounded load running on a thread of its own while the test kills, reloads or restarts servers.
public final class BackgroundLoad<Outcome>: @unchecked Sendable {
    private let lock = NSLock()
    private var outcome: Result<Outcome, Error>?

    /// Runs `work` (which must bound itself in time) on a new thread.
    public init(_ work: @escaping () throws -> Outcome) {
        let thread = Thread { [self] in
            let result = Result { try work() }
            lock.lock()
            outcome = result
            lock.unlock()
        }
        thread.start()
    }

    public var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        return outcome == nil
    }

    /// The load's result once it ends (bounded by the load's own limits); throws if it could not run.
    public func result(seconds: Double = 150) throws -> Outcome {
        guard eventually(seconds: seconds, { !isRunning }) else { throw SupportError("the load ran past \(seconds) s") }
        lock.lock()
        defer { lock.unlock() }
        return try outcome!.get()
    }
}

extension BackgroundLoad where Outcome == LoadResult {
    /// An ab load of `requests` GETs over `concurrency` connections.
    public convenience init(_ url: String, requests: Int, concurrency: Int) {
        self.init { try abLoad(url, requests: requests, concurrency: concurrency) }
    }
}

/// One request of a recorded load as its client saw it. `status` is 0 when no complete answer came (a
/// hang past the client's timeout or a reset), with the reason in `error`.
public struct Exchange: Sendable {
    public let client: Int
    public let index: Int
    public let status: Int
    public let body: String
    public let error: String?
    public let started: Date
    public let ended: Date

    /// Sent before `instant` and not yet answered then, give or take `slack` seconds.
    public func wasInFlight(at instant: Date, slack: TimeInterval = 0) -> Bool {
        started <= instant.addingTimeInterval(slack) && ended >= instant.addingTimeInterval(-slack)
    }
}

/// `clients` threads, each sending requests one after another through `send(client, index)`, `pause`
/// seconds apart, until `done(its last exchange)` or at most `seconds`; every exchange is recorded, in no
/// particular order. The pause bounds the count when requests fail fast (a database down answers 503s in
/// a millisecond). `send` must bound each request itself (LiveTestClient's timeout), so a hang shows as
/// status 0.
public func recordedLoad(
    clients: Int, seconds: Double, pause: Double = 0, until done: @escaping @Sendable (_ last: Exchange) -> Bool = { _ in false },
    _ send: @escaping @Sendable (_ client: Int, _ index: Int) throws -> TestResponse
) -> [Exchange] {
    let began = Date()
    let exchanges = Locked([Exchange]())
    let finished = DispatchGroup()
    // Threads of their own: concurrentPerform would run only as many clients at once as there are cores.
    for client in 0..<clients {
        finished.enter()
        Thread {
            defer { finished.leave() }
            var index = 0
            while Date().timeIntervalSince(began) < seconds {
                let exchange = recordedExchange(client: client, index: index, send)
                exchanges.withLock { $0.append(exchange) }
                if done(exchange) { break }
                index += 1
                if pause > 0 { usleep(UInt32(pause * 1_000_000)) }
            }
        }.start()
    }
    finished.wait()
    return exchanges.current
}

private func recordedExchange(client: Int, index: Int, _ send: (_ client: Int, _ index: Int) throws -> TestResponse) -> Exchange {
    let started = Date()
    do {
        let response = try send(client, index)
        return Exchange(
            client: client, index: index, status: Int(response.status.code), body: response.text,
            error: nil, started: started, ended: Date())
    } catch {
        return Exchange(client: client, index: index, status: 0, body: "", error: "\(error)", started: started, ended: Date())
    }
}
