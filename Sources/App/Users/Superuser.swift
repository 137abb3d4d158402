import FoundationEssentials
import MariaDB
import Sodium
import Web

/// `perch create-superuser`: the first superuser, from the command line.
public enum Superuser {
    /// Creates a superuser. An existing account with that email is promoted only when `promoteExisting` says
    /// so: anyone can sign up with an address, and a promotion must not hand an account's existing tokens
    /// superuser rights, so the promoted account gets the new password and every session of it ends.
    /// The password comes from the caller (stdin or a prompt), never from an argument.
    public static func create(
        email: String, password: String, promoteExisting: Bool = false, config: AppConfiguration,
        now: Date = Date()
    ) throws -> String {
        guard let database = config.database else { throw AppConfigurationError(problems: ["PERCH_DATABASE_URL: required"]) }
        // The sign-up rules apply here too.
        do {
            _ = try UserCreate.schema.decode(json: ["email": .string(email), "password": .string(password)])
        } catch let error as ValidationError {
            throw AppConfigurationError(problems: error.issues.map { "\($0.loc.last.map { "\($0)" } ?? ""): \($0.msg)" })
        }
        let db = Connection(configuration: database)
        defer { db.close() }
        let users = UserRepository(db)
        if let existing = try users.find(email: email), !promoteExisting {
            throw AppConfigurationError(problems: [
                "an account with this email exists (user \(existing.id)); to make it a superuser, run again with --promote-existing (its password is replaced and its sessions end)"
            ])
        }
        let hash = try config.auth.hasher.hash(password)
        return try db.transaction {
            if let user = try users.find(email: email) {
                guard try users.setPassword(id: user.id, hashedPassword: hash, ifCurrent: user.hashedPassword, now: now) else {
                    throw AppConfigurationError(problems: ["the account changed meanwhile; run again"])
                }
                _ = try users.update(id: user.id, UserChanges(isActive: true, isSuperuser: true), now: now)
                try AuthRepository(db).revokeAll(userID: user.id, now: now)
                return "promoted user \(user.id) to superuser; its sessions ended"
            }
            let user = try users.create(email: email, hashedPassword: hash, fullName: nil, isSuperuser: true, emailVerified: true, now: now)
            return "created superuser \(user.id)"
        }
    }
}
