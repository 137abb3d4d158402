import FoundationEssentials
import Web

/// What the API shows of a user: never the hash.
public struct UserPublic: SchemaEncodable {
    let id: Int64
    let email: String
    let fullName: String?
    let isActive: Bool
    let isSuperuser: Bool
    let emailVerified: Bool
    let createdAt: Date
    let updatedAt: Date

    init(_ user: User) {
        id = user.id
        email = user.email
        fullName = user.fullName
        isActive = user.isActive
        isSuperuser = user.isSuperuser
        emailVerified = user.emailVerified
        createdAt = user.createdAt
        updatedAt = user.updatedAt
    }

    public static let schema = ObjectSchema<UserPublic>("UserPublic") {
        Field("id", \.id, .id, example: 1)
        Field("email", \.email, .email(maxLength: 254), example: "ada@example.com")
        OptionalField("full_name", \.fullName, .string(max: 100), required: true, example: "Ada Lovelace")
        Field("is_active", \.isActive, .bool)
        Field("is_superuser", \.isSuperuser, .bool)
        Field("email_verified", \.emailVerified, .bool)
        Field("created_at", \.createdAt, .dateTime)
        Field("updated_at", \.updatedAt, .dateTime)
    }
}

/// Sign-up body.
struct UserCreate: SchemaDecodable {
    let email: String
    let password: String
    let fullName: String?

    init(_ v: Validated<UserCreate>) {
        email = v[\.email]
        password = v[\.password]
        fullName = v[\.fullName]
    }

    static let schema = ObjectSchema<UserCreate>("UserCreate") {
        Field("email", \.email, .email(maxLength: 254), example: "ada@example.com")
        Field("password", \.password, .string(min: 8, max: 128), secret: true)
        OptionalField("full_name", \.fullName, .string(max: 100), example: "Ada Lovelace")
    }
}

/// A user's own PATCH: absent fields stay; `full_name: null` clears the name; `email: null` changes nothing.
struct UserUpdateMe: SchemaDecodable {
    let email: String?
    let fullName: String?
    let fullNameGiven: Bool

    init(_ v: Validated<UserUpdateMe>) {
        email = v[\.email]
        fullName = v[\.fullName]
        fullNameGiven = v.isPresent("full_name")
    }

    static let schema = ObjectSchema<UserUpdateMe>("UserUpdateMe") {
        OptionalField("email", \.email, .email(maxLength: 254))
        OptionalField("full_name", \.fullName, .string(max: 100))
    }
}

struct UpdatePassword: SchemaDecodable {
    let currentPassword: String
    let newPassword: String

    init(_ v: Validated<UpdatePassword>) {
        currentPassword = v[\.currentPassword]
        newPassword = v[\.newPassword]
    }

    static let schema = ObjectSchema<UpdatePassword>("UpdatePassword") {
        Field("current_password", \.currentPassword, .string(min: 1, max: 128), secret: true)
        Field("new_password", \.newPassword, .string(min: 8, max: 128), secret: true)
    }
}

/// A superuser's PATCH of any user.
struct UserUpdate: SchemaDecodable {
    let email: String?
    let fullName: String?
    let fullNameGiven: Bool
    let password: String?
    let isActive: Bool?
    let isSuperuser: Bool?

    init(_ v: Validated<UserUpdate>) {
        email = v[\.email]
        fullName = v[\.fullName]
        fullNameGiven = v.isPresent("full_name")
        password = v[\.password]
        isActive = v[\.isActive]
        isSuperuser = v[\.isSuperuser]
    }

    static let schema = ObjectSchema<UserUpdate>("UserUpdate") {
        OptionalField("email", \.email, .email(maxLength: 254))
        OptionalField("full_name", \.fullName, .string(max: 100))
        OptionalField("password", \.password, .string(min: 8, max: 128), secret: true)
        OptionalField("is_active", \.isActive, .bool)
        OptionalField("is_superuser", \.isSuperuser, .bool)
    }
}

/// A page of users, newest first.
struct UserPage: SchemaEncodable {
    let items: [UserPublic]
    let nextCursor: String?

    static let schema = ObjectSchema<UserPage>("UserPage") {
        Field("items", \.items, .array(.object(UserPublic.self)))
        OptionalField("next_cursor", \.nextCursor, .string(), required: true)
    }
}
