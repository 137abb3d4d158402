import FastCGI
import Glibc
import HTTPTypes
import Logging
import MariaDB
import Web

/// Turns each FastCGI request into the web layer's `Request` and its `Response` back into CGI output.
/// One per worker, built after fork.
final class HTTPBridge: FastCGIHandler {
    private let application: Application<AppContext>
    private let bodyLimit: Int

    init(application: Application<AppContext>, bodyLimit: Int) {
        self.application = application
        self.bodyLimit = bodyLimit
    }

    func respond(to fastCGI: FastCGIRequest) -> FastCGIResponse {
        var request = Self.request(from: fastCGI, bodyLimit: bodyLimit)
        // Settle the request id here, so the pool's scoreboard and the app's logs name the same one.
        let id = RequestID.resolve(request)
        request.head.headerFields[.xRequestID] = id
        fastCGI.reportRequestID(id)
        return Self.fastCGIResponse(application.respond(to: request, requestID: id))
    }

    static func request(from fastCGI: FastCGIRequest, bodyLimit: Int) -> Request {
        let params = fastCGI.params
        let headers = params.headerFields
        var fields = HTTPFields()
        fields.reserveCapacity(headers.count + 3)  // + content type, length and request id
        for (name, value) in headers {
            if let fieldName = HTTPField.Name(name) { fields.append(HTTPField(name: fieldName, value: value)) }
        }
        if let type = params["CONTENT_TYPE"], !type.isEmpty { fields[.contentType] = type }
        if let length = params["CONTENT_LENGTH"], !length.isEmpty { fields[.contentLength] = length }
        if fastCGI.bodyTooLarge, (Int(fields[.contentLength] ?? "") ?? 0) <= bodyLimit {
            fields[.contentLength] = "\(bodyLimit + 1)"  // the pool stopped reading: make the 413 certain
        }
        let method = HTTPRequest.Method(params["REQUEST_METHOD"] ?? "GET") ?? .get
        return Request(method: method, uri: uri(params), headerFields: fields, body: fastCGI.body,
                       remoteAddress: params["REMOTE_ADDR"] ?? "")
    }

    /// REQUEST_URI as nginx sends it; plain CGI servers may only give SCRIPT_NAME, PATH_INFO and QUERY_STRING.
    private static func uri(_ params: CGIParams) -> String {
        if let uri = params["REQUEST_URI"], uri.hasPrefix("/") { return uri }
        let path = (params["SCRIPT_NAME"] ?? "") + (params["PATH_INFO"] ?? "")
        let query = params["QUERY_STRING"] ?? ""
        return (path.isEmpty ? "/" : path) + (query.isEmpty ? "" : "?" + query)
    }

    static func fastCGIResponse(_ response: Response) -> FastCGIResponse {
        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(response.headerFields.count + 1)
        for field in response.headerFields { headers.append((field.name.rawName, field.value)) }
        if response.headerFields[.contentLength] == nil {
            headers.append((name: "Content-Length", value: "\(response.body.count)"))
        }
        return FastCGIResponse(status: response.status.code, reason: response.status.reasonPhrase, headers: headers, body: response.body)
    }
}

/// `perch serve`: configuration, logging and the app, wired into the pool.
public enum Service {
    public static func bootstrapLogging(level: Logger.Level) {
        LoggingSystem.bootstrap { LogLine(label: $0, level: level) }
    }

    public static func serve() throws -> Int32 {
        let config = try AppConfiguration.fromProcess()
        bootstrapLogging(level: config.logLevel)
        let logger = Logger(label: "perch")
        do {
            return try Pool.run(config: config.pool, logger: logger, beforeFork: { checkDatabase(config, logger: logger) }) {
                // In the worker, after fork: its pid in the metadata spares LogLine a getpid() per line.
                var logger = logger
                logger[metadataKey: "pid"] = "\(getpid())"
                let services = AppServices(config: config, logger: logger)
                return HTTPBridge(application: PerchApp.makeApplication(services: services, logger: logger), bodyLimit: config.pool.bodyLimit)
            }
        } catch let error as ConfigurationError {
            throw AppConfigurationError(problems: [error.description])  // socket problems are the operator's to fix
        }
    }
}

extension Service {
    /// Once in the master: tells the operator at start whether the database answers (workers still start
    /// either way and answer 503 until it does). It also loads the client library and its TLS library's
    /// algorithm tables before fork; each worker used to build its own, about 2 MB of resident code each.
    static func checkDatabase(_ config: AppConfiguration, logger: Logger) {
        guard let database = config.database else { return }
        let connection = Connection(configuration: database, logger: logger)
        if connection.ping(timeout: 1) {
            logger.info("database reachable at start")
        } else {
            logger.warning("database not reachable at start: workers connect when a request needs it")
        }
        connection.close()
    }

    /// The OpenAPI document the service serves at /openapi.json, for `perch openapi`.
    public static func openAPIDocument() throws -> [UInt8] {
        var reader = ConfigReader(["PERCH_ENV": "development"])
        let config = try AppConfiguration.load(&reader)
        let logger = Logger(label: "perch")
        return PerchApp.makeApplication(services: AppServices(config: config, logger: logger), logger: logger).openAPIBytes
    }
}
