/// Decimal digits appended to bytes without making a String: every log line, timestamp and JSON number
/// goes through here.
public enum Digits {
    /// `value` in decimal, zero-padded on the left to at least `width` digits, after a `-` if negative.
    public static func append(_ value: Int64, width: Int = 1, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buffer in  // an Int64 has at most 19 digits
            var start = buffer.count
            repeat {
                start -= 1
                buffer[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            let count = buffer.count - start
            if count < width { out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: width - count)) }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[start...]))
        }
    }
}
