import Logging
import Web

/// The app: every controller's routes on one router, behind the web layer's middleware.
public enum PerchApp {
    public static func makeApplication(services: AppServices, logger: Logger) -> Application<AppContext> {
        let router = Router<AppContext>()
        HealthController().register(on: router)
        AuthController().register(on: router)
        AccountController().register(on: router)
        UserController().register(on: router)
        SessionController().register(on: router)
        PostController().register(on: router)
        RoleController().register(on: router)
        var web = services.config.web
        web.openAPI = OpenAPIInfo(
            title: "perch", version: PerchVersion.current,
            description: "A JSON API served as a pre-forked FastCGI pool behind nginx.",
            scopes: Permission.allCases.map { ($0.rawValue, $0.summary) })
        return Application(
            router: router, configuration: web, logger: logger,
            middleware: (services.rateLimits.map {
                [RateLimitMiddleware(table: $0.table, settings: services.config.rateLimits, epoch: $0.epoch)]
            } ?? []) + [DatabaseErrorMiddleware()]
        ) { _, requestID, requestLogger in
            AppContext(requestID: requestID, logger: requestLogger, services: services, now: services.clock())
        }
    }
}
