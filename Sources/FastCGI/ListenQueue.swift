import CFastCGI
import Glibc

/// How many connections wait in the listening socket's backlog, and how many it can hold: PHP-FPM's
/// `listen queue` and `listen queue len`. A unix socket is asked through sock_diag (netlink, by inode,
/// UNIX_DIAG_RQLEN), a TCP one through TCP_INFO (tcpi_unacked and tcpi_sacked mean exactly these on a
/// listening socket). nil when the kernel does not say.
enum ListenQueue {
    static func read(_ listener: Listener) -> (waiting: Int, capacity: Int)? {
        listener.isTCP ? tcp(listener.fd) : unix(listener.fd)
    }

    private static func tcp(_ fd: Int32) -> (waiting: Int, capacity: Int)? {
        var info = tcp_info()
        var length = socklen_t(MemoryLayout<tcp_info>.size)
        guard getsockopt(fd, Int32(IPPROTO_TCP), TCP_INFO, &info, &length) == 0 else { return nil }
        return (Int(info.tcpi_unacked), Int(info.tcpi_sacked))
    }

    // From <linux/sock_diag.h> and <linux/unix_diag.h>, which Swift's Glibc does not carry.
    private static let sockDiagByFamily: UInt16 = 20
    private static let netlinkSockDiag: Int32 = 4
    private static let showReceiveQueueLength: UInt32 = 0x10  // UDIAG_SHOW_RQLEN
    private static let receiveQueueLengthAttribute: UInt16 = 4  // UNIX_DIAG_RQLEN
    private static let listenState: UInt32 = 10  // TCP_LISTEN, which unix sockets use too

    private static func unix(_ fd: Int32) -> (waiting: Int, capacity: Int)? {
        var status = stat()
        guard fstat(fd, &status) == 0 else { return nil }
        let diag = socket(AF_NETLINK, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), netlinkSockDiag)
        guard diag >= 0 else { return nil }
        defer { close(diag) }
        // nlmsghdr (16 bytes), then unix_diag_req (24 bytes): family, protocol, pad, states, inode, show, cookie.
        var request = [UInt8](repeating: 0, count: 40)
        request.withUnsafeMutableBytes { bytes in
            bytes.storeBytes(of: UInt32(40), toByteOffset: 0, as: UInt32.self)
            bytes.storeBytes(of: sockDiagByFamily, toByteOffset: 4, as: UInt16.self)
            let netlinkRequest = UInt16(1)  // NLM_F_REQUEST
            bytes.storeBytes(of: netlinkRequest, toByteOffset: 6, as: UInt16.self)
            bytes.storeBytes(of: UInt8(AF_UNIX), toByteOffset: 16, as: UInt8.self)
            bytes.storeBytes(of: UInt32(1) << listenState, toByteOffset: 20, as: UInt32.self)
            bytes.storeBytes(of: UInt32(truncatingIfNeeded: status.st_ino), toByteOffset: 24, as: UInt32.self)
            bytes.storeBytes(of: showReceiveQueueLength, toByteOffset: 28, as: UInt32.self)
            bytes.storeBytes(of: UInt32.max, toByteOffset: 32, as: UInt32.self)  // no cookie
            bytes.storeBytes(of: UInt32.max, toByteOffset: 36, as: UInt32.self)
        }
        let sent = send(diag, request, request.count, 0)  // unaddressed netlink goes to the kernel
        guard sent == request.count else { return nil }
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)  // the kernel answers at once; never hang a status page
        setsockopt(diag, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var reply = [UInt8](repeating: 0, count: 1024)
        let count = recv(diag, &reply, reply.count, 0)
        guard count >= 32 else { return nil }
        return reply.withUnsafeBytes { bytes -> (Int, Int)? in
            guard bytes.load(fromByteOffset: 4, as: UInt16.self) == sockDiagByFamily else { return nil }  // NLMSG_ERROR otherwise
            let end = min(count, Int(bytes.load(fromByteOffset: 0, as: UInt32.self)))
            var offset = 16 + 16  // past nlmsghdr and unix_diag_msg: the attributes, each 4-byte aligned
            while offset + 4 <= end {
                let length = Int(bytes.load(fromByteOffset: offset, as: UInt16.self))
                let type = bytes.load(fromByteOffset: offset + 2, as: UInt16.self)
                guard length >= 4 else { return nil }
                if type == receiveQueueLengthAttribute, length >= 12, offset + 12 <= end {
                    return (
                        Int(bytes.load(fromByteOffset: offset + 4, as: UInt32.self)),
                        Int(bytes.load(fromByteOffset: offset + 8, as: UInt32.self))
                    )
                }
                offset += (length + 3) & ~3
            }
            return nil
        }
    }
}
