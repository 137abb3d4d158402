import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// deploy/multi-host: two app hosts (two pools on 127.0.0.2 and 127.0.0.3, same port, TCP with the
/// allowed-clients list) behind one nginx upstream rendered from the shipped site file. One host stops
/// during a bounded load of post reads (both on one database): nginx moves to the other and every read succeeds.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct DeployMultiHostTests {
    static let siteFile = Paths.packageRoot + "/deploy/multi-host/nginx-perch.conf"

    @Test func nginxFailsOverWhenAHostStops() throws {
        let port = try freeLoopbackPort()
        let hostA = try appHost("127.0.0.2", port: port)
        let hostB = try appHost("127.0.0.3", port: port)
        let site = try String(contentsOfFile: Self.siteFile, encoding: .utf8)
        let replacements = [
            "server 10.0.0.11:9000 ": "server 127.0.0.2:\(port) ",
            "server 10.0.0.12:9000 ": "server 127.0.0.3:\(port) "
        ]
        for target in Array(replacements.keys) + ["listen 80;"] where !site.contains(target) {
            throw SupportError("\(Self.siteFile) no longer contains \"\(target)\"; update the test's rendering")
        }
        let nginx = try PrivateNginx(socketPath: "/nonexistent", siteFile: Self.siteFile, replacements: replacements)
        let post = try DeployFlow.exercise(baseURL: nginx.baseURL)

        // Both hosts take a share of the reads.
        let beforeA = try requestsServed(host: "127.0.0.2", port: port)
        let beforeB = try requestsServed(host: "127.0.0.3", port: port)
        let warm = try abLoad(nginx.baseURL + post, requests: 400, concurrency: 4)
        #expect(warm.allSucceeded, "\(warm.output)")
        let servedB = try requestsServed(host: "127.0.0.3", port: port)
        #expect(try requestsServed(host: "127.0.0.2", port: port) - beforeA > 1, "host A served reads")
        #expect(servedB - beforeB > 1, "host B served reads")

        // Reads until a second after host A stopped (not a fixed count, which a fast machine could finish
        // before the stop), each on a new connection.
        let stopped = Locked<Date?>(nil)
        let client = LiveTestClient(port: nginx.port)
        let load = BackgroundLoad {
            recordedLoad(clients: 10, seconds: 60, until: { _ in stopped.current.map { $0.timeIntervalSinceNow < -1 } ?? false }) { _, _ in
                try client.get(post)
            }
        }
        usleep(300_000)
        hostA.stop()
        stopped.withLock { $0 = Date() }
        #expect(hostA.process.poll() == 0, "host A stopped gracefully: \(hostA.process.log)")
        #expect(load.isRunning, "host A must stop during the load")
        let exchanges = try load.result()
        let failed = exchanges.filter { $0.status != 200 }
        #expect(exchanges.count > 100, "the load ran: \(exchanges.count) reads")
        #expect(failed.isEmpty, "\(failed.count) of \(exchanges.count) reads failed, e.g. \(failed.prefix(3))\nnginx: \(nginx.errorLog)")
        // Refused (socket closed) or reset (a connection still queued when it closed): either way nginx met
        // the stopped host and moved the read on.
        #expect(nginx.errorLog.contains("upstream: \"fastcgi://127.0.0.2:\(port)\""), "nginx met the stopped host: \(nginx.errorLog)")
        #expect(!nginx.errorLog.contains("127.0.0.3:\(port)"), "the live host never failed: \(nginx.errorLog)")
        #expect(try requestsServed(host: "127.0.0.3", port: port) > servedB + 1)
        try DeployFlow.exercise(baseURL: nginx.baseURL)
    }

    /// A pool as an app host runs it (deploy/multi-host/perch.env as shipped): TCP, only nginx's address
    /// allowed, the shared database and signing key.
    private func appHost(_ address: String, port: Int) throws -> PerchPool {
        let environment = try ShippedConfiguration.environment(
            file: Paths.packageRoot + "/deploy/multi-host/perch.env",
            overrides: [
                "PERCH_LISTEN": "\(address):\(port)",
                "PERCH_ALLOWED_CLIENTS": "127.0.0.1",  // nginx connects from 127.0.0.1
                "PERCH_STATUS_PATH": "/status", "PERCH_STATUS_ALLOW": "127.0.0.1",
                "PERCH_WORKERS": "2", "PERCH_GRACEFUL_TIMEOUT": "10"
            ])
        return try PerchPool(workers: 2, environment: environment, waitForSocketFile: false)
    }

    /// Requests served by one host's pool so far (its status page, asked directly over FastCGI; this
    /// request counts too).
    private func requestsServed(host: String, port: Int) throws -> Int {
        let connection = try FastCGIConnection(host: host, port: port)
        connection.send(FastCGIConnection.request(fastCGIParams("/status")))
        let response = try #require(connection.readResponse(), "no status from \(host)")
        let body = try #require(response.components(separatedBy: "\r\n\r\n").last)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        let processes = try #require(document["processes"] as? [[String: Any]])
        return processes.compactMap { $0["requests"] as? Int }.reduce(0, +)
    }
}
