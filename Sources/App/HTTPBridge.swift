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
    /// The login route's index, whose refusals the metrics count.
    private let loginRoute: Int?

    init(application: Application<AppContext>, bodyLimit: Int) {
        self.application = application
        self.bodyLimit = bodyLimit
        loginRoute = application.router.routeInfos.first { $0.method == .post && $0.template == "/api/v1/auth/login" }?.index
    }

    func respond(to fastCGI: FastCGIRequest) -> FastCGIResponse {
        var request = Self.request(from: fastCGI, bodyLimit: bodyLimit)
        request.queueMicros = fastCGI.queueMicros
        // Settle the request id here, so the pool's scoreboard and the app's logs name the same one.
        let id = RequestID.resolve(request)
        request.head.headerFields.set(HTTPField(name: .xRequestID, value: id))
        fastCGI.reportRequestID(id)
        let response = application.respond(to: request, requestID: id)
        var answer = Self.fastCGIResponse(response)
        // For the pool's metrics: the route by its index in `metricRoutes` (an error answer does not carry it:
        // match again, only then), and a login's failure or throttle.
        answer.route = response.route?.index ?? (response.status.code >= 400 ? application.router.route(for: request)?.index : nil)
        if let loginRoute, answer.route == loginRoute {
            switch response.status.code {
            case 401, 403: answer.login = .failed
            case 429: answer.login = .throttled
            default: break
            }
        }
        return answer
    }

    /// The routes as the pool's metrics name them, in the order `RouteInfo.index` counts.
    static func metricRoutes(_ application: Application<AppContext>) -> [MetricRoute] {
        application.router.routeInfos.map { MetricRoute(method: $0.method.rawValue, template: $0.template) }
    }

    static func request(from fastCGI: FastCGIRequest, bodyLimit: Int) -> Request {
        let params = fastCGI.params
        var fields = HTTPFields()
        fields.reserveCapacity(params.count + 3)  // an upper bound: the HTTP_* ones, content type, length and request id
        params.forEachHeaderField { name, value in
            if let fieldName = HTTPField.Name(name) { fields.append(HTTPField(name: fieldName, value: value)) }
        }
        if let type = params["CONTENT_TYPE"], !type.isEmpty { fields.set(HTTPField(name: .contentType, value: type)) }
        if let length = params["CONTENT_LENGTH"], !length.isEmpty { fields.set(HTTPField(name: .contentLength, value: length)) }
        if fastCGI.bodyTooLarge, (Int(fields.value(of: .contentLength) ?? "") ?? 0) <= bodyLimit {
            fields[.contentLength] = "\(bodyLimit + 1)"  // the pool stopped reading: make the 413 certain
        }
        let method = HTTPRequest.Method(params["REQUEST_METHOD"] ?? "GET") ?? .get
        return Request(
            method: method, uri: uri(params), headerFields: fields, body: fastCGI.body,
            remoteAddress: params["REMOTE_ADDR"] ?? "")
    }

    /// REQUEST_URI as nginx sends it; plain CGI servers may only give SCRIPT_NAME, PATH_INFO and QUERY_STRING.
    private static func uri(_ params: CGIParams) -> String {
        if let uri = params["REQUEST_URI"], uri.utf8.first == UInt8(ascii: "/") { return uri }  // bytes: hasPrefix goes by Characters
        let path = (params["SCRIPT_NAME"] ?? "") + (params["PATH_INFO"] ?? "")
        let query = params["QUERY_STRING"] ?? ""
        return (path.isEmpty ? "/" : path) + (query.isEmpty ? "" : "?" + query)
    }

    static func fastCGIResponse(_ response: Response) -> FastCGIResponse {
        var answer = FastCGIResponse(status: response.status.code, reason: response.status.reasonPhrase, body: response.body)
        for field in response.headerFields { answer.addHeader(name: field.name.rawName, value: field.value) }
        if !response.headerFields.contains(.contentLength) { answer.addHeader(name: "Content-Length", value: String(response.body.count)) }
        return answer
    }
}
