import CSodium

// The two signature primitives, on libsodium.
extension JWTKey {
    /// The JWS signature of `message`. Only called on keys that `canSign`.
    func signature(for message: [UInt8]) -> [UInt8] {
        switch algorithm {
        case .hs256:
            return Self.hmacSHA256(key: secret, message: message)
        case .edDSA:
            var signature = [UInt8](repeating: 0, count: Int(crypto_sign_bytes()))
            _ = crypto_sign_detached(&signature, nil, message, UInt64(message.count), secret)
            return signature
        }
    }

    /// Whether `signature` is this key's signature of `message`, checked in constant time.
    func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        switch algorithm {
        case .hs256:
            return constantTimeEquals(Self.hmacSHA256(key: secret, message: message), signature)
        case .edDSA:
            guard signature.count == Int(crypto_sign_bytes()) else { return false }
            return crypto_sign_verify_detached(signature, message, UInt64(message.count), publicKey) == 0
        }
    }

    /// HMAC-SHA-256 through the init/update/final API, because `crypto_auth_hmacsha256` and its
    /// `_verify` take exactly 32-byte keys while we accept longer secrets too (RFC 7518 allows them).
    static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        SodiumRuntime.ensureInitialized()
        var state = crypto_auth_hmacsha256_state()
        var mac = [UInt8](repeating: 0, count: Int(crypto_auth_hmacsha256_bytes()))
        _ = crypto_auth_hmacsha256_init(&state, key, key.count)
        _ = crypto_auth_hmacsha256_update(&state, message, UInt64(message.count))
        _ = crypto_auth_hmacsha256_final(&state, &mac)
        return mac
    }
}
