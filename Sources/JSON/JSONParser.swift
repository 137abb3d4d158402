// A strict RFC 8259 parser over bytes. It never traps on input: depth is bounded (as Pydantic's jiter
// does, at 200), numbers keep their kind, and every failure is a JSONParseError with a byte offset.
public struct JSONParseError: Error, Equatable, CustomStringConvertible {
    public var message: String
    public var offset: Int
    public var description: String { "\(message) at offset \(offset)" }
}

struct JSONParser {
    static let maxDepth = 200

    private let bytes: [UInt8]
    private var pos = 0
    private var depth = 0

    static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw JSONParseError(message: "Invalid UTF-8", offset: 0)
        }
        var parser = JSONParser(bytes: bytes)
        parser.skipSpace()
        let value = try parser.parseValue()
        parser.skipSpace()
        guard parser.pos == bytes.count else { throw parser.fail("Extra data") }
        return value
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private func fail(_ message: String) -> JSONParseError { JSONParseError(message: message, offset: pos) }

    private var peek: UInt8? { pos < bytes.count ? bytes[pos] : nil }

    private mutating func skipSpace() {
        while let b = peek, b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { pos += 1 }
    }

    private mutating func literal(_ word: String, _ value: JSONValue) throws -> JSONValue {
        let w = Array(word.utf8)
        guard pos + w.count <= bytes.count, Array(bytes[pos..<pos + w.count]) == w else { throw fail("Expecting value") }
        pos += w.count
        return value
    }

    private mutating func parseValue() throws -> JSONValue {
        guard let b = peek else { throw fail("Expecting value") }
        switch b {
        case UInt8(ascii: "{"): return try nested { try $0.parseObject() }
        case UInt8(ascii: "["): return try nested { try $0.parseArray() }
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw fail("Expecting value")
        }
    }

    private mutating func nested(_ body: (inout JSONParser) throws -> JSONValue) throws -> JSONValue {
        depth += 1
        defer { depth -= 1 }
        guard depth <= JSONParser.maxDepth else { throw fail("Recursion limit exceeded") }
        return try body(&self)
    }

    private mutating func parseObject() throws -> JSONValue {
        pos += 1
        var members: [(String, JSONValue)] = []
        skipSpace()
        if peek == UInt8(ascii: "}") {
            pos += 1
            return .object(members)
        }
        while true {
            skipSpace()
            guard peek == UInt8(ascii: "\"") else { throw fail("Expecting property name enclosed in double quotes") }
            let key = try parseString()
            skipSpace()
            guard peek == UInt8(ascii: ":") else { throw fail("Expecting ':' delimiter") }
            pos += 1
            skipSpace()
            members.append((key, try parseValue()))
            skipSpace()
            switch peek {
            case UInt8(ascii: ","): pos += 1
            case UInt8(ascii: "}"):
                pos += 1
                return .object(members)
            default: throw fail("Expecting ',' delimiter")
            }
        }
    }

    private mutating func parseArray() throws -> JSONValue {
        pos += 1
        var items: [JSONValue] = []
        skipSpace()
        if peek == UInt8(ascii: "]") {
            pos += 1
            return .array(items)
        }
        while true {
            skipSpace()
            items.append(try parseValue())
            skipSpace()
            switch peek {
            case UInt8(ascii: ","): pos += 1
            case UInt8(ascii: "]"):
                pos += 1
                return .array(items)
            default: throw fail("Expecting ',' delimiter")
            }
        }
    }

    private mutating func parseString() throws -> String {
        let start = pos
        pos += 1
        var out: [UInt8] = []
        while true {
            guard let b = peek else { throw JSONParseError(message: "Unterminated string", offset: start) }
            switch b {
            case UInt8(ascii: "\""):
                pos += 1
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                pos += 1
                try parseEscape(into: &out)
            case 0..<0x20:
                throw fail("Invalid control character")
            default:
                out.append(b)
                pos += 1
            }
        }
    }

    private mutating func parseEscape(into out: inout [UInt8]) throws {
        guard let e = peek else { throw fail("Unterminated string") }
        pos += 1
        switch e {
        case UInt8(ascii: "\""): out.append(0x22)
        case UInt8(ascii: "\\"): out.append(0x5C)
        case UInt8(ascii: "/"): out.append(0x2F)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try hex4()
            if (0xD800...0xDBFF).contains(scalar) {
                // A high surrogate must be followed by an escaped low surrogate.
                guard peek == UInt8(ascii: "\\"), pos + 1 < bytes.count, bytes[pos + 1] == UInt8(ascii: "u") else {
                    throw fail("Invalid \\uXXXX escape")
                }
                pos += 2
                let low = try hex4()
                guard (0xDC00...0xDFFF).contains(low) else { throw fail("Invalid \\uXXXX escape") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw fail("Invalid \\uXXXX escape")
            }
            guard let u = Unicode.Scalar(scalar) else { throw fail("Invalid \\uXXXX escape") }
            out += Array(String(Character(u)).utf8)
        default:
            throw fail("Invalid \\escape")
        }
    }

    private mutating func hex4() throws -> UInt32 {
        guard pos + 4 <= bytes.count else { throw fail("Invalid \\uXXXX escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[pos]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw fail("Invalid \\uXXXX escape")
            }
            v = v << 4 | d
            pos += 1
        }
        return v
    }

    private mutating func digits() -> Int {
        let start = pos
        while let b = peek, b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") { pos += 1 }
        return pos - start
    }

    private mutating func parseNumber() throws -> JSONValue {
        let start = pos
        if peek == UInt8(ascii: "-") { pos += 1 }
        guard let first = peek, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") else { throw fail("Expecting value") }
        if first == UInt8(ascii: "0") { pos += 1 } else { _ = digits() }
        var isInteger = true
        if peek == UInt8(ascii: ".") {
            pos += 1
            isInteger = false
            guard digits() > 0 else { throw fail("Expecting digits after the decimal point") }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            pos += 1
            isInteger = false
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { pos += 1 }
            guard digits() > 0 else { throw fail("Expecting digits in the exponent") }
        }
        let text = String(decoding: bytes[start..<pos], as: UTF8.self)
        if isInteger { return Int64(text).map(JSONValue.int) ?? .bigInt(text) }
        return .double(Double(text) ?? .nan)
    }
}
