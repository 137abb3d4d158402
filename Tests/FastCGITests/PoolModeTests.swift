import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// How the pool sizes itself and replaces its workers (PERCH_POOL_MODE, recycling by memory, crash loops,
/// the slow-request log): the real binary and real signals; counts and log lines, never timings.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct PoolModeTests {
    @Test func ondemandServesABurstFromZeroWorkersAndGoesBackToZero() throws {
        let pool = try PerchPool(
            workers: 0, environment: ["PERCH_WORKERS": "3", "PERCH_POOL_MODE": "ondemand", "PERCH_IDLE_TIMEOUT": "1"])
        let nginx = try PrivateNginx(socketPath: pool.socketPath)
        #expect(pool.workerPIDs.isEmpty, "no worker before the first connection")
        let first = try curl(nginx.baseURL + "/api/v1/health")
        #expect(first.status == 200, "\(first.body)")
        let load = try abLoad(nginx.baseURL + "/api/v1/health", requests: 500, concurrency: 8)
        #expect(load.complete == 500 && load.allSucceeded, "\(load.output)")
        #expect(pool.workerPIDs.count <= 3)
        #expect(pool.waitForWorkers(0, seconds: 20), "idle workers leave after PERCH_IDLE_TIMEOUT: \(pool.process.log)")
        let again = try curl(nginx.baseURL + "/api/v1/health")
        #expect(again.status == 200, "and a worker comes back for the next connection")
    }

    /// Requests whose body never finishes hold their workers busy for as long as the test wants: the pool
    /// grows while fewer than PERCH_MIN_SPARE_WORKERS are idle, stops at PERCH_WORKERS (and says so), and
    /// shrinks to PERCH_MAX_SPARE_WORKERS idle ones once they are released.
    @Test func dynamicGrowsUnderLoadNeverPastItsMaximumAndShrinksAfter() throws {
        let pool = try PerchPool(
            workers: 1,
            environment: [
                "PERCH_WORKERS": "4", "PERCH_POOL_MODE": "dynamic", "PERCH_START_WORKERS": "1", "PERCH_MIN_SPARE_WORKERS": "1",
                "PERCH_MAX_SPARE_WORKERS": "1", "PERCH_REQUEST_TIMEOUT": "120"
            ])
        #expect(pool.workerPIDs.count == 1)
        var held: [FastCGIConnection] = []
        var most = 0
        for _ in 0..<6 {
            let connection = try FastCGIConnection(unixPath: pool.socketPath)
            var params = fastCGIParams("/api/v1/health", method: "POST")
            params["CONTENT_LENGTH"] = "100"
            _ = connection.send(FastCGIConnection.beginRequest() + FastCGIConnection.params(params) + FastCGIConnection.stdin(Array("x".utf8), end: false))
            held.append(connection)
        }
        let grew = eventually(seconds: 60) {
            most = max(most, pool.workerPIDs.count)
            return pool.process.log.contains("the pool reached its maximum of workers")
        }
        let states = pool.workerPIDs.map { pid in "\(pid): " + ((try? String(contentsOfFile: "/proc/\(pid)/wchan", encoding: .utf8)) ?? "?") }
        #expect(grew, "workers \(states): \(pool.process.log)")
        for _ in 0..<20 {
            most = max(most, pool.workerPIDs.count)
            usleep(50_000)
        }
        #expect(most == 4, "grew to its maximum and never past it")
        #expect(pool.process.log.contains("PERCH_WORKERS=4"))
        held.removeAll()  // the workers' requests end (the body never came): four idle workers
        #expect(pool.waitForWorkers(1, seconds: 30), "shrinks to PERCH_MAX_SPARE_WORKERS idle: \(pool.process.log)")
        let connection = try FastCGIConnection(unixPath: pool.socketPath)
        _ = connection.send(FastCGIConnection.request(fastCGIParams("/api/v1/health")))
        #expect(connection.readResponse()?.hasPrefix("Status: 200 OK") == true)
    }

    @Test func workerOverTheMemoryLimitIsReplacedAfterItsRequestAndNothingFails() throws {
        // 1 MiB: below any worker's resident memory, so every worker is replaced after its first request.
        let pool = try PerchPool(workers: 2, environment: ["PERCH_MAX_WORKER_MEMORY": "1", "PERCH_STATUS_PATH": "/status"])
        let nginx = try PrivateNginx(socketPath: pool.socketPath)
        let load = try abLoad(nginx.baseURL + "/api/v1/health", requests: 60, concurrency: 2)
        #expect(load.complete == 60 && load.allSucceeded, "\(load.output)")
        #expect(eventually(seconds: 10) { pool.process.log.contains("worker recycled: resident memory over PERCH_MAX_WORKER_MEMORY") })
        #expect(pool.process.log.contains("limit_bytes=1048576"))
        #expect(!pool.process.log.contains("worker died"))
        let metrics = try curl(nginx.baseURL + "/status?openmetrics")
        let line = metrics.body.split(separator: "\n").first { $0.hasPrefix(#"perch_worker_replacements_total{pool="perch",reason="memory"} "#) }
        let count = line.flatMap { $0.split(separator: " ").last.flatMap { Int($0) } } ?? 0
        #expect(count >= 1, "\(metrics.body)")
        #expect(metrics.body.contains(#"perch_worker_replacements_total{pool="perch",reason="crash"} 0"#))
    }

    @Test func workersDyingAtStartMakeTheMasterBackOff() throws {
        let fixture = try CrashingBinary()
        let pool = try PerchPool(
            workers: 0, environment: ["PERCH_WORKERS": "2", "PERCH_CRASH_LOOP_THRESHOLD": "3"], binary: fixture.alwaysCrashing)
        #expect(eventually(seconds: 20) { pool.process.log.contains("crash loop: workers die at start; backing off") }, "\(pool.process.log)")
        let diedWhenBackingOff = pool.process.log.components(separatedBy: "worker died").count - 1
        #expect(diedWhenBackingOff >= 3)
        usleep(300_000)
        // Half a second of backoff at first: a tight loop would have forked hundreds by now.
        #expect(pool.process.log.components(separatedBy: "worker died").count - 1 <= diedWhenBackingOff + 2, "\(pool.process.log)")
        #expect(pool.process.poll() == nil, "the master stays up")
    }

    /// The new binary passes its check but its workers die at start: the previous generation keeps serving
    /// every request, and the master says it rolled back.
    @Test func reloadOntoWorkersThatCannotStartKeepsThePreviousOnesServing() throws {
        let fixture = try CrashingBinary()
        let pool = try PerchPool(workers: 2, environment: ["PERCH_CRASH_LOOP_THRESHOLD": "3"], binary: fixture.switchable)
        let nginx = try PrivateNginx(socketPath: pool.socketPath)
        let previous = Set(pool.workerPIDs)
        try fixture.breakSwitchable()
        let background = BackgroundLoad(nginx.baseURL + "/api/v1/health", requests: 1_500, concurrency: 4)
        pool.process.signal(SIGHUP)
        #expect(eventually(seconds: 30) { pool.process.log.contains("reload rolled back") }, "\(pool.process.log)")
        let load = try background.result(seconds: 90)
        #expect(load.complete == 1_500 && load.allSucceeded, "\(load.output)")
        #expect(previous.allSatisfy { ChildProcess.isAlive($0) }, "the previous workers still serve")
        let after = try curl(nginx.baseURL + "/api/v1/health")
        #expect(after.status == 200)
    }

    @Test func slowRequestIsNamedOnceWithoutItsQueryString() throws {
        let pool = try PerchPool(workers: 1, environment: ["PERCH_SLOW_REQUEST": "0.3", "PERCH_REQUEST_TIMEOUT": "60"])
        let connection = try FastCGIConnection(unixPath: pool.socketPath)
        var params = fastCGIParams("/api/v1/health?token=secret-value", method: "POST")
        params["CONTENT_LENGTH"] = "100"
        _ = connection.send(FastCGIConnection.beginRequest() + FastCGIConnection.params(params) + FastCGIConnection.stdin(Array("x".utf8), end: false))
        #expect(eventually(seconds: 10) { pool.process.log.contains("slow request") }, "\(pool.process.log)")
        usleep(500_000)
        let log = pool.process.log
        #expect(log.components(separatedBy: "slow request").count - 1 == 1, "once per request: \(log)")
        #expect(log.contains("path=/api/v1/health") && log.contains("method=POST") && log.contains("pid=\(pool.workerPIDs.first ?? -1)"), "\(log)")
        #expect(!log.contains("secret-value"), "no query string")
    }

    @Test func badPoolSizingIsRefusedWithEveryProblem() throws {
        let result = try run(
            [Paths.perchBinary, "serve"],
            environment: [
                "PERCH_POOL_MODE": "elastic", "PERCH_MAX_WORKER_MEMORY": "lots", "PERCH_LISTEN": "unix:/nonexistent/perch.sock",
                "PATH": "/usr/bin:/bin"
            ])
        #expect(result.status == 78, "\(result.output)")
        #expect(result.output.contains(#"PERCH_POOL_MODE: "elastic" is not static, dynamic or ondemand"#), "\(result.output)")
        #expect(result.output.contains("PERCH_MAX_WORKER_MEMORY"), "\(result.output)")
        let dynamic = try run(
            [Paths.perchBinary, "serve"],
            environment: [
                "PERCH_POOL_MODE": "dynamic", "PERCH_WORKERS": "4", "PERCH_MIN_SPARE_WORKERS": "3", "PERCH_MAX_SPARE_WORKERS": "2",
                "PERCH_START_WORKERS": "9", "PERCH_LISTEN": "unix:/nonexistent/perch.sock", "PATH": "/usr/bin:/bin"
            ])
        #expect(dynamic.status == 78, "\(dynamic.output)")
        #expect(dynamic.output.contains("PERCH_MIN_SPARE_WORKERS (3) is above PERCH_MAX_SPARE_WORKERS (2)"), "\(dynamic.output)")
        #expect(dynamic.output.contains("must not exceed PERCH_WORKERS (4)"), "\(dynamic.output)")
    }
}

/// perch as a binary whose workers cannot start: a script that runs the real binary with a preloaded library
/// whose fork handler ends every child at once (status 70), as a worker that fails while starting would.
/// `switchable` starts as the plain binary and, after `breakSwitchable()`, passes a reload's check but
/// crashes its workers.
final class CrashingBinary {
    let directory = Paths.makeTemporaryDirectory("perch-crashing")
    var alwaysCrashing: String { directory + "/always-crashing" }
    var switchable: String { directory + "/perch" }

    init() throws {
        let source = directory + "/die-in-child.c"
        try """
        #include <pthread.h>
        #include <unistd.h>
        static void die(void) { _exit(70); }
        __attribute__((constructor)) static void install(void) { pthread_atfork(0, 0, die); }
        """.write(toFile: source, atomically: true, encoding: .utf8)
        let compiled = try run(["/usr/bin/env", "clang", "-shared", "-fPIC", "-o", directory + "/die-in-child.so", source])
        guard compiled.status == 0 else { throw SupportError("clang: \(compiled.output)") }
        try script.write(toFile: alwaysCrashing, atomically: true, encoding: .utf8)
        chmod(alwaysCrashing, 0o755)
        symlink(Paths.perchBinary, switchable)
    }

    /// The check (PERCH_CHECK_ONLY) runs the real binary, so it passes; the master after the exec crashes its workers.
    private var script: String {
        """
        #!/bin/sh
        if [ "$PERCH_CHECK_ONLY" = 1 ]; then exec "\(Paths.perchBinary)" "$@"; fi
        LD_PRELOAD="\(directory)/die-in-child.so" exec "\(Paths.perchBinary)" "$@"

        """
    }

    func breakSwitchable() throws {
        unlink(switchable)
        try script.write(toFile: switchable, atomically: true, encoding: .utf8)
        chmod(switchable, 0o755)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }
}
