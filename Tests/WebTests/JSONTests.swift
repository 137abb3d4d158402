import Testing
import Web

@Suite struct JSONTests {
    @Test func kindsAreDistinct() throws {
        #expect(try JSONValue.parse("true") == .bool(true))
        #expect(try JSONValue.parse("1") == .int(1))
        #expect(try JSONValue.parse("1") != .bool(true))
        #expect(try JSONValue.parse("1.0") == .double(1.0))
        #expect(try JSONValue.parse("1.5") == .double(1.5))
        #expect(try JSONValue.parse("-9223372036854775808") == .int(.min))
        #expect(try JSONValue.parse("9223372036854775808") == .bigInt("9223372036854775808"))
        #expect(try JSONValue.parse("1e400") == .double(.infinity))
        #expect(try JSONValue.parse(" \"a\\u00e9\\ud83d\\ude00\\n\" ") == .string("aé😀\n"))
    }

    @Test(arguments: ["", "01", "1.", ".5", "-", "+1", "1e", "[1,]", "{\"a\" 1}", "tru", "\"\\x\"", "\"abc", "NaN", "Infinity", "\"\t\"", "[] []"])
    func rejects(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }

    @Test func duplicateKeysLastWins() throws {
        #expect(try JSONValue.parse(#"{"a":1,"a":2}"#)["a"] == 2)
    }

    @Test func encodingEscapes() {
        #expect(JSONValue.object([("k", .string("q\"\\\n\u{1}<é"))]).encodedString == #"{"k":"q\"\\\n\u0001\u003cé"}"#)
        #expect(JSONValue.array([.double(2), .double(0.1), .double(.nan), .int(-3), .null]).encodedString == "[2.0,0.1,null,-3,null]")
    }

    /// Strings are copied in runs between escapes: escapes first, last, back to back, and none at all.
    @Test(arguments: [
        ("", #""""#), ("plain text", #""plain text""#), ("<a>", #""\u003ca\u003e""#), ("&&", #""\u0026\u0026""#),
        ("\u{7F}x\t", #""\u007fx\t""#), ("ünïcödé ✓ 𝄞", #""ünïcödé ✓ 𝄞""#), ("a\"b\\c", #""a\"b\\c""#)
    ])
    func stringsAreEscapedBetweenRuns(text: String, expected: String) throws {
        #expect(JSONValue.string(text).encodedString == expected)
        #expect(try JSONValue.parse(expected) == .string(text))
    }

    /// Every ASCII character at every position of strings around the 16-byte blocks the writer scans, in ASCII
    /// and non-ASCII surroundings, against a byte-by-byte escaper; the result parses back to the same string.
    @Test func everyCharacterIsEscapedAtEveryPosition() throws {
        func reference(_ text: String) -> String {
            var out = "\""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case "\u{0}"..."\u{1F}", "\u{7F}", "<", ">", "&":
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                default: out.unicodeScalars.append(scalar)
                }
            }
            return out + "\""
        }
        for filler in ["a", "é", "✓"] {
            for length in [1, 15, 16, 17, 31, 32, 33, 47] {
                for position in 0..<length {
                    for value in UInt32(0)..<128 {
                        var scalars = Array(repeating: Unicode.Scalar(filler)!, count: length)
                        scalars[position] = Unicode.Scalar(value)!
                        var text = ""
                        text.unicodeScalars.append(contentsOf: scalars)
                        let written = JSONValue.string(text).encodedString
                        #expect(written == reference(text))
                        #expect(try JSONValue.parse(written) == .string(text))
                    }
                }
            }
        }
    }

    @Test(arguments: [
        (Int64(0), 1, "0"), (7, 1, "7"), (42, 4, "0042"), (-5, 3, "-005"), (123_456, 2, "123456"),
        (.max, 1, "9223372036854775807"), (.min, 1, "-9223372036854775808")
    ])
    func digitsArePaddedAndSigned(value: Int64, width: Int, expected: String) {
        var out: [UInt8] = []
        Digits.append(value, width: width, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == expected)
        if width == 1 { #expect(JSONValue.int(value).encodedString == expected) }
    }

    @Test func depthLimitIsAnErrorNotACrash() {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(String(repeating: "{\"a\":", count: 5000) + "1" + String(repeating: "}", count: 5000)) }
    }
}
