import FoundationEssentials
import MariaDB
import Sodium
import Web

/// `perch create-superuser`: the first superuser, from the command line.
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
        let users = UserRepository(db)
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
}
