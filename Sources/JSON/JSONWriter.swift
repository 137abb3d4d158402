// Compact JSON serialisation. Non-finite doubles have no JSON form and are written as null.
public enum JSONWriter {
    public static func write(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null: out += "null".utf8
        case .bool(let b): out += (b ? "true" : "false").utf8
        case .int(let i): Digits.append(i, to: &out)
        case .bigInt(let s): out += s.utf8
        case .double(let d):
            if !d.isFinite {
                out += "null".utf8
            } else if d == d.rounded(), abs(d) < 1e15 {
                out += ((d.sign == .minus ? "-" : "") + String(Int64(abs(d))) + ".0").utf8
            } else {
                out += "\(d)".utf8
            }
        case .string(let s): writeString(s, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                write(item, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (i, (key, item)) in members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                write(item, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static let hex = Array("0123456789abcdef".utf8)

    /// Runs of bytes that need no escape are copied whole: a byte-by-byte append was a third of a list
    /// page's CPU. The scan skips 16 bytes at a time while `cleanBlocks` finds nothing to escape in them and
    /// looks byte by byte only at a block that holds something: byte by byte, a 500-byte post body cost about
    /// 3,500 instructions, 8 bytes at a time 2,500.
    public static func writeString(_ s: String, into out: inout [UInt8]) {
        var s = s
        out.append(UInt8(ascii: "\""))
        s.withUTF8 { utf8 in
            escapeTable.withUnsafeBufferPointer { escapes in
                var runStart = 0
                var index = 0
                while index < utf8.count {
                    index = cleanBlocks(utf8, from: index)
                    let blockEnd = min(index + 16, utf8.count)
                    while index < blockEnd {
                        if escapes[Int(utf8[index])] {
                            out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                            writeEscape(utf8[index], into: &out)
                            runStart = index + 1
                        }
                        index += 1
                    }
                }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// From `start`, the offset of the first 16-byte block that holds a byte to escape, or of the last, shorter
    /// block. Tests two 8-byte words at a time with word arithmetic ("SWAR", see `marks`).
    @inline(__always)
    private static func cleanBlocks(_ utf8: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        guard let base = utf8.baseAddress.map(UnsafeRawPointer.init) else { return start }
        var index = start
        while index + 16 <= utf8.count {
            let first = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            let second = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: index + 8, as: UInt64.self))
            if (marks(first) | marks(second)) & (ones &* 0x80) != 0 { break }
            index += 16
        }
        return index
    }

    private static let ones: UInt64 = 0x0101_0101_0101_0101

    /// A word whose bytes' high bits are set only if one of `word`'s 8 bytes is one `escapeTable` marks (the
    /// other bits are noise). The high bit of `(v - 0x01…) & ~v` is set in some byte exactly when some byte of
    /// v is zero (a borrow can mark a byte above a zero one, never a word without one), and of
    /// `(v - 0x20…) & ~v` when some byte is below 0x20. `"` and `&` differ only in bit 2, `<` and `>` only in
    /// bit 1: one test covers each pair. Every term's high bits are those of `word` (the constants are below
    /// 0x80), so `& ~word` is done once.
    @inline(__always)
    private static func marks(_ word: UInt64) -> UInt64 {
        let quoteOrAmpersand = (word | ones &* 0x04) ^ (ones &* 0x26)
        let angleBracket = (word | ones &* 0x02) ^ (ones &* 0x3E)
        let below =
            (word &- ones &* 0x20) | (quoteOrAmpersand &- ones) | (angleBracket &- ones)
            | ((word ^ ones &* 0x5C) &- ones) | ((word ^ ones &* 0x7F) &- ones)
        return below & ~word
    }

    /// The bytes to escape, by value (`marks` tests the same set): control characters, `"` and `\`,
    /// and `<`, `>`, `&` (so a JSON body can never be sniffed or embedded as markup). A table: a test per byte cost a third of writing a string.
    private static let escapeTable: [Bool] = (0...255).map { (byte: Int) -> Bool in
        switch byte {
        case 0..<0x20, 0x7F, 0x22, 0x5C, 0x3C, 0x3E, 0x26: return true  // " \ < > &
        default: return false
        }
    }

    private static func writeEscape(_ byte: UInt8, into out: inout [UInt8]) {
        switch byte {
        case UInt8(ascii: "\""): out += [92, 34]
        case UInt8(ascii: "\\"): out += [92, 92]
        case 0x0A: out += [92, UInt8(ascii: "n")]
        case 0x0D: out += [92, UInt8(ascii: "r")]
        case 0x09: out += [92, UInt8(ascii: "t")]
        default:
            out += "\\u00".utf8
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0xF)])
        }
    }
}
