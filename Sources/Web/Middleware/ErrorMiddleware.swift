import Logging

/// Errors are values: an HTTPError or ValidationError becomes its answer; anything else is logged with
/// the request id and answered with exactly `{"detail":"Internal Server Error"}`.
public struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}
    public func handle(_ request: Request, context: Context, next: Responder<Context>) throws -> Response {
        do {
            return try next(request, context)
        } catch let e as HTTPError {
            return e.response
        } catch let e as ValidationError {
            return e.response
        } catch {
            context.logger.error(
                "unhandled error",
                metadata: [
                    "error": "\(String(reflecting: error))",
                    "method": "\(request.method.rawValue)",
                    "path": "\(request.path)"
                ])
            return HTTPError.internalServerError.response
        }
    }
}
