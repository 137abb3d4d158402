import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A seeded mutation fuzzer over the worker's input path: valid FastCGI requests with bytes flipped,
/// records cut, lengths forged, records repeated, other request ids' PARAMS and GET_VALUES
/// management records inserted, each on its own connection. Bounded in count and
/// time; the seed is printed so a failure replays. Any input that ever crashed a worker belongs in
/// `PoolTests.malformedInputCostsOnlyItsConnection` as a fixed case.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct FuzzTests {
    static let iterations = Int(ProcessInfo.processInfo.environment["PERCH_FUZZ_ITERATIONS"] ?? "") ?? 2_000

    static func mutate(_ input: [UInt8], using random: inout SeededGenerator) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            switch Int.random(in: 0..<8, using: &random) {
            case 0 where !bytes.isEmpty:  // flip a byte
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            case 1 where !bytes.isEmpty:  // cut short
                bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &random)))
            case 2:  // forge a record's content length (header bytes 4-5 of some record start)
                let offset = 8 * Int.random(in: 0...max(0, bytes.count / 8 - 1), using: &random)
                if offset + 6 <= bytes.count {
                    bytes[offset + 4] = 0xff
                    bytes[offset + 5] = UInt8.random(in: 0...255, using: &random)
                }
            case 3:  // repeat a slice
                let start = Int.random(in: 0...bytes.count, using: &random)
                let end = min(bytes.count, start + Int.random(in: 0...64, using: &random))
                bytes.insert(contentsOf: bytes[start..<end], at: start)
            case 4:  // a param length claiming up to 2 GB
                bytes += FastCGIConnection.record(type: 4, content: [0xff, 0xff, 0xff, 0xfe, 0x81, 0, 0, 0])
            case 5:  // another request id's PARAMS (empty, or a pair whose lengths overflow) after the BEGIN_REQUEST
                let content: [UInt8] = Bool.random(using: &random) ? [] : [0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xfe]
                let record = FastCGIConnection.record(type: 4, requestID: UInt16.random(in: 2...3, using: &random), content: content)
                bytes.insert(contentsOf: record, at: min(16, bytes.count))
            case 6:  // a management record (request id 0: GET_VALUES or an unknown type) whose name claims up to 2 GB, at a
                // record boundary: first, after the BEGIN_REQUEST, or in the body before its last (empty) STDIN record
                let record = FastCGIConnection.record(
                    type: Bool.random(using: &random) ? 9 : 11, requestID: 0,
                    content: [0xff, 0xff, 0xff, UInt8.random(in: 0...255, using: &random), 0x81, 0, 0, 0])
                bytes.insert(contentsOf: record, at: [0, min(16, bytes.count), max(0, bytes.count - 8)].randomElement(using: &random)!)
            default:  // random tail
                bytes += (0..<Int.random(in: 1...128, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            }
        }
        return bytes
    }

    @Test func mutatedRequestsNeverCostAWorker() throws {
        let seed = UInt64(ProcessInfo.processInfo.environment["PERCH_FUZZ_SEED"] ?? "") ?? UInt64(time(nil))
        print("FuzzTests seed \(seed) (PERCH_FUZZ_SEED=\(seed) replays it)")
        var random = SeededGenerator(seed: seed)
        let pool = try PerchPool(workers: 2, environment: ["PERCH_REQUEST_TIMEOUT": "5"])
        let workers = Set(pool.workerPIDs)
        var params = fastCGIParams("/api/v1/health?fuzz=1", method: "POST")
        params["HTTP_X_REQUEST_ID"] = "fuzz"
        let valid = FastCGIConnection.request(params, body: Array(#"{"a":1}"#.utf8), keepConnection: true)
        let deadline = Date().addingTimeInterval(60)
        var sent = 0
        while sent < Self.iterations && Date() < deadline {
            let connection = try FastCGIConnection(unixPath: pool.socketPath, receiveTimeout: 2)
            connection.send(Self.mutate(valid, using: &random))
            shutdown(connection.fd, Int32(SHUT_WR))
            _ = connection.closedByPeer()
            sent += 1
        }
        #expect(sent >= min(Self.iterations, 100))
        let check = try FastCGIConnection(unixPath: pool.socketPath)
        check.send(FastCGIConnection.request(fastCGIParams("/api/v1/health")))
        #expect(check.readResponse()?.contains(#"{"status":"ok"}"#) == true)
        #expect(Set(pool.workerPIDs) == workers, "seed \(seed): a worker died: \(pool.process.log.suffix(2_000))")
        for pid in workers {
            #expect((ChildProcess.residentKilobytes(pid) ?? .max) < 64 * 1024, "seed \(seed): worker \(pid) memory")
        }
    }
}
