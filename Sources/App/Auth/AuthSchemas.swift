import Web

/// The token pair login and refresh answer with.
struct Token: SchemaEncodable {
    let accessToken: String
    let tokenType: String
    let expiresIn: Int
    let refreshToken: String
    /// The granted permissions, space-separated (OAuth2's `scope`).
    let scope: String

    static let schema = ObjectSchema<Token>("Token") {
        Field("access_token", \.accessToken, .string())
        Field("token_type", \.tokenType, .string(), example: "bearer")
        Field("expires_in", \.expiresIn, .int(), example: 900)
        Field("refresh_token", \.refreshToken, .string())
        Field("scope", \.scope, .string(), description: "The granted permissions, space-separated", example: "posts:write")
    }
}

struct RefreshRequest: SchemaDecodable {
    let refreshToken: String

    init(_ v: Validated<RefreshRequest>) { refreshToken = v[\.refreshToken] }

    static let schema = ObjectSchema<RefreshRequest>("RefreshRequest") {
        Field("refresh_token", \.refreshToken, .string(min: 1, max: 512), secret: true)
    }
}

/// OAuth2's password flow form (as FastAPI's OAuth2PasswordRequestForm).
struct LoginForm: SchemaDecodable {
    let username: String
    let password: String
    let grantType: String?
    let scope: String?

    init(_ v: Validated<LoginForm>) {
        username = v[\.username]
        password = v[\.password]
        grantType = v[\.grantType]
        scope = v[\.scope]
    }

    static let schema = ObjectSchema<LoginForm>("Body_login", forbidExtra: false) {
        Field("username", \.username, .string(), description: "The email address")
        Field("password", \.password, .string(), secret: true)
        OptionalField("grant_type", \.grantType, .string(pattern: "^password$"))
        OptionalField(
            "scope", \.scope, .string(max: 1000),
            description: "Space-separated permissions to ask for (fewer than the user has); all of them when absent")
    }
}
