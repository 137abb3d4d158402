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
        let port = try freeLoopbackPort()
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(bound == 0 && listen(fd, 32) == 0)
        let listener = Listener(fd: fd, origin: .systemd)
        #expect(listener.isTCP)
        let clients = try (0..<2).map { _ in try FastCGIConnection(host: "127.0.0.1", port: port) }
        let queue = try #require(ListenQueue.read(listener))
        #expect(queue.waiting == 2)
        #expect(queue.capacity == 32)
        _ = clients
    }
}
