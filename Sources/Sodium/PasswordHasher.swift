import CSodium

/// Argon2id password hashing on libsodium's `crypto_pwhash_str` family.
///
/// The hash string is self-describing (`$argon2id$v=19$m=...,t=...,p=1$salt$hash`), so hashes made with
/// other limits still verify; `needsRehash` tells when a stored hash is weaker than this configuration.
/// The initialiser computes one dummy hash with the same limits, so `verifyDummy` costs what a real
/// verification costs and a login for an unknown email takes the same time as a wrong password.
public struct PasswordHasher: Sendable {
    /// libsodium's INTERACTIVE limits (2 passes, 64 MiB): the default.
    public static let interactiveOpsLimit = Int(crypto_pwhash_opslimit_interactive())
    public static let interactiveMemLimit = Int(crypto_pwhash_memlimit_interactive())
    /// The smallest limits libsodium accepts (1 pass, 8 KiB): only for tests.
    public static let minimumOpsLimit = Int(crypto_pwhash_opslimit_min())
    public static let minimumMemLimit = Int(crypto_pwhash_memlimit_min())

    public let opsLimit: Int
    public let memLimit: Int
    private let dummyHash: String

    /// Throws `PasswordHasherError.invalidLimits` for limits libsodium refuses.
    public init(
        opsLimit: Int = PasswordHasher.interactiveOpsLimit,
        memLimit: Int = PasswordHasher.interactiveMemLimit
    ) throws {
        SodiumRuntime.ensureInitialized()
        guard opsLimit >= Self.minimumOpsLimit, opsLimit <= Int(crypto_pwhash_opslimit_max()),
            memLimit >= Self.minimumMemLimit, memLimit <= Int(crypto_pwhash_memlimit_max())
        else { throw PasswordHasherError.invalidLimits }
        self.opsLimit = opsLimit
        self.memLimit = memLimit
        // A random password nobody knows: verifying against it always fails, at full cost.
        self.dummyHash = try Self.argon2id(SecureRandom.token(), opsLimit: opsLimit, memLimit: memLimit)
    }

    /// A new salted Argon2id hash string of `password`.
    public func hash(_ password: String) throws -> String {
        try Self.argon2id(password, opsLimit: opsLimit, memLimit: memLimit)
    }

    private static func argon2id(_ password: String, opsLimit: Int, memLimit: Int) throws -> String {
        var out = [CChar](repeating: 0, count: Int(crypto_pwhash_strbytes()))
        let status = password.withCString { bytes in
            crypto_pwhash_str(&out, bytes, UInt64(password.utf8.count), UInt64(opsLimit), memLimit)
        }
        guard status == 0 else { throw PasswordHasherError.hashingFailed }
        return String(cString: out)
    }

    /// True when `password` matches `hash`. A malformed hash is simply a mismatch.
    public func verify(_ password: String, against hash: String) -> Bool {
        guard Self.fits(hash) else { return false }
        return hash.withCString { stored in
            password.withCString { bytes in
                crypto_pwhash_str_verify(stored, bytes, UInt64(password.utf8.count)) == 0
            }
        }
    }

    /// True when `hash` was made with other limits (or another algorithm) than this configuration, or is
    /// malformed: after a successful login the caller should store `hash(password)` instead.
    public func needsRehash(_ hash: String) -> Bool {
        guard Self.fits(hash) else { return true }
        return hash.withCString { stored in
            crypto_pwhash_str_needs_rehash(stored, UInt64(opsLimit), memLimit) != 0
        }
    }

    /// Spends the time of one verification and returns false: call it when the account does not exist.
    public func verifyDummy(_ password: String) -> Bool {
        _ = verify(password, against: dummyHash)
        return false
    }

    /// libsodium reads the hash as a C string of at most `crypto_pwhash_STRBYTES` bytes with its NUL.
    private static func fits(_ hash: String) -> Bool {
        let length = hash.utf8.count
        return length > 0 && length < Int(crypto_pwhash_strbytes()) && !hash.utf8.contains(0)
    }
}

public enum PasswordHasherError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The ops or memory limit is outside what libsodium accepts.
    case invalidLimits
    /// libsodium could not hash (in practice: not enough memory for the memory limit).
    case hashingFailed

    public var description: String {
        switch self {
        case .invalidLimits: return "password hashing limits are outside libsodium's accepted range"
        case .hashingFailed: return "password hashing failed (out of memory?)"
        }
    }
}
