import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The pool as operators meet it: the real binary, real signals, real nginx in front. Serialized because
/// each test measures its own processes on a 2-core machine.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct PoolTests {
    @Test func healthThroughNginx() throws {
        let pool = try PerchPool(workers: 2)
        let nginx = try PrivateNginx(socketPath: pool.socketPath)
        let response = try curl(nginx.baseURL + "/api/v1/health")
        #expect(response.status == 200)
        #expect(response.body == #"{"status":"ok"}"#)
        #expect(response.headers["content-type"] == "application/json; charset=utf-8")
    }

    @Test func killedWorkerIsReplacedAtOnceAndOthersAreUnaffected() throws {
        let pool = try PerchPool(workers: 2)
        let nginx = try PrivateNginx(socketPath: pool.socketPath)
        let victim = try #require(pool.workerPIDs.first)
        kill(victim, SIGKILL)
        #expect(pool.waitForWorkers(2, excluding: [victim], seconds: 2))
        let load = try abLoad(nginx.baseURL + "/api/v1/health", requests: 1_000, concurrency: 10)
        #expect(load.allSucceeded, "\(load.output)")
        #expect(pool.process.log.contains("worker died"))
        #expect(pool.process.log.contains("pid=\(victim)"))
    }

    @Test func killDuringLoadCostsAtMostTheRequestInFlight() throws {
        let pool = try PerchPool(workers: 2)
        let nginx = try PrivateNginx(socketPath: pool.socketPath)
        let victims = pool.workerPIDs
        let background = BackgroundLoad(nginx.baseURL + "/api/v1/health", requests: 3_000, concurrency: 8)
        usleep(300_000)
        kill(victims[0], SIGKILL)
        let load = try background.result(seconds: 60)
        #expect(load.complete == 3_000)
        #expect(load.non2xx <= 1 && load.failed <= 1, "\(load.output)")  // ab counts a 502 twice: non-2xx and length
        #expect(pool.waitForWorkers(2, excluding: [victims[0]], seconds: 2))
    }

    @Test func reloadUnderLoadDropsNothing() throws {
        let pool = try PerchPool(workers: 2)
        let nginx = try PrivateNginx(socketPath: pool.socketPath)
        let before = Set(pool.workerPIDs)
        let background = BackgroundLoad(nginx.baseURL + "/api/v1/health", requests: 2_000, concurrency: 20)
        usleep(200_000)
        pool.process.signal(SIGHUP)
        let load = try background.result(seconds: 60)
        #expect(load.complete == 2_000 && load.allSucceeded, "\(load.output)")
        // Old workers hand their kept connections to the master and leave.
        #expect(pool.waitForWorkers(2, excluding: before, seconds: 30), "old workers should leave: \(pool.process.log)")
        #expect(pool.process.log.contains("HUP: reloading"))
        #expect(pool.process.poll() == nil, "the master survives a reload")
    }

    @Test func recyclingAtSmallMaxRequestsDropsNothing() throws {
        let pool = try PerchPool(workers: 2, environment: ["PERCH_MAX_REQUESTS": "50", "PERCH_MAX_REQUESTS_JITTER": "10"])
        let nginx = try PrivateNginx(socketPath: pool.socketPath)
        let load = try abLoad(nginx.baseURL + "/api/v1/health", requests: 2_000, concurrency: 20)
        #expect(load.complete == 2_000 && load.allSucceeded, "\(load.output)")
        // Retiring workers finish their kept connections when the load ends; the master logs once it reaps one.
        #expect(eventually(seconds: 10) { pool.process.log.contains("worker recycled after max_requests") })
    }

    @Test func postsOverKeptConnectionsNeverFailEvenWhileWorkersRecycle() throws {
        // nginx retries a failed GET on another connection but never a POST: a worker that closed a kept
        // connection nginx had just written to would show up here as a 502.
        let pool = try PerchPool(workers: 2, environment: ["PERCH_MAX_REQUESTS": "300", "PERCH_MAX_REQUESTS_JITTER": "50"])
        let nginx = try PrivateNginx(socketPath: pool.socketPath)
        let load = try abLoad(nginx.baseURL + "/api/v1/health", requests: 5_000, concurrency: 16, postBody: "{}")
        #expect(load.complete == 5_000)
        #expect(load.failed == 0 && load.non2xx == 5_000, "every POST is answered by the app (405), none by nginx: \(load.output)")
        #expect(!nginx.errorLog.contains("upstream"), "\(nginx.errorLog)")
    }

    @Test func reloadWithBrokenConfigurationKeepsServing() throws {
        let directory = Paths.makeTemporaryDirectory()
        let configFile = directory + "/perch.env"
        try "PERCH_LOG_LEVEL=info\n".write(toFile: configFile, atomically: true, encoding: .utf8)
        let pool = try PerchPool(workers: 2, environment: ["PERCH_CONFIG_FILE": configFile])
        let workers = Set(pool.workerPIDs)
        try "PERCH_WORKERS=lots\n".write(toFile: configFile, atomically: true, encoding: .utf8)
        pool.process.signal(SIGHUP)
        #expect(eventually(seconds: 10) { pool.process.log.contains("reload refused") })
        #expect(Set(pool.workerPIDs) == workers)
        let connection = try FastCGIConnection(unixPath: pool.socketPath)
        connection.send(FastCGIConnection.request(fastCGIParams("/api/v1/health")))
        #expect(connection.readResponse()?.hasPrefix("Status: 200 OK") == true)
    }

    @Test func termLetsInFlightRequestsFinishThenExitsZero() throws {
        let pool = try PerchPool(workers: 2)
        let workers = pool.workerPIDs
        // A request whose body is still arriving when TERM comes.
        let connection = try FastCGIConnection(unixPath: pool.socketPath)
        var params = fastCGIParams("/api/v1/health", method: "POST")
        params["CONTENT_LENGTH"] = "10"
        params["CONTENT_TYPE"] = "application/json"
        connection.send(FastCGIConnection.beginRequest() + FastCGIConnection.params(params) + FastCGIConnection.stdin(Array("12345".utf8), end: false))
        usleep(300_000)
        pool.process.signal(SIGTERM)
        usleep(300_000)
        #expect(pool.process.poll() == nil, "the master waits for the request in flight")
        connection.send(FastCGIConnection.stdin(Array("67890".utf8)))
        let response = try #require(connection.readResponse())
        #expect(response.hasPrefix("Status: "))
        #expect(pool.process.wait(seconds: 10) == 0)
        #expect(workers.allSatisfy { !ChildProcess.isAlive($0) })
        #expect(!FileManager.default.fileExists(atPath: pool.socketPath), "the socket file is removed")
    }

    @Test func quitStopsAtOnce() throws {
        let pool = try PerchPool(workers: 2)
        let workers = pool.workerPIDs
        let connection = try FastCGIConnection(unixPath: pool.socketPath)
        var params = fastCGIParams("/api/v1/health", method: "POST")
        params["CONTENT_LENGTH"] = "10"
        connection.send(FastCGIConnection.beginRequest() + FastCGIConnection.params(params))
        usleep(200_000)
        pool.process.signal(SIGQUIT)
        #expect(pool.process.wait(seconds: 5) == 0)
        #expect(eventually(seconds: 2) { workers.allSatisfy { !ChildProcess.isAlive($0) } })
    }

    @Test func requestPastTheTimeoutIsKilledAndLogged() throws {
        let pool = try PerchPool(workers: 2, environment: ["PERCH_REQUEST_TIMEOUT": "1"])
        let connection = try FastCGIConnection(unixPath: pool.socketPath)
        var params = fastCGIParams("/api/v1/health?stuck=1", method: "POST")
        params["CONTENT_LENGTH"] = "100"
        params["HTTP_X_REQUEST_ID"] = "stuck-request-1"
        connection.send(FastCGIConnection.beginRequest() + FastCGIConnection.params(params) + FastCGIConnection.stdin(Array("x".utf8), end: false))
        #expect(eventually(seconds: 5) { pool.process.log.contains("request timed out: worker killed") }, "\(pool.process.log)")
        #expect(pool.process.log.contains("/api/v1/health?stuck=1"))
        #expect(connection.closedByPeer())
        #expect(pool.waitForWorkers(2, seconds: 3))
        let healthy = try FastCGIConnection(unixPath: pool.socketPath)
        healthy.send(FastCGIConnection.request(fastCGIParams("/api/v1/health")))
        #expect(healthy.readResponse()?.hasPrefix("Status: 200 OK") == true)
    }

    @Test func bodyOverTheLimitGets413AndTheConnectionIsNotReused() throws {
        let pool = try PerchPool(workers: 1, environment: ["PERCH_BODY_LIMIT": "1000"])
        let nginx = try PrivateNginx(socketPath: pool.socketPath)
        let big = String(repeating: "x", count: 5_000)
        let tooLarge = try curl(nginx.baseURL + "/api/v1/health", method: "POST", headers: ["Content-Type": "application/json"], body: big)
        #expect(tooLarge.status == 413)
        // A declared length over the limit is refused without reading (raw FastCGI, body never sent).
        let connection = try FastCGIConnection(unixPath: pool.socketPath)
        var params = fastCGIParams("/api/v1/health", method: "POST")
        params["CONTENT_LENGTH"] = "\(1 << 30)"
        connection.send(FastCGIConnection.beginRequest(keepConnection: true) + FastCGIConnection.params(params))
        #expect(connection.readResponse()?.hasPrefix("Status: 413") == true)
        #expect(connection.closedByPeer())
        #expect(try curl(nginx.baseURL + "/api/v1/health").status == 200)
    }

    @Test func idleKeptConnectionDoesNotStarveOthers() throws {
        // One worker holding an idle kept connection: it must still serve a new connection at once.
        let pool = try PerchPool(workers: 1, environment: ["PERCH_KEEPALIVE_IDLE": "60"])
        let kept = try FastCGIConnection(unixPath: pool.socketPath)
        kept.send(FastCGIConnection.request(fastCGIParams("/api/v1/health"), keepConnection: true))
        #expect(kept.readResponse()?.hasPrefix("Status: 200 OK") == true)
        // `kept` stays open and idle; a second client must still be served promptly.
        let started = Date()
        let other = try FastCGIConnection(unixPath: pool.socketPath, receiveTimeout: 5)
        other.send(FastCGIConnection.request(fastCGIParams("/api/v1/health")))
        #expect(other.readResponse()?.hasPrefix("Status: 200 OK") == true)
        #expect(Date().timeIntervalSince(started) < 3)
    }

    @Test func keptConnectionServesSeveralRequests() throws {
        let pool = try PerchPool(workers: 1)
        let connection = try FastCGIConnection(unixPath: pool.socketPath)
        for _ in 0..<5 {
            connection.send(FastCGIConnection.request(fastCGIParams("/api/v1/health"), keepConnection: true))
            #expect(connection.readResponse()?.hasSuffix(#"{"status":"ok"}"#) == true)
        }
    }

    /// A worker told to retire (USR2, as a reloading master does) while a request waits on a kept
    /// connection leaves at once, and the connection goes on to another worker: nothing is closed under
    /// nginx's feet (closing it after the response failed the POST nginx sent next, a 502 in a reload).
    @Test func retiringWorkerHandsItsKeptConnectionOn() throws {
        let pool = try PerchPool(workers: 1)
        let worker = try #require(pool.workerPIDs.first)
        let connection = try FastCGIConnection(unixPath: pool.socketPath)
        connection.send(FastCGIConnection.request(fastCGIParams("/api/v1/health"), keepConnection: true))
        #expect(connection.readResponse()?.hasSuffix(#"{"status":"ok"}"#) == true)
        // Both at once when the worker next wakes: the request on the kept connection and the USR2.
        kill(worker, SIGSTOP)
        connection.send(FastCGIConnection.request(fastCGIParams("/api/v1/health"), keepConnection: true))
        kill(worker, SIGUSR2)
        usleep(100_000)
        kill(worker, SIGCONT)
        #expect(connection.readResponse()?.hasSuffix(#"{"status":"ok"}"#) == true)
        connection.send(FastCGIConnection.request(fastCGIParams("/api/v1/health"), keepConnection: true))
        #expect(connection.readResponse()?.hasSuffix(#"{"status":"ok"}"#) == true, "the kept connection was closed")
        #expect(eventually(seconds: 5) { !ChildProcess.isAlive(worker) }, "the retired worker does not linger")
        #expect(pool.waitForWorkers(1, excluding: [worker], seconds: 5))
    }

    /// Fair dispatch: a request on an idle kept connection is served even while the worker that served the
    /// connection last cannot run; it had handed the connection to the master, which passes it on.
    @Test func stoppedWorkersIdleKeptConnectionIsServedByAnother() throws {
        let pool = try PerchPool(workers: 2, environment: ["PERCH_STATUS_PATH": "/status"])
        let connection = try FastCGIConnection(unixPath: pool.socketPath, receiveTimeout: 10)
        // The status page names the worker serving it: the one running /status.
        func servingWorker() throws -> Int {
            connection.send(FastCGIConnection.request(fastCGIParams("/status"), keepConnection: true))
            let response = try #require(connection.readResponse(), "no answer")
            let body = try #require(response.range(of: "\r\n\r\n")).upperBound
            let json = try #require(try JSONSerialization.jsonObject(with: Data(response[body...].utf8)) as? [String: Any])
            let processes = try #require(json["processes"] as? [[String: Any]])
            return try #require(processes.first { $0["request_uri"] as? String == "/status" }?["pid"] as? Int)
        }
        let first = try servingWorker()
        // Far past the worker's 2 ms linger, so the connection is the master's now even on a loaded machine
        // (200 ms was not always enough while another benchmark ran).
        usleep(1_000_000)
        kill(pid_t(first), SIGSTOP)
        defer { kill(pid_t(first), SIGCONT) }
        #expect(try servingWorker() != first)
        #expect(try servingWorker() != first)
    }

    /// A worker forked while the master holds a connection must not keep a copy of it: when its server
    /// closes it (or dies), nginx has to see the end, not wait for an answer until its timeout.
    @Test func workerForkedWhileAConnectionIsParkedKeepsNoCopy() throws {
        let pool = try PerchPool(workers: 2)
        let connection = try FastCGIConnection(unixPath: pool.socketPath, receiveTimeout: 5)
        connection.send(FastCGIConnection.request(fastCGIParams("/api/v1/health"), keepConnection: true))
        #expect(connection.readResponse()?.hasSuffix(#"{"status":"ok"}"#) == true)
        usleep(100_000)  // past the worker's linger: the master holds it
        let victim = try #require(pool.workerPIDs.first)
        kill(victim, SIGKILL)
        #expect(pool.waitForWorkers(2, excluding: [victim], seconds: 5))
        // The last request on it: the worker answers and closes it.
        connection.send(FastCGIConnection.request(fastCGIParams("/api/v1/health"), keepConnection: false))
        #expect(connection.readResponse()?.hasSuffix(#"{"status":"ok"}"#) == true)
        #expect(connection.closedByPeer(), "another process still holds the connection")
    }

    /// A connection the master holds for a worker costs only itself when it turns bad: garbage sent on it,
    /// or its peer gone. No worker dies and the pool serves on.
    @Test func badHandedOverConnectionCostsOnlyItself() throws {
        let pool = try PerchPool(workers: 2)
        let workers = Set(pool.workerPIDs)
        func handedOver() throws -> FastCGIConnection {
            let connection = try FastCGIConnection(unixPath: pool.socketPath, receiveTimeout: 5)
            connection.send(FastCGIConnection.request(fastCGIParams("/api/v1/health"), keepConnection: true))
            #expect(connection.readResponse()?.hasSuffix(#"{"status":"ok"}"#) == true)
            usleep(100_000)  // past the worker's linger: the master holds it
            return connection
        }
        let malformed = try handedOver()
        malformed.send([9, 9, 9, 9, 9, 9, 9, 9, 9, 9])  // not FastCGI version 1
        #expect(malformed.closedByPeer())
        let closed = try handedOver()
        shutdown(closed.fd, Int32(SHUT_RDWR))
        let halfClosed = try handedOver()
        shutdown(halfClosed.fd, Int32(SHUT_WR))
        #expect(halfClosed.closedByPeer())
        let healthy = try handedOver()
        for _ in 0..<3 {
            healthy.send(FastCGIConnection.request(fastCGIParams("/api/v1/health"), keepConnection: true))
            #expect(healthy.readResponse()?.hasSuffix(#"{"status":"ok"}"#) == true)
        }
        #expect(Set(pool.workerPIDs) == workers, "no worker died: \(pool.process.log)")
        #expect(pool.process.log.contains("malformed FastCGI input"))
    }

    @Test func malformedInputCostsOnlyItsConnection() throws {
        let pool = try PerchPool(workers: 2)
        let nginx = try PrivateNginx(socketPath: pool.socketPath)
        let workers = Set(pool.workerPIDs)
        var generator = SeededGenerator(seed: 42)
        var attacks: [[UInt8]] = [
            [1, 1, 0],  // truncated header
            [1, 1, 0, 1, 0xff, 0xff, 0xff, 0] + [UInt8](repeating: 0, count: 100),  // absurd length, short content
            [9, 9, 9, 9, 9, 9, 9, 9, 9, 9],  // wrong version
            FastCGIConnection.record(type: 77, content: [1, 2, 3]),  // unknown record type
            // a param claiming gigabytes
            FastCGIConnection.beginRequest() + FastCGIConnection.record(type: 4, content: [0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff]),
            // truncated name
            FastCGIConnection.beginRequest() + FastCGIConnection.record(type: 4, content: [0x80, 0, 0, 5, 1]) + FastCGIConnection.record(type: 4, content: []),
            FastCGIConnection.params(["A": "B"]),  // params before begin
            // Found by FuzzTests: lengths whose sum overflows made libfcgi's Malloc assert and abort the worker.
            FastCGIConnection.beginRequest() + FastCGIConnection.record(type: 4, content: [0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xfe])
                + FastCGIConnection.record(type: 4, content: [])
        ]
        for _ in 0..<40 { attacks.append((0..<Int.random(in: 1...512, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }) }
        for attack in attacks {
            let connection = try FastCGIConnection(unixPath: pool.socketPath, receiveTimeout: 5)
            connection.send(attack)
            shutdown(connection.fd, Int32(SHUT_WR))
            _ = connection.closedByPeer()
            #expect(try curl(nginx.baseURL + "/api/v1/health").status == 200)
        }
        #expect(Set(pool.workerPIDs) == workers, "no worker died: \(pool.process.log)")
        for pid in workers {
            let rss = try #require(ChildProcess.residentKilobytes(pid))
            #expect(rss < 64 * 1024, "worker \(pid) resident \(rss) kB")
        }
        #expect(pool.process.log.contains("malformed FastCGI input"))
    }

    /// PERCH_MAX_QUEUE_TIME with nginx's X-Request-Start: a request that waited too long gets a fast 503 with
    /// Retry-After, and the same worker's next request is served normally. The status page shows the wait.
    @Test func overloadedRequestGets503AndTheWorkerGoesOn() throws {
        let pool = try PerchPool(workers: 1, environment: ["PERCH_MAX_QUEUE_TIME": "200", "PERCH_STATUS_PATH": "/status"])
        let worker = try #require(pool.workerPIDs.first)
        let connection = try FastCGIConnection(unixPath: pool.socketPath)
        func send(_ uri: String, startedSecondsAgo: Double) -> String? {
            var params = fastCGIParams(uri)
            params["HTTP_X_REQUEST_START"] = String(format: "t=%.3f", Date().timeIntervalSince1970 - startedSecondsAgo)
            connection.send(FastCGIConnection.request(params, keepConnection: true))
            return connection.readResponse()
        }
        // /health/ready asks the database (there is none configured here): the 503 is ours, not the database's.
        let refused = try #require(send("/api/v1/health/ready", startedSecondsAgo: 1.5))
        #expect(refused.hasPrefix("Status: 503"))
        #expect(refused.contains("Retry-After: 1\r\n"))
        #expect(refused.contains(#"{"detail":"The server is overloaded"#))
        #expect(try #require(send("/api/v1/health", startedSecondsAgo: 0)).hasSuffix(#"{"status":"ok"}"#))
        #expect(pool.workerPIDs == [worker])
        #expect(eventually(seconds: 5) { pool.process.log.contains("status=503") && pool.process.log.contains("queue_ms=1") }, "\(pool.process.log)")
        let status = try #require(send("/status", startedSecondsAgo: 0))
        let bodyStart = try #require(status.range(of: "\r\n\r\n")).upperBound
        let json = try #require(try JSONSerialization.jsonObject(with: Data(status[bodyStart...].utf8)) as? [String: Any])
        #expect((json["max_queue_ms"] as? Double ?? 0) >= 1_400)  // t= has milliseconds: 1.5 s give or take one
        #expect(json["listen_queue"] as? Int == 0)
        #expect((json["listen_queue_len"] as? Int ?? 0) > 0)
        #expect((json["processes"] as? [[String: Any]])?.first?["request_queue_ms"] != nil)
    }

    /// libfcgi serves the first BEGIN_REQUEST's id, skips other ids' records and parses GET_VALUES (request id 0)
    /// with the same ReadParams, so the pre-check must judge that id's PARAMS alone and GET_VALUES too. Each shape
    /// hides a pair whose lengths overflow (which aborted the worker) from a check that joins ids or skips type 9.
    @Test func requestIDsAndManagementRecordsAreChecked() throws {
        let pool = try PerchPool(workers: 1)
        let workers = Set(pool.workerPIDs)
        let overflow: [UInt8] = [0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xfe]
        let end = FastCGIConnection.record(type: 4, content: [])
        let health = FastCGIConnection.params(fastCGIParams("/api/v1/health")) + FastCGIConnection.stdin([])
        let attacks: [(String, [UInt8])] = [
            (
                "another id's empty PARAMS ends nothing",
                FastCGIConnection.beginRequest() + FastCGIConnection.record(type: 4, requestID: 2, content: [])
                    + FastCGIConnection.record(type: 4, content: overflow) + end
            ),
            (
                "another id's PARAMS are not joined",
                FastCGIConnection.beginRequest() + FastCGIConnection.record(type: 4, content: [1, 0, 0x61])
                    + FastCGIConnection.record(type: 4, requestID: 2, content: [8, 0]) + FastCGIConnection.record(type: 4, content: overflow) + end
            ),
            ("GET_VALUES before the request", FastCGIConnection.record(type: 9, requestID: 0, content: overflow) + FastCGIConnection.beginRequest() + health),
            ("GET_VALUES inside the request", FastCGIConnection.beginRequest() + FastCGIConnection.record(type: 9, requestID: 0, content: overflow) + health)
        ]
        for (name, attack) in attacks {
            let connection = try FastCGIConnection(unixPath: pool.socketPath, receiveTimeout: 5)
            connection.send(attack)
            shutdown(connection.fd, Int32(SHUT_WR))
            _ = connection.closedByPeer()
            let check = try FastCGIConnection(unixPath: pool.socketPath, receiveTimeout: 10)
            check.send(FastCGIConnection.request(fastCGIParams("/api/v1/health")))
            #expect(check.readResponse()?.hasPrefix("Status: 200") == true, "after: \(name)")
            #expect(Set(pool.workerPIDs) == workers, "the worker died of: \(name)")
        }
        #expect(pool.process.log.contains("a management record (type 9) claims more bytes"))
        // A well-formed GET_VALUES is still libfcgi's to answer, and the request after it is served.
        let query = try FastCGIConnection(unixPath: pool.socketPath, receiveTimeout: 5)
        query.send(
            FastCGIConnection.record(type: 9, requestID: 0, content: [15, 0] + Array("FCGI_MPXS_CONNS".utf8))
                + FastCGIConnection.request(fastCGIParams("/api/v1/health")))
        #expect(query.readResponse()?.contains(#"{"status":"ok"}"#) == true)
    }

    /// `?openmetrics` through nginx, parsed by prometheus_client's OpenMetrics parser (a strict one: it refuses
    /// a missing `# EOF`, a counter without `_total`, a bad label): the figures move as requests are served.
    @Test func openMetricsParseAndMoveWithRequests() throws {
        let pool = try PerchPool(workers: 2, environment: ["PERCH_STATUS_PATH": "/status"])
        let nginx = try PrivateNginx(socketPath: pool.socketPath)
        func scrape() throws -> [String: Double] {
            let response = try curl(nginx.baseURL + "/status?openmetrics&full")
            #expect(response.status == 200)
            #expect(response.headers["content-type"]?.hasPrefix("application/openmetrics-text; version=1.0.0") == true, "\(response.headers)")
            let parsed = try run(["/usr/bin/env", "python3", "-c", Self.openMetricsSums], input: response.body, seconds: 60)
            try #require(parsed.status == 0, "prometheus_client refused it: \(parsed.output)\n\(response.body)")
            return try #require(try JSONSerialization.jsonObject(with: Data(parsed.output.utf8)) as? [String: Double], "\(parsed.output)")
        }
        let before = try scrape()
        for _ in 0..<5 { _ = try curl(nginx.baseURL + "/api/v1/health") }
        let after = try scrape()
        #expect(after["perch_total_processes"] == 2 && after["perch_process_state"] == 2, "\(after)")
        #expect((after["perch_accepted_connections_total"] ?? 0) >= (before["perch_accepted_connections_total"] ?? .infinity) + 5, "\(before) → \(after)")
        #expect((after["perch_process_requests_total"] ?? 0) >= (before["perch_process_requests_total"] ?? .infinity) + 5, "\(before) → \(after)")
        #expect((after["perch_process_resident_memory_bytes"] ?? 0) > 1_000_000, "two workers' RSS: \(after)")
        #expect(after["perch_build_info"] == 1 && after["perch_listen_queue_length"] != nil, "\(after)")
        let plain = try curl(nginx.baseURL + "/status?json")
        #expect(plain.status == 200 && plain.body.hasPrefix("{"), "?json keeps the JSON page")
    }

    /// Sums each sample name's values over its series, as JSON, after a full OpenMetrics parse.
    static let openMetricsSums = """
        import json, sys
        from prometheus_client.openmetrics.parser import text_string_to_metric_families
        sums = {}
        for family in text_string_to_metric_families(sys.stdin.read()):
            for sample in family.samples:
                sums[sample.name] = sums.get(sample.name, 0) + sample.value
        print(json.dumps(sums))
        """

    @Test func statusPageForAllowedAddressesOnly() throws {
        let pool = try PerchPool(workers: 2, environment: ["PERCH_STATUS_PATH": "/status"])
        let nginx = try PrivateNginx(socketPath: pool.socketPath)
        _ = try curl(nginx.baseURL + "/api/v1/health")
        let status = try curl(nginx.baseURL + "/status")
        #expect(status.status == 200)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(status.body.utf8)) as? [String: Any])
        #expect(json["total_processes"] as? Int == 2)
        #expect((json["accepted_conn"] as? Int ?? 0) >= 2)
        #expect((json["processes"] as? [[String: Any]])?.count == 2)
        #expect(json["version"] as? String != nil, "the status page names the version")
        for key in [
            "start_time", "idle_processes", "active_processes", "max_active_processes", "max_children_reached", "slow_requests",
            "password_hashes_in_progress"
        ] {
            #expect(json[key] != nil, "missing \(key)")
        }
        let outsider = try FastCGIConnection(unixPath: pool.socketPath)
        outsider.send(FastCGIConnection.request(fastCGIParams("/status", remoteAddress: "203.0.113.9")))
        #expect(outsider.readResponse()?.hasPrefix("Status: 404") == true)
    }

    @Test func tcpSocketHonoursTheAllowedClientsList() throws {
        let port = try freeLoopbackPort()
        let pool = try PerchPool(
            workers: 1, environment: ["PERCH_LISTEN": "127.0.0.1:\(port)", "PERCH_ALLOWED_CLIENTS": "127.0.0.2"],
            waitForSocketFile: false)
        #expect(eventually(seconds: 5) { canConnect(port: port) })
        let allowed = try FastCGIConnection(host: "127.0.0.1", port: port, from: "127.0.0.2")
        allowed.send(FastCGIConnection.request(fastCGIParams("/api/v1/health")))
        #expect(allowed.readResponse()?.hasPrefix("Status: 200 OK") == true)
        let refused = try FastCGIConnection(host: "127.0.0.1", port: port, from: "127.0.0.1")
        refused.send(FastCGIConnection.request(fastCGIParams("/api/v1/health")))
        #expect(refused.readResponse() == nil)
        #expect(eventually(seconds: 2) { pool.process.log.contains("client not in allowed list") })
    }

    @Test func usr1ReopensTheLogFile() throws {
        let directory = Paths.makeTemporaryDirectory()
        let logFile = directory + "/perch.log"
        let pool = try PerchPool(workers: 1, environment: ["PERCH_LOG_FILE": logFile])
        #expect(eventually(seconds: 5) { ((try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "").contains("pool started") })
        try FileManager.default.moveItem(atPath: logFile, toPath: logFile + ".1")
        pool.process.signal(SIGUSR1)
        #expect(eventually(seconds: 5) { ((try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "").contains("log files reopened") })
        pool.process.signal(SIGTERM)
        #expect(pool.process.wait(seconds: 10) == 0)
        #expect(((try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "").contains("pool stopped"))
    }

    @Test func badConfigurationIsRefusedClearly() throws {
        let result = try run([Paths.perchBinary, "serve"], environment: ["PERCH_WORKERS": "lots", "PERCH_LISTEN": "nowhere", "PATH": "/usr/bin:/bin"])
        #expect(result.status == 78)
        #expect(result.output.contains("PERCH_WORKERS"))
        #expect(result.output.contains("PERCH_LISTEN"))
    }

    @Test func nothingToServeOnIsAClearError() throws {
        let result = try run([Paths.perchBinary, "serve"], environment: ["PATH": "/usr/bin:/bin", "PERCH_ENV": "development"])
        #expect(result.status == 78)
        #expect(result.output.contains("PERCH_LISTEN"))
    }
}

/// The other ways to be started: systemd's socket, a web server's fd 0, plain CGI.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct SocketSourceTests {
    @Test func systemdSocketActivation() throws {
        let directory = Paths.makeTemporaryDirectory()
        let path = directory + "/activated.sock"
        let fd = try listeningUnixSocket(path)
        defer { close(fd) }
        let child = try ChildProcess(
            [Paths.perchBinary, "serve"], environment: ["LISTEN_FDS": "1", "PERCH_WORKERS": "2", "PERCH_ENV": "development", "PATH": "/usr/bin:/bin"],
            fds: [3: fd], logPath: directory + "/log", listenPIDVariable: "LISTEN_PID")
        defer { child.terminate() }
        let result = try run(
            ["/usr/bin/cgi-fcgi", "-bind", "-connect", path],
            environment: ["REQUEST_METHOD": "GET", "REQUEST_URI": "/api/v1/health", "PATH": "/usr/bin:/bin"], seconds: 20)
        #expect(result.output.contains("Status: 200 OK"), "\(result.output) \(child.log)")
        #expect(result.output.contains(#"{"status":"ok"}"#))
        #expect(child.log.contains("systemd"))
        #expect(eventually(seconds: 5) { child.children.count == 2 })
    }

    @Test func spawnedBySpawnFcgiOnFdZero() throws {
        let directory = Paths.makeTemporaryDirectory()
        let path = directory + "/spawned.sock"
        let child = try ChildProcess(
            ["/usr/bin/spawn-fcgi", "-n", "-s", path, "--", Paths.perchBinary, "serve"],
            environment: ["PATH": "/usr/bin:/bin", "PERCH_ENV": "development"], logPath: directory + "/log")
        defer { child.terminate() }
        // Until it accepts connections: spawn-fcgi binds (the file appears) before it listens, and a loaded CI
        // machine once ran cgi-fcgi in between ("Could not connect").
        #expect(eventually(seconds: 10) { (try? FastCGIConnection(unixPath: path)) != nil })
        let result = try run(
            ["/usr/bin/cgi-fcgi", "-bind", "-connect", path],
            environment: ["REQUEST_METHOD": "GET", "REQUEST_URI": "/api/v1/health", "PATH": "/usr/bin:/bin"], seconds: 20)
        #expect(result.output.contains("Status: 200 OK"), "\(result.output) \(child.log)")
        #expect(child.children.isEmpty, "spawned on fd 0 it is a single worker, no pool")
    }

    @Test func plainCGIAnswersOneRequest() throws {
        let result = try run(
            [Paths.perchBinary, "serve"],
            environment: [
                "GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "GET", "REQUEST_URI": "/api/v1/health", "PATH": "/usr/bin:/bin", "PERCH_ENV": "development"
            ])
        #expect(result.status == 0)
        #expect(result.output.contains("Status: 200 OK\r\n"))  // stdout; the access log line went to stderr
        #expect(result.output.hasSuffix(#"{"status":"ok"}"#))
    }
}

func listeningUnixSocket(_ path: String) throws -> Int32 {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path.utf8.prefix($0.count - 1)) }
    let ok = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0 }
    }
    guard ok, listen(fd, 64) == 0 else { throw SupportError("cannot listen on \(path)") }
    return fd
}

/// Deterministic randomness, so a failing fuzz case can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
