/// Decimal digits appended to bytes without making a String: every log line, timestamp and JSON number
/// goes through here.
public enum Digits {
    /// `value` in decimal, zero-padded on the left to at least `width` digits, after a `-` if negative.
    public static func append(_ value: Int64, width: Int = 1, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var count = 1
        var rest = magnitude / 10
        while rest > 0 {
            count += 1
            rest /= 10
        }
        // Zeros first (the padding and room for the digits), then the digits from the last one back.
        for _ in 0..<max(count, width) { out.append(UInt8(ascii: "0")) }
        out.withUnsafeMutableBufferPointer { buffer in
            var position = buffer.count
            repeat {
                position -= 1
                buffer[position] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
        }
    }
}
