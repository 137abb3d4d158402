import Sodium

/// `perch generate-key`: a new JWT signing key as configuration lines.
public enum SigningKeys {
    /// The lines for an algorithm named as in `PERCH_JWT_ALGORITHM`; nil for an unknown name.
    public static func configurationLines(algorithmName: String) -> [String]? {
        JWTAlgorithm(rawValue: algorithmName).map(configurationLines(algorithm:))
    }

    /// Configuration lines for a new signing key (and, for EdDSA, the public key verifiers need).
    public static func configurationLines(algorithm: JWTAlgorithm) -> [String] {
        switch algorithm {
        case .hs256:
            return ["PERCH_JWT_ALGORITHM=HS256", "PERCH_JWT_SIGNING_KEY=\(JWTKeyGenerator.encode(JWTKeyGenerator.hs256Secret()))"]
        case .edDSA:
            let pair = JWTKeyGenerator.ed25519()
            return [
                "PERCH_JWT_ALGORITHM=EdDSA", "PERCH_JWT_SIGNING_KEY=\(JWTKeyGenerator.encode(pair.secretKey))",
                "# public key for other services that verify the tokens (perch itself does not read it):",
                "PERCH_JWT_PUBLIC_KEY=\(JWTKeyGenerator.encode(pair.publicKey))"
            ]
        }
    }
}
