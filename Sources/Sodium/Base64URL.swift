import CSodium

/// Base64url without padding (RFC 4648 §5), as JWTs and our tokens use it, on libsodium's
/// constant-time codec. Decoding is strict: any character outside `A-Z a-z 0-9 - _`, any `=`,
/// whitespace, an impossible length or non-zero unused trailing bits make it fail.
public enum Base64URL {
    private static let variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING

    public static func encode(_ bytes: [UInt8]) -> String {
        SodiumRuntime.ensureInitialized()
        let capacity = sodium_base64_encoded_len(bytes.count, variant)  // includes the NUL
        var out = [CChar](repeating: 0, count: capacity)
        bytes.withUnsafeBufferPointer { input in
            _ = sodium_bin2base64(&out, capacity, input.baseAddress, input.count, variant)
        }
        return String(cString: out)
    }

    /// The decoded bytes, or nil when `text` is not canonical unpadded base64url.
    public static func decode(_ text: String) -> [UInt8]? {
        decode(utf8: Array(text.utf8))
    }

    static func decode<C: Collection<UInt8>>(utf8 text: C) -> [UInt8]? {
        let chars = Array(text)
        guard !chars.isEmpty else { return [] }
        // libsodium 1.0.18 maps some non-ASCII bytes to letters (signed char), so refuse them first;
        // OR-ing all bytes keeps this check independent of the content.
        guard chars.reduce(0, |) < 0x80 else { return nil }
        SodiumRuntime.ensureInitialized()
        let capacity = chars.count / 4 * 3 + 3
        var out = [UInt8](repeating: 0, count: capacity)
        var length = 0
        // A nil end pointer makes libsodium fail unless the whole input was consumed.
        let status = chars.withUnsafeBufferPointer { input in
            input.withMemoryRebound(to: CChar.self) { input in
                sodium_base642bin(&out, capacity, input.baseAddress, input.count, nil, &length, nil, variant)
            }
        }
        guard status == 0 else { return nil }
        return Array(out.prefix(length))
    }
}
