// CFastCGI too: its shim includes <sys/socket.h>, and in a whole-module build the socket constants are found
// only through the module that first imported that header.
import CFastCGI
import Glibc

/// Looks at a request's BEGIN_REQUEST and PARAMS records before libfcgi reads them, without consuming
/// anything (MSG_PEEK). libfcgi aborts the whole process when a name-value pair claims lengths whose sum
/// overflows (its Malloc asserts), so a pair that claims more bytes than the params stream holds, a stream
/// over `limit`, or a record that is not version 1 is refused here and costs only its connection. The same holds
/// for the pairs of management records (request id 0) of any type, see `judge`.
struct RecordCheck {
    enum Verdict: Equatable {
        case ready, closed
        case malformed(String)
    }

    /// POLLRDHUP (Linux, _GNU_SOURCE, which Swift's Glibc lacks): the peer shut its writing side.
    static let pollReadHangUp: Int32 = 0x2000

    private var window: [UInt8]
    private var params: [UInt8] = []

    init(limit: Int = 64 * 1024) {
        window = [UInt8](repeating: 0, count: limit)
    }

    /// Waits (until `deadline`, monotonic ns) for the whole params stream, then judges it.
    mutating func check(_ fd: Int32, deadline: Int64) -> Verdict {
        while true {
            let count = window.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_PEEK)) }
            if count <= 0 { return .closed }
            if let verdict = judge(count) { return verdict }
            if count == window.count { return .malformed("params over \(window.count) bytes") }
            if monotonicNanos() > deadline { return .malformed("params incomplete at the timeout") }
            // Only a slow or hostile sender gets here (nginx writes the params in one go). Peeked data keeps
            // the socket readable, so wait a little and look for the peer's end (POLLRDHUP) meanwhile.
            var descriptor = pollfd(fd: fd, events: Int16(RecordCheck.pollReadHangUp), revents: 0)
            if poll(&descriptor, 1, 1) > 0 && descriptor.revents & Int16(RecordCheck.pollReadHangUp | POLLHUP) != 0 {
                return .malformed("connection ended inside the params")
            }
        }
    }

    /// Management records (request id 0) allowed in what the check sees of one request.
    static let maxManagementRecords = 8

    /// nil while the params stream is not complete within the first `count` bytes. libfcgi serves the request
    /// id of the first BEGIN_REQUEST and skips records of other ids, so only that id's PARAMS are joined and only
    /// its empty PARAMS record ends the stream. Management records (request id 0) are answered by libfcgi
    /// wherever they come, body included, and Debian 12's libfcgi parses the content of every management type with
    /// ReadParams (not only GET_VALUES'): each is checked on its own, at most `maxManagementRecords` of them,
    /// also among the body records that arrived with the params. Known gap: libfcgi alone reads records that
    /// arrive later (closing it needs the body read by perch's own record reader).
    private mutating func judge(_ count: Int) -> Verdict? {
        params.removeAll(keepingCapacity: true)
        var requestID: Int?
        var paramsEnded = false
        var managementRecords = 0
        var offset = 0
        while offset + 8 <= count {
            guard window[offset] == 1 else { return .malformed("record version \(window[offset])") }
            let type = window[offset + 1]
            let id = Int(window[offset + 2]) << 8 | Int(window[offset + 3])
            let length = Int(window[offset + 4]) << 8 | Int(window[offset + 5])
            let end = offset + 8 + length + Int(window[offset + 6])
            guard end <= count else {
                // A management record is parsed by libfcgi as a whole: judge it only once it is all here (the
                // loop in `check` ends a connection that stops inside it). Found by FuzzTests, seed 1796479683.
                if id == 0 && type != 1 { return nil }
                return paramsEnded ? .ready : nil
            }
            let content = (offset + 8)..<(offset + 8 + length)
            switch type {
            case _ where id == 0 && type != 1:
                managementRecords += 1
                guard managementRecords <= Self.maxManagementRecords else { return .malformed("over \(Self.maxManagementRecords) management records") }
                guard Self.pairsFit(Array(window[content])) else { return .malformed("a management record (type \(type)) claims more bytes than it holds") }
            case 9: break  // GET_VALUES of a request id: libfcgi skips it or refuses it
            case _ where paramsEnded: break  // the body: libfcgi reads it
            case 1: requestID = requestID ?? id  // BEGIN_REQUEST: a second one is refused by libfcgi (no multiplexing)
            case 2: break  // ABORT_REQUEST: libfcgi's to handle
            case 4 where id != requestID: break  // another request's (or before any BEGIN_REQUEST): libfcgi skips it
            case 4 where length == 0:
                guard Self.pairsFit(params) else { return .malformed("a param claims more bytes than were sent") }
                paramsEnded = true  // go on over the body records already here
            case 4: params.append(contentsOf: window[content])
            default: return .malformed("record type \(type) before the params ended")
            }
            offset = end
        }
        return paramsEnded ? .ready : nil
    }

    /// Every name and value length fits inside the stream that carries it.
    static func pairsFit(_ stream: [UInt8]) -> Bool {
        var offset = 0
        func length() -> Int? {
            guard offset < stream.count else { return nil }
            if stream[offset] & 0x80 == 0 {
                offset += 1
                return Int(stream[offset - 1])
            }
            guard offset + 4 <= stream.count else { return nil }
            let value = Int(stream[offset] & 0x7f) << 24 | Int(stream[offset + 1]) << 16 | Int(stream[offset + 2]) << 8 | Int(stream[offset + 3])
            offset += 4
            return value
        }
        while offset < stream.count {
            guard let name = length(), let value = length(), name + value <= stream.count - offset else { return false }
            offset += name + value
        }
        return true
    }
}
