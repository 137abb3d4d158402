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
    /// page's CPU. The scan tests 8 bytes at a time (`blockNeedsEscape`) and looks byte by byte only at a block
    /// that holds a byte to escape: byte by byte, a 500-byte post body cost about 3,500 instructions.
    public static func writeString(_ s: String, into out: inout [UInt8]) {
        var s = s
        out.append(UInt8(ascii: "\""))
        s.withUTF8 { utf8 in
            escapeTable.withUnsafeBufferPointer { escapes in
                let count = utf8.count
                var runStart = 0
                var index = 0
                while index < count {
                    if index + 8 <= count,
                        !blockNeedsEscape(UInt64(littleEndian: UnsafeRawPointer(utf8.baseAddress! + index).loadUnaligned(as: UInt64.self)))
                    {
                        index += 8
                        continue
                    }
                    let blockEnd = min(index + 8, count)
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

    /// Whether any of the 8 bytes in `block` is one `escapeTable` marks, by word arithmetic ("SWAR"): the
    /// high bit of `(v - 0x01…) & ~v` is set in some byte exactly when some byte of v is zero (a borrow can mark
    /// a byte above a zero one, never a word without one), and of `(v - 0x20…) & ~v` when some byte is below
    /// 0x20. `"` and `&` differ only in bit 2, `<` and `>` only in bit 1: one test covers each pair. Every
    /// term's high bits are those of `block` (the constants are below 0x80), so `& ~block` is done once.
    @inline(__always)
    private static func blockNeedsEscape(_ block: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let quoteOrAmpersand = (block | ones &* 0x04) ^ (ones &* 0x26)
        let angleBracket = (block | ones &* 0x02) ^ (ones &* 0x3E)
        let below =
            (block &- ones &* 0x20) | (quoteOrAmpersand &- ones) | (angleBracket &- ones)
            | ((block ^ ones &* 0x5C) &- ones) | ((block ^ ones &* 0x7F) &- ones)
        return below & ~block & (ones &* 0x80) != 0
    }

    /// The bytes to escape, by value (`blockNeedsEscape` tests the same set): control characters, `"` and `\`,
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
