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
        request.queueMicros = fastCGI.queueMicros
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
        return Request(
            method: method, uri: uri(params), headerFields: fields, body: fastCGI.body,
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
