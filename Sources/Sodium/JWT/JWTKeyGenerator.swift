import CSodium

/// Generates JWT keys and converts them to and from their configuration text.
///
/// Text format: the raw key bytes in base64url without padding (RFC 4648 §5), surrounding whitespace
/// ignored (so a key file may end with a newline).
/// - HS256 secret: 32 random bytes, 43 characters (longer secrets are accepted, shorter refused).
/// - Ed25519 private key: the 32-byte seed (43 characters) or libsodium's 64-byte secret key
///   (seed followed by public key, 86 characters).
/// - Ed25519 public key: 32 bytes, 43 characters.
public enum JWTKeyGenerator {
    /// A new 256-bit HS256 secret.
    public static func hs256Secret() -> [UInt8] {
        SecureRandom.bytes(32)
    }

    /// A new Ed25519 key pair: 32-byte public key, 64-byte libsodium secret key.
    public static func ed25519() -> (publicKey: [UInt8], secretKey: [UInt8]) {
        SodiumRuntime.ensureInitialized()
        var pk = [UInt8](repeating: 0, count: Int(crypto_sign_publickeybytes()))
        var sk = [UInt8](repeating: 0, count: Int(crypto_sign_secretkeybytes()))
        _ = crypto_sign_keypair(&pk, &sk)
        return (pk, sk)
    }

    /// The configuration text of raw key bytes.
    public static func encode(_ key: [UInt8]) -> String {
        Base64URL.encode(key)
    }

    /// The raw key bytes of a configuration text; throws `invalidKey` when it is not base64url.
    public static func decode(_ text: String) throws -> [UInt8] {
        let words = text.split(whereSeparator: \.isWhitespace)  // surrounding whitespace only
        guard words.count == 1, let bytes = Base64URL.decode(String(words[0])),
            !bytes.isEmpty
        else { throw JWTError.invalidKey("key text is not unpadded base64url") }
        return bytes
    }
}
