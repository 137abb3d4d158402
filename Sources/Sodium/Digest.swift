import CSodium

/// SHA-256 (libsodium's `crypto_hash_sha256`). Used to store refresh tokens as hashes: the tokens are
/// 256 random bits, so a fast unsalted hash is enough and lets the database look them up by value.
public func sha256(_ bytes: [UInt8]) -> [UInt8] {
    SodiumRuntime.ensureInitialized()
    var digest = [UInt8](repeating: 0, count: Int(crypto_hash_sha256_bytes()))
    bytes.withUnsafeBufferPointer { input in
        _ = crypto_hash_sha256(&digest, input.baseAddress, UInt64(input.count))
    }
    return digest
}

/// SHA-256 of the UTF-8 bytes of `text`.
public func sha256(_ text: String) -> [UInt8] {
    sha256(Array(text.utf8))
}
