import CSodium

/// Compares two byte strings in time that depends only on their length (libsodium's `sodium_memcmp`).
/// Different lengths return false at once: only the length, never the content, can leak.
public func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    guard !a.isEmpty else { return true }
    SodiumRuntime.ensureInitialized()
    return a.withUnsafeBytes { x in
        b.withUnsafeBytes { y in sodium_memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 }
    }
}

/// `constantTimeEquals` on the UTF-8 bytes of two strings.
public func constantTimeEquals(_ a: String, _ b: String) -> Bool {
    constantTimeEquals(Array(a.utf8), Array(b.utf8))
}
