import Foundation
import TestSupport
import Testing

@testable import FastCGI

#if canImport(Glibc)
    import Glibc
#endif

/// PHP-FPM's `listen queue` on the status page: connections nobody has accepted yet, read from the kernel.
@Suite struct ListenQueueTests {
    @Test func unixSocketThroughSockDiag() throws {
        let directory = Paths.makeTemporaryDirectory()
        let fd = try listeningUnixSocket(directory + "/queue.sock")
        defer { close(fd) }
        let listener = Listener(fd: fd, origin: .systemd)
        #expect(ListenQueue.read(listener)?.waiting == 0)
        let clients = try (0..<3).map { _ in try FastCGIConnection(unixPath: directory + "/queue.sock") }
        let queue = try #require(ListenQueue.read(listener))
        #expect(queue.waiting == 3)
        #expect(queue.capacity == 64)  // listeningUnixSocket's backlog
        _ = clients
    }

    @Test func tcpSocketThroughTCPInfo() throws {
        let (fd, port) = try listeningLoopbackSocket(backlog: 32)
        defer { close(fd) }
        let listener = Listener(fd: fd, origin: .systemd)
        #expect(listener.isTCP)
        let clients = try (0..<2).map { _ in try FastCGIConnection(host: "127.0.0.1", port: port) }
        let queue = try #require(ListenQueue.read(listener))
        #expect(queue.waiting == 2)
        #expect(queue.capacity == 32)
        _ = clients
    }
}
