/// The rest of the chain after a middleware.
public typealias Responder<Context> = (Request, Context) throws -> Response

/// A step around the handler: may answer itself, change the request or context, or change the response.
public protocol RouterMiddleware<Context> {
    associatedtype Context
    func handle(_ request: Request, context: Context, next: Responder<Context>) throws -> Response
}

/// A middleware from a closure.
public struct ClosureMiddleware<Context>: RouterMiddleware {
    let body: (Request, Context, Responder<Context>) throws -> Response
    public init(_ body: @escaping (Request, Context, Responder<Context>) throws -> Response) { self.body = body }
    public func handle(_ request: Request, context: Context, next: Responder<Context>) throws -> Response {
        try body(request, context, next)
    }
}

/// Wraps `responder` so the first middleware in the list runs first.
func chain<Context>(_ middleware: [any RouterMiddleware<Context>], _ responder: @escaping Responder<Context>) -> Responder<Context> {
    middleware.reversed().reduce(responder) { next, mw in
        { request, context in try mw.handle(request, context: context, next: next) }
    }
}
