import FastCGI
import Foundation
import Logging

/// Wires configuration, logging and the request handler into the pool. Used by `perch serve`.
public enum Service {
    public static func bootstrapLogging(level: Logger.Level) {
        LoggingSystem.bootstrap { LogLine(label: $0, level: level) }
    }

    public static func serve() throws -> Int32 {
        let config = try AppConfiguration.fromProcess()
        bootstrapLogging(level: config.logLevel)
        let logger = Logger(label: "perch")
        return try Pool.run(config: config.pool, logger: logger) {
            try HTTPBridge(config: config, logger: logger)
        }
    }
}

/// Turns each FastCGI request into a response. Built once per worker, after fork.
final class HTTPBridge: FastCGIHandler {
    init(config: AppConfiguration, logger: Logger) throws {}

    func respond(to request: FastCGIRequest) -> FastCGIResponse {
        let path = (request.params["REQUEST_URI"] ?? "/").split(separator: "?").first.map(String.init) ?? "/"
        if request.bodyTooLarge {
            return json(413, "Content Too Large", #"{"detail":"Request body too large"}"#)
        }
        if path == "/api/v1/health" { return json(200, "OK", #"{"status":"ok"}"#) }
        return json(404, "Not Found", #"{"detail":"Not Found"}"#)
    }

    private func json(_ status: Int, _ reason: String, _ body: String) -> FastCGIResponse {
        FastCGIResponse(status: status, reason: reason,
                        headers: [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", "\(body.utf8.count)")],
                        body: Array(body.utf8))
    }
}
