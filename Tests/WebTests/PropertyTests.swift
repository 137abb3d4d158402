import TestSupport
import Testing
import Web

/// A small deterministic generator (SplitMix64), so failures reproduce from the seed.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum RandomJSON {
    static let keys = ["name", "count", "flag", "ratio", "tags", "owner", "kind", "id", "full_name", "x", ""]
    static let strings = ["", " ", "a", "ok", "toolong-string", "é", "\u{0}", "\"", "a@b.c", "1", "true", "😀😀"]

    static func value(_ rng: inout SeededRandom, depth: Int) -> JSONValue {
        switch Int.random(in: 0..<(depth > 3 ? 7 : 9), using: &rng) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2: return .int([0, 1, -1, 10, 11, Int64.max, Int64.min, Int64.random(in: -100...100, using: &rng)].randomElement(using: &rng)!)
        case 3: return .double([0.5, 1.0, -0.0, 1e308, 2.5, .infinity].randomElement(using: &rng)!)
        case 4: return .bigInt("123456789012345678901234567890")
        case 5, 6: return .string(strings.randomElement(using: &rng)!)
        case 7: return .array((0..<Int.random(in: 0...4, using: &rng)).map { _ in value(&rng, depth: depth + 1) })
        default:
            return .object((0..<Int.random(in: 0...6, using: &rng)).map { _ in (keys.randomElement(using: &rng)!, value(&rng, depth: depth + 1)) })
        }
    }

    /// Mostly objects with the schema's keys, so validation goes deep rather than failing at the top.
    static func document(_ rng: inout SeededRandom) -> JSONValue {
        switch Int.random(in: 0..<10, using: &rng) {
        case 0: return value(&rng, depth: 0)
        case 1, 2, 3:
            // A valid widget with at most one member replaced by a random value.
            var valid: JSONValue = ["name": "ok", "count": .int(Int64.random(in: 0...10, using: &rng)), "flag": .bool(Bool.random(using: &rng))]
            if Bool.random(using: &rng) {
                valid.set("tags", ["a", "bb"])
                valid.set("owner", ["id": 3, "full_name": nil])
                valid.set("ratio", 0.25)
            }
            if Bool.random(using: &rng) { valid.set(keys.randomElement(using: &rng)!, value(&rng, depth: 1)) }
            return valid
        default: break
        }
        var members: [(String, JSONValue)] = []
        for key in keys where Bool.random(using: &rng) { members.append((key, value(&rng, depth: 1))) }
        return .object(members)
    }
}

@Suite struct PropertyTests {
    @Test func randomDocumentsNeverCrashAndAnswer200Or422() throws {
        let client = demoClient()
        var rng = SeededRandom(state: 20_261_122)
        var counts: [Int: Int] = [:]
        for i in 0..<3000 {
            let doc = RandomJSON.document(&rng)
            var bytes = doc.encoded()
            // Now and then, corrupt the text to exercise the parser's error paths.
            if i % 7 == 0, !bytes.isEmpty {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = [UInt8(ascii: "{"), 0x22, 0x5C, 0xFF, 0x00].randomElement(using: &rng)!
            }
            let r = try client.execute(.post, "/api/v1/widgets", headers: [.contentType: "application/json"], body: bytes)
            counts[r.status.code, default: 0] += 1
            #expect(r.status == .ok || r.status == .unprocessableContent, "document #\(i): \(String(decoding: bytes, as: UTF8.self)) -> \(r.status)")
            if r.status == .unprocessableContent {
                let detail = try #require(try r.json()["detail"]?.arrayValue, "document #\(i)")
                #expect(!detail.isEmpty)
                #expect(detail.allSatisfy { $0["type"]?.stringValue != nil && $0["loc"]?.arrayValue?.first == "body" && $0["msg"]?.stringValue != nil })
            }
        }
        // The generator must reach both outcomes, or the property says little.
        #expect(counts[200, default: 0] > 10)
        #expect(counts[422, default: 0] > 1000)
    }

    @Test func encodeParseRoundTrip() throws {
        var rng = SeededRandom(state: 7)
        for _ in 0..<2000 {
            let v = RandomJSON.value(&rng, depth: 0)
            let back = try JSONValue.parse(v.encoded())
            #expect(back.encodedString == v.encodedString)
        }
    }
}
