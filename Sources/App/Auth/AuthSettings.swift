import Glibc
import Sodium

/// Token, password and throttle settings (README, "Configuration"). Keys come from the environment or
/// files it names, never from the repository; outside development a signing key is required.
public struct AuthSettings {
    public var signer: JWTSigner
    public var accessTokenLifetime: Int = 15 * 60
    public var refreshTokenLifetime: Int = 7 * 24 * 3600
    /// A session ends this long after login, however often it is refreshed.
    public var sessionMaxAge: Int = 30 * 24 * 3600
    public var hasher: PasswordHasher
    public var loginMaxFailures: Int = 5
    public var loginWindow: Int = 15 * 60
    /// Failures on one account from all clients together, per window (see `LoginThrottle`).
    public var loginAccountMaxFailures: Int = 50
    /// Password hashes at once per host, and how long a request waits for a turn (see `Passwords`).
    public var hashConcurrency: Int = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    public var hashWaitMillis: Int = 1000

    static func load(_ reader: inout ConfigReader, mode: AppConfiguration.Mode) -> AuthSettings? {
        let algorithmName = reader.string("PERCH_JWT_ALGORITHM") ?? "HS256"
        guard let algorithm = JWTAlgorithm(rawValue: algorithmName) else {
            reader.problem("PERCH_JWT_ALGORITHM: \"\(algorithmName)\" is not HS256 or EdDSA")
            return nil
        }
        let kid = reader.string("PERCH_JWT_KID")
        var signingKey: JWTKey?
        if let text = reader.secret("PERCH_JWT_SIGNING_KEY") {
            do {
                let bytes = try JWTKeyGenerator.decode(text)
                signingKey = algorithm == .hs256 ? try JWTKey.hs256(secret: bytes, kid: kid) : try JWTKey.ed25519(privateKey: bytes, kid: kid)
            } catch {
                reader.problem("PERCH_JWT_SIGNING_KEY: \(error) (make one with `perch generate-key`)")
            }
        } else if mode == .development {
            signingKey = try? JWTKey.hs256(secret: JWTKeyGenerator.hs256Secret(), kid: kid)  // dies with the process
            if algorithm != .hs256 { reader.problem("PERCH_JWT_SIGNING_KEY: required for EdDSA") }
        } else {
            reader.problem("PERCH_JWT_SIGNING_KEY (or PERCH_JWT_SIGNING_KEY_FILE): required outside development (make one with `perch generate-key`)")
        }
        // Older keys that still verify, as kid=key pairs: "k1=base64url,k0=base64url".
        var verificationKeys: [JWTKey] = []
        for entry in reader.list("PERCH_JWT_VERIFICATION_KEYS") {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            do {
                guard parts.count == 2 else { throw JWTError.invalidKey("expected kid=key") }
                let bytes = try JWTKeyGenerator.decode(parts[1])
                verificationKeys.append(
                    algorithm == .hs256
                        ? try JWTKey.hs256(secret: bytes, kid: parts[0])
                        : try JWTKey.ed25519(publicKey: bytes, kid: parts[0]))
            } catch {
                reader.problem("PERCH_JWT_VERIFICATION_KEYS: entry \"\(parts.first ?? "")\": \(error)")
            }
        }
        let leeway = reader.int("PERCH_JWT_LEEWAY", default: 30, in: 0...3600)
        let access = reader.int("PERCH_ACCESS_TOKEN_TTL", default: 15 * 60, in: 30...86_400)
        let refresh = reader.int("PERCH_REFRESH_TOKEN_TTL", default: 7 * 24 * 3600, in: 60...(365 * 24 * 3600))
        let maxAge = reader.int("PERCH_SESSION_MAX_AGE", default: 30 * 24 * 3600, in: 60...(3650 * 24 * 3600))
        let ops = reader.int("PERCH_ARGON2_OPSLIMIT", default: PasswordHasher.interactiveOpsLimit, in: PasswordHasher.minimumOpsLimit...64)
        let mem = reader.int("PERCH_ARGON2_MEMLIMIT", default: PasswordHasher.interactiveMemLimit, in: PasswordHasher.minimumMemLimit...(4 << 30))
        let failures = reader.int("PERCH_LOGIN_MAX_FAILURES", default: 5, in: 1...1000)
        let window = reader.int("PERCH_LOGIN_WINDOW", default: 15 * 60, in: 1...86_400)
        let accountFailures = reader.int("PERCH_LOGIN_ACCOUNT_MAX_FAILURES", default: 50, in: 1...100_000)
        let hashConcurrency = reader.int("PERCH_HASH_CONCURRENCY", default: max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))), in: 1...1024)
        let hashWait = reader.int("PERCH_HASH_WAIT", default: 1000, in: 0...60_000)
        guard let signingKey else { return nil }
        do {
            let signer = try JWTSigner(
                algorithm: algorithm, signingKey: signingKey, verificationKeys: verificationKeys,
                issuer: reader.string("PERCH_JWT_ISSUER"), audience: reader.string("PERCH_JWT_AUDIENCE"), leeway: leeway)
            var settings = AuthSettings(signer: signer, hasher: try PasswordHasher(opsLimit: ops, memLimit: mem))
            settings.accessTokenLifetime = access
            settings.refreshTokenLifetime = refresh
            settings.sessionMaxAge = maxAge
            settings.loginMaxFailures = failures
            settings.loginWindow = window
            settings.loginAccountMaxFailures = accountFailures
            settings.hashConcurrency = hashConcurrency
            settings.hashWaitMillis = hashWait
            return settings
        } catch {
            reader.problem("JWT/Argon2 settings: \(error)")
            return nil
        }
    }
}
