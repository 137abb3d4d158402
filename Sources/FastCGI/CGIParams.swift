import Glibc

/// A request's CGI parameters (REQUEST_METHOD, REQUEST_URI, CONTENT_TYPE, HTTP_*...) as the web server sent
/// them: the bytes back to back, read by name on demand. A request brings about 25 and the app reads fewer
/// than ten, so no String is made for the rest (a dictionary of them cost a fifth of a health request).
/// A name given twice reads as its last value.
public struct CGIParams: ExpressibleByDictionaryLiteral {
    /// Every parameter as `NAME=value`, back to back.
    private var bytes: [UInt8] = []
    /// Where each parameter starts, where its '=' is and where it ends, in `bytes`.
    private var entries: [(start: Int32, equals: Int32, end: Int32)] = []

    public init() {}

    /// libfcgi's `NAME=value` C strings up to the terminating nil, copied into one buffer with one memcpy
    /// each (an Array append per parameter cost more than the copying). Entries without '=' are skipped.
    init(environment: UnsafePointer<UnsafeMutablePointer<CChar>?>) {
        var count = 0
        var total = 0
        while let entry = environment[count] {
            total += strlen(entry)
            count += 1
        }
        var found: [(start: Int32, equals: Int32, end: Int32)] = []
        found.reserveCapacity(count)
        bytes = [UInt8](unsafeUninitializedCapacity: total) { buffer, initialized in
            var offset = 0
            for index in 0..<count {
                guard let entry = environment[index] else { break }
                let length = strlen(entry)
                guard let equals = memchr(entry, Int32(UInt8(ascii: "=")), length) else { continue }
                memcpy(buffer.baseAddress! + offset, entry, length)
                found.append((Int32(offset), Int32(offset + UnsafeRawPointer(entry).distance(to: equals)), Int32(offset + length)))
                offset += length
            }
            initialized = offset
        }
        entries = found
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        for (name, value) in elements { append(name: name, value: value) }
    }

    public var count: Int { entries.count }

    public mutating func append(name: String, value: String) {
        let start = bytes.count
        bytes += name.utf8
        let equals = bytes.count
        bytes.append(UInt8(ascii: "="))
        bytes += value.utf8
        entries.append((Int32(start), Int32(equals), Int32(bytes.count)))
    }

    public subscript(name: String) -> String? {
        var name = name
        return name.withUTF8 { key in
            bytes.withUnsafeBufferPointer { all in
                entries.withUnsafeBufferPointer { entries in
                    for entry in entries.reversed() where Int(entry.equals - entry.start) == key.count {
                        if key.isEmpty || memcmp(all.baseAddress! + Int(entry.start), key.baseAddress!, key.count) == 0 {
                            return String(decoding: UnsafeBufferPointer(rebasing: all[Int(entry.equals + 1)..<Int(entry.end)]), as: UTF8.self)
                        }
                    }
                    return nil
                }
            }
        }
    }

    /// Every parameter as Strings, in the order sent.
    public var all: [(name: String, value: String)] {
        entries.map { entry in
            (
                String(decoding: bytes[Int(entry.start)..<Int(entry.equals)], as: UTF8.self),
                String(decoding: bytes[Int(entry.equals + 1)..<Int(entry.end)], as: UTF8.self)
            )
        }
    }

    /// The request's header fields: each HTTP_* parameter with its name unfolded the way CGI folded it
    /// (RFC 3875 4.1.18: upper case, '-' to '_'), so HTTP_X_REQUEST_ID gives X-Request-Id. In the order sent.
    public var headerFields: [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = []
        fields.reserveCapacity(entries.count)  // an upper bound: growing the array cost more than the slack
        forEachHeaderField { fields.append(($0, $1)) }
        return fields
    }

    /// `headerFields` one by one, without the list (the bridge makes its own at once).
    public func forEachHeaderField(_ body: (_ name: String, _ value: String) -> Void) {
        bytes.withUnsafeBufferPointer { all in
            for entry in entries where entry.equals - entry.start >= 5 {
                let name = UnsafeBufferPointer(rebasing: all[Int(entry.start)..<Int(entry.equals)])
                guard memcmp(name.baseAddress!, "HTTP_", 5) == 0 else { continue }
                body(
                    Self.headerName(cgi: UnsafeBufferPointer(rebasing: name[(name.startIndex + 5)...])),
                    String(decoding: UnsafeBufferPointer(rebasing: all[Int(entry.equals + 1)..<Int(entry.end)]), as: UTF8.self))
            }
        }
    }

    /// USER_AGENT -> User-Agent. ASCII (all nginx passes) is done on bytes; anything else through String.
    static func headerName(cgi name: UnsafeBufferPointer<UInt8>) -> String {
        guard !name.contains(where: { $0 >= 0x80 }) else {
            return String(decoding: name, as: UTF8.self).split(separator: "_")
                .map { $0.prefix(1) + $0.dropFirst().lowercased() }.joined(separator: "-")
        }
        return String(unsafeUninitializedCapacity: name.count) { out in
            var count = 0
            var wordStart = true
            for byte in name {
                if byte == UInt8(ascii: "_") {
                    wordStart = true
                    continue
                }
                if wordStart && count > 0 {
                    out[count] = UInt8(ascii: "-")
                    count += 1
                }
                out[count] = wordStart || !(UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte : byte + 32
                wordStart = false
                count += 1
            }
            return count
        }
    }
}
