import Glibc
import TestSupport
import Testing

@testable import FastCGI

/// The pre-check's verdicts on one socket pair (the peer's bytes written and its side shut). libfcgi serves the
/// first BEGIN_REQUEST's id and skips other ids' records, so only that id's PARAMS count; GET_VALUES (request
/// id 0) goes through the same ReadParams. PoolTests.requestIDsAndManagementRecordsAreChecked shows the workers.
@Suite struct RecordCheckTests {
    static let overflow: [UInt8] = [0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xfe]

    static func verdict(_ bytes: [UInt8]) -> RecordCheck.Verdict {
        var pair: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0 else { return .closed }
        defer {
            close(pair[0])
            close(pair[1])
        }
        _ = bytes.withUnsafeBytes { send(pair[1], $0.baseAddress, $0.count, 0) }
        shutdown(pair[1], Int32(SHUT_WR))
        var check = RecordCheck()
        return check.check(pair[0], deadline: monotonicNanos() + 2_000_000_000)
    }

    @Test func anotherIDsEmptyParamsDoNotEndTheCheck() {
        let bytes =
            FastCGIConnection.beginRequest() + FastCGIConnection.record(type: 4, requestID: 2, content: [])
            + FastCGIConnection.record(type: 4, content: Self.overflow) + FastCGIConnection.record(type: 4, content: [])
        #expect(Self.verdict(bytes) == .malformed("a param claims more bytes than were sent"))
    }

    @Test func anotherIDsParamsAreNotJoined() {
        // Joined, [1 0 a][8 0 <8 bytes>] fits; request 1's own stream is [1 0 a] + the overflowing pair.
        let bytes =
            FastCGIConnection.beginRequest() + FastCGIConnection.record(type: 4, content: [1, 0, 0x61])
            + FastCGIConnection.record(type: 4, requestID: 2, content: [8, 0]) + FastCGIConnection.record(type: 4, content: Self.overflow)
            + FastCGIConnection.record(type: 4, content: [])
        #expect(Self.verdict(bytes) == .malformed("a param claims more bytes than were sent"))
    }

    @Test func getValuesIsBounded() {
        let bad = FastCGIConnection.record(type: 9, requestID: 0, content: Self.overflow)
        let request = FastCGIConnection.beginRequest() + FastCGIConnection.params(["A": "B"])
        #expect(Self.verdict(bad + request) == .malformed("a management record (type 9) claims more bytes than it holds"))
        let good = FastCGIConnection.record(type: 9, requestID: 0, content: [15, 0] + Array("FCGI_MPXS_CONNS".utf8))
        #expect(Self.verdict(good + request) == .ready)
        #expect(Self.verdict(request + FastCGIConnection.params(["C": "D"], requestID: 2)) == .ready)
    }

    /// libfcgi answers management records while it reads the body too, and Debian 12's parses the content of every
    /// management type with ReadParams (an unknown type 11 with these lengths aborted a worker, found by FuzzTests).
    /// Before: each of these was `.ready`, and the worker died in libfcgi's Malloc.
    @Test func managementRecordsAfterTheParamsAndOfAnyTypeAreChecked() {
        let request = FastCGIConnection.beginRequest() + FastCGIConnection.params(["A": "B"])
        let getValues = FastCGIConnection.record(type: 9, requestID: 0, content: Self.overflow)
        let unknown = FastCGIConnection.record(type: 11, requestID: 0, content: Self.overflow)
        #expect(Self.verdict(request + getValues + FastCGIConnection.stdin([])) == .malformed("a management record (type 9) claims more bytes than it holds"))
        #expect(
            Self.verdict(request + FastCGIConnection.stdin([1, 2], end: false) + unknown)
                == .malformed("a management record (type 11) claims more bytes than it holds"))
        // Honest ones pass, wherever they come; more than a handful is refused.
        let honest = FastCGIConnection.record(type: 9, requestID: 0, content: [15, 0] + Array("FCGI_MPXS_CONNS".utf8))
        #expect(Self.verdict(request + honest + FastCGIConnection.stdin([1])) == .ready)
        let many = Array([[UInt8]](repeating: honest, count: 9).joined())
        #expect(Self.verdict(request + many) == .malformed("over 8 management records"))
    }

    /// A management record whose header claims more content than ever arrives was passed on half-read, and
    /// libfcgi then parsed the forged lengths it did get and aborted the worker (FuzzTests, seed 1796479683).
    @Test func aManagementRecordCutShortIsRefused() {
        let request = FastCGIConnection.beginRequest() + FastCGIConnection.params(["A": "B"]) + FastCGIConnection.stdin([1, 2], end: false)
        let cut = Array(FastCGIConnection.record(type: 9, requestID: 0, content: [UInt8](repeating: 0, count: 2_000)).prefix(16))
        #expect(Self.verdict(request + cut) == .malformed("connection ended inside the params"))
    }
}
