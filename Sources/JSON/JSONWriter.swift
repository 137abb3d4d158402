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
    /// page's CPU.
    public static func writeString(_ s: String, into out: inout [UInt8]) {
        var s = s
        out.append(UInt8(ascii: "\""))
        s.withUTF8 { utf8 in
            escapeTable.withUnsafeBufferPointer { escapes in
                var runStart = 0
                for index in 0..<utf8.count where escapes[Int(utf8[index])] {
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                    writeEscape(utf8[index], into: &out)
                    runStart = index + 1
                }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// The bytes to escape, by value: control characters, `"` and `\`, and `<`, `>`, `&` (so a JSON body can
    /// never be sniffed or embedded as markup). A table: a test per byte cost a third of writing a string.
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
