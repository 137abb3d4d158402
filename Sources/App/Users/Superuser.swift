import FoundationEssentials
import MariaDB
import Sodium
import Web

/// The command line's account and key tools (`perch create-superuser`, `perch generate-key`).
public enum Superuser {
    /// Creates a superuser, or promotes and re-passwords an existing account with that email.
    /// The password comes from the caller (stdin or a prompt), never from an argument.
    public static func create(email: String, password: String, config: AppConfiguration, now: Date = Date()) throws -> String {
        guard let database = config.database else { throw AppConfigurationError(problems: ["PERCH_DATABASE_URL: required"]) }
        // The sign-up rules apply here too.
        do {
            _ = try UserCreate.schema.decode(json: ["email": .string(email), "password": .string(password)])
        } catch let error as ValidationError {
            throw AppConfigurationError(problems: error.issues.map { "\($0.loc.last.map { "\($0)" } ?? ""): \($0.msg)" })
        }
        let db = Connection(configuration: database)
        defer { db.close() }
        let hash = try config.auth.hasher.hash(password)
        let users = UsersRepository(db)
        return try db.transaction {
            if var user = try users.find(email: email) {
                user.isSuperuser = true
                user.isActive = true
                user.hashedPassword = hash
                _ = try users.update(user, now: now)
                return "promoted user \(user.id) to superuser"
            }
            let user = try users.create(email: email, hashedPassword: hash, fullName: nil, isSuperuser: true, now: now)
            return "created superuser \(user.id)"
        }
    }

    /// Configuration lines for a new signing key (and, for EdDSA, the public key verifiers need).
    public static func generateKeyLines(algorithm: JWTAlgorithm) -> [String] {
        switch algorithm {
        case .hs256:
            return ["PERCH_JWT_ALGORITHM=HS256", "PERCH_JWT_SIGNING_KEY=\(JWTKeyGenerator.encode(JWTKeyGenerator.hs256Secret()))"]
        case .edDSA:
            let pair = JWTKeyGenerator.ed25519()
            return ["PERCH_JWT_ALGORITHM=EdDSA", "PERCH_JWT_SIGNING_KEY=\(JWTKeyGenerator.encode(pair.secretKey))",
                    "# public key for other services that verify the tokens (perch itself does not read it):", "PERCH_JWT_PUBLIC_KEY=\(JWTKeyGenerator.encode(pair.publicKey))"]
        }
    }
}
