import HTTPTypes

/// An entity tag: `"opaque"` (strong) or `W/"opaque"` (weak).
public struct ETag: Equatable, Sendable, CustomStringConvertible {
    public var opaque: String
    public var isWeak: Bool

    public init(_ opaque: String, weak: Bool = false) {
        // Bytes: String.contains(Character) walks grapheme clusters (about 1,000 instructions for a post's tag).
        precondition(!opaque.utf8.contains(UInt8(ascii: "\"")), "an ETag cannot contain a double quote")
        self.opaque = opaque
        self.isWeak = weak
    }

    /// A strong tag from the representation's bytes (FNV-1a, twice with different offsets: 128 bits, not
    /// a security hash; ETags only need to change when the bytes do).
    public static func strong(hashing bytes: [UInt8]) -> ETag {
        func fnv(_ seed: UInt64) -> UInt64 {
            var h = seed
            for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            return h
        }
        let a = fnv(0xcbf2_9ce4_8422_2325)
        let b = fnv(0x8422_2325_cbf2_9ce4)
        return ETag(String(a, radix: 16).leftPadded(16) + String(b, radix: 16).leftPadded(16))
    }

    public var description: String { (isWeak ? "W/" : "") + "\"\(opaque)\"" }

    /// Parses one tag; nil when malformed.
    public static func parse<S: StringProtocol>(_ text: S) -> ETag? {
        var s = Substring(text.trimmingSpaces())
        var weak = false
        if s.hasPrefix("W/") {
            weak = true
            s = s.dropFirst(2)
        }
        guard s.count >= 2, s.first == "\"", s.last == "\"" else { return nil }
        let inner = s.dropFirst().dropLast()
        guard !inner.contains("\"") else { return nil }
        return ETag(String(inner), weak: weak)
    }

    /// A header list: nil means `*`; malformed members are skipped.
    public static func parseList(_ header: String) -> [ETag]? {
        if header.trimmingSpaces() == "*" { return nil }
        return header.split(separator: ",").compactMap { parse($0) }
    }

    public func weaklyMatches(_ other: ETag) -> Bool { opaque == other.opaque }
    public func stronglyMatches(_ other: ETag) -> Bool { !isWeak && !other.isWeak && opaque == other.opaque }
}

/// RFC 9110's preconditions for the two uses API.md names.
public enum Conditional {
    /// For GET/HEAD: a 304 (with the ETag) when If-None-Match matches the current tag (weakly) or is `*`.
    public static func notModified(_ request: Request, etag: ETag) -> Response? {
        guard request.method == .get || request.method == .head, let header = request.headerFields.value(of: .ifNoneMatch) else { return nil }
        let matches = ETag.parseList(header).map { $0.contains { $0.weaklyMatches(etag) } } ?? true
        return matches ? Response(status: .notModified, headerFields: [.eTag: etag.description]) : nil
    }

    /// For writes: throws 412 `{"detail":"Precondition Failed"}` when If-Match is present and no member
    /// strongly matches the current tag (`*` matches any existing resource; `current` nil means none).
    public static func checkIfMatch(_ request: Request, current: ETag?) throws {
        guard let header = request.headerFields.value(of: .ifMatch) else { return }
        guard let current else { throw HTTPError.preconditionFailed }
        guard let list = ETag.parseList(header) else { return }
        if !list.contains(where: { $0.stronglyMatches(current) }) { throw HTTPError.preconditionFailed }
    }
}

extension Response {
    /// The same response with an ETag header.
    public func with(etag: ETag) -> Response {
        var r = self
        r.headerFields.set(HTTPField(name: .eTag, value: etag.description))
        return r
    }
}
