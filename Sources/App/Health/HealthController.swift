import Web

/// Liveness (no database) and readiness (the database answers within a short timeout).
struct HealthController {
    func register(on router: Router<AppContext>) {
        let health = router.group("/api/v1/health", tags: ["health"])
        health.get(
            "",
            RouteDoc(
                summary: "Liveness: the worker answers", description: "Touches no database.",
                responses: [.json(.ok, HealthStatus.self)]), use: live)
        health.get(
            "/ready",
            RouteDoc(
                summary: "Readiness: the database answers",
                responses: [.json(.ok, ReadinessStatus.self), .error(.serviceUnavailable, "The database does not answer")]),
            use: ready)
    }

    /// The same bytes every time: encoded once.
    private let ok = Response.json(HealthStatus(status: "ok"))

    func live(_ request: Request, _ context: AppContext) -> Response { ok }

    func ready(_ request: Request, _ context: AppContext) throws -> Response {
        guard let database = context.services.optionalDatabase, database.ping(timeout: 2) else {
            throw HTTPError(.serviceUnavailable, detail: "Database unavailable")
        }
        return .json(ReadinessStatus(status: "ok", database: "ok"))
    }
}
