import Web

struct HealthStatus: SchemaEncodable {
    let status: String
    static let schema = ObjectSchema<HealthStatus>("HealthStatus") {
        Field("status", \.status, .string(), example: "ok")
    }
}

struct ReadinessStatus: SchemaEncodable {
    let status: String
    let database: String
    static let schema = ObjectSchema<ReadinessStatus>("ReadinessStatus") {
        Field("status", \.status, .string(), example: "ok")
        Field("database", \.database, .string(), example: "ok")
    }
}
