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

/// Liveness (no database) and readiness (the database answers within a short timeout).
struct HealthController {
    func register(on router: Router<AppContext>) {
        let health = router.group("/api/v1/health", tags: ["health"])
        let ok = Response.json(HealthStatus(status: "ok"))  // the same bytes every time: encode once
        health.get("", RouteDoc(summary: "Liveness: the worker answers", description: "Touches no database.",
                                responses: [.json(.ok, HealthStatus.self)])) { _, _ in ok }
        health.get("/ready", RouteDoc(summary: "Readiness: the database answers",
                                      responses: [.json(.ok, ReadinessStatus.self), .error(.serviceUnavailable, "The database does not answer")])) { _, context in
            guard let database = context.services.optionalDatabase, database.ping(timeout: 2) else {
                throw HTTPError(.serviceUnavailable, detail: "Database unavailable")
            }
            return .json(ReadinessStatus(status: "ok", database: "ok"))
        }
    }
}
