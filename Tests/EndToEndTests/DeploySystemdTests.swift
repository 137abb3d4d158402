import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// deploy/systemd as systemd runs it: the socket is created outside the service and handed over on fd 3
/// (LISTEN_FDS, LISTEN_PID), the shipped nginx site in front; a restart leaves the socket open, so
/// connections made meanwhile wait in its queue instead of being refused.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct DeploySystemdTests {
    @Test func socketActivatedPoolServesBehindShippedNginx() throws {
        let pool = try SocketActivatedPool(workers: 2)
        let nginx = try PrivateNginx(socketPath: pool.socketPath)
        try DeployFlow.exercise(baseURL: nginx.baseURL)
        #expect(pool.logs.contains("listen=systemd"), "perch took the socket from systemd: \(pool.logs)")
    }

    @Test func restartsDuringLoadRefuseNoConnectionAndFailNoRequest() throws {
        let pool = try SocketActivatedPool(workers: 2)
        let nginx = try PrivateNginx(socketPath: pool.socketPath)
        let post = try DeployFlow.exercise(baseURL: nginx.baseURL)
        let requests = 10_000
        let load = BackgroundLoad(nginx.baseURL + post, requests: requests, concurrency: 10)
        usleep(300_000)
        for restart in 1...2 {
            let previous = try #require(pool.master)
            let status = try pool.restart()
            #expect(status == 0, "restart \(restart): the old master stops gracefully within the stop timeout: \(pool.logs)")
            #expect(!ChildProcess.isAlive(previous.pid))
            #expect(load.isRunning, "restart \(restart) must happen during the load; make the load longer")
            usleep(300_000)
        }
        let result = try load.result()
        #expect(result.complete == requests && result.allSucceeded, "\(result.output)\nnginx: \(nginx.errorLog)")
        #expect(!nginx.errorLog.contains("connect() to unix:"), "no connection refused: \(nginx.errorLog)")
        #expect(FileManager.default.fileExists(atPath: pool.socketPath), "the socket file belongs to systemd and stays")
        #expect(pool.starts == 3)
        try DeployFlow.exercise(baseURL: nginx.baseURL)
    }
}
