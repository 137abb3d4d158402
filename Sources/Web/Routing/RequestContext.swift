import Logging

/// The per-request values handlers get, defined by the app (request id, logger, and whatever else it
/// needs: clock, configuration, the authenticated user, a database connection). The application makes
/// one per request with the closure it was given, after the request id is known.
public protocol RequestContext {
    var requestID: String { get }
    /// A logger whose metadata carries `request_id`.
    var logger: Logger { get }
}

/// A minimal context, enough for apps and tests that need nothing else.
public struct BasicRequestContext: RequestContext {
    public var requestID: String
    public var logger: Logger
    public init(requestID: String, logger: Logger) {
        self.requestID = requestID
        self.logger = logger
    }
}
