import CSodium

/// One JWT key: an HS256 shared secret, an Ed25519 key pair (can sign), or an Ed25519 public key
/// (verify only). Printing a key shows its kid and algorithm, never its material.
public struct JWTKey: Sendable, CustomStringConvertible, CustomReflectable {
    /// HS256 secrets shorter than 256 bits are refused.
    public static let minimumHS256SecretBytes = 32

    public let kid: String?
    public let algorithm: JWTAlgorithm
    /// HS256: the shared secret. EdDSA: libsodium's 64-byte secret key (seed + public key), or empty
    /// for a verify-only key.
    let secret: [UInt8]
    /// EdDSA: the 32-byte public key, to hand to other services. HS256: empty.
    public let publicKey: [UInt8]

    private init(kid: String?, algorithm: JWTAlgorithm, secret: [UInt8], publicKey: [UInt8]) throws {
        if let kid, kid.isEmpty { throw JWTError.invalidKey("kid must not be empty") }
        self.kid = kid
        self.algorithm = algorithm
        self.secret = secret
        self.publicKey = publicKey
    }

    /// An HS256 key; throws `invalidKey` for a secret shorter than 32 bytes.
    public static func hs256(secret: [UInt8], kid: String? = nil) throws -> JWTKey {
        guard secret.count >= minimumHS256SecretBytes else {
            throw JWTError.invalidKey("HS256 secret must be at least 32 bytes")
        }
        return try JWTKey(kid: kid, algorithm: .hs256, secret: secret, publicKey: [])
    }

    /// An Ed25519 signing key from a 32-byte seed or libsodium's 64-byte secret key (seed + public key;
    /// the public half must match the seed).
    public static func ed25519(privateKey: [UInt8], kid: String? = nil) throws -> JWTKey {
        let seedBytes = Int(crypto_sign_seedbytes())
        guard privateKey.count == seedBytes || privateKey.count == Int(crypto_sign_secretkeybytes()) else {
            throw JWTError.invalidKey("Ed25519 private key must be a 32-byte seed or a 64-byte secret key")
        }
        SodiumRuntime.ensureInitialized()
        var pk = [UInt8](repeating: 0, count: Int(crypto_sign_publickeybytes()))
        var sk = [UInt8](repeating: 0, count: Int(crypto_sign_secretkeybytes()))
        let seed = Array(privateKey.prefix(seedBytes))
        guard crypto_sign_seed_keypair(&pk, &sk, seed) == 0 else {
            throw JWTError.invalidKey("Ed25519 key derivation failed")
        }
        if privateKey.count > seedBytes, !constantTimeEquals(Array(privateKey.suffix(pk.count)), pk) {
            throw JWTError.invalidKey("Ed25519 secret key's public half does not match its seed")
        }
        return try JWTKey(kid: kid, algorithm: .edDSA, secret: sk, publicKey: pk)
    }

    /// A verify-only Ed25519 key from a 32-byte public key.
    public static func ed25519(publicKey: [UInt8], kid: String? = nil) throws -> JWTKey {
        guard publicKey.count == Int(crypto_sign_publickeybytes()) else {
            throw JWTError.invalidKey("Ed25519 public key must be 32 bytes")
        }
        return try JWTKey(kid: kid, algorithm: .edDSA, secret: [], publicKey: publicKey)
    }

    /// Whether this key holds what signing needs.
    public var canSign: Bool { !secret.isEmpty }

    /// Whether two keys verify the same tokens (same kid, algorithm and verifying material).
    func verifiesLike(_ other: JWTKey) -> Bool {
        guard kid == other.kid, algorithm == other.algorithm else { return false }
        switch algorithm {
        case .hs256: return constantTimeEquals(secret, other.secret)
        case .edDSA: return publicKey == other.publicKey
        }
    }

    public var description: String { "JWTKey(kid: \(kid ?? "none"), algorithm: \(algorithm.rawValue))" }
    public var customMirror: Mirror { Mirror(self, children: ["kid": kid as Any, "algorithm": algorithm]) }
}
