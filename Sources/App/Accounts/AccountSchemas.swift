import Web

struct PasswordRecoveryRequest: SchemaDecodable {
    let email: String

    init(_ v: Validated<PasswordRecoveryRequest>) { email = v[\.email] }

    static let schema = ObjectSchema<PasswordRecoveryRequest>("PasswordRecoveryRequest") {
        Field("email", \.email, .email(maxLength: 254), example: "ada@example.com")
    }
}

struct ResetPasswordRequest: SchemaDecodable {
    let token: String
    let newPassword: String

    init(_ v: Validated<ResetPasswordRequest>) {
        token = v[\.token]
        newPassword = v[\.newPassword]
    }

    static let schema = ObjectSchema<ResetPasswordRequest>("ResetPasswordRequest") {
        Field("token", \.token, .string(min: 1, max: 128), secret: true)
        Field("new_password", \.newPassword, .string(min: 8, max: 128), secret: true)
    }
}

struct VerifyEmailRequest: SchemaDecodable {
    let token: String

    init(_ v: Validated<VerifyEmailRequest>) { token = v[\.token] }

    static let schema = ObjectSchema<VerifyEmailRequest>("VerifyEmailRequest") {
        Field("token", \.token, .string(min: 1, max: 128), secret: true)
    }
}

/// The 202 of a request that queued a mail (or, for an unknown address, did the same work without one).
struct MailAccepted: SchemaEncodable {
    let detail: String

    static let schema = ObjectSchema<MailAccepted>("MailAccepted") {
        Field("detail", \.detail, .string(), example: "If that email is registered, we sent a password recovery link")
    }
}
