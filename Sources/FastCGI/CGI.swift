import Glibc

/// Plain CGI: no socket anywhere, so the web server ran us for one request with the request in our
/// environment and body on stdin. Serve it on stdout and return.
enum CGI {
    static func serveOne(_ handler: FastCGIHandler, bodyLimit: Int) -> Int32 {
        let params = CGIParams(environment: environ)
        let declared = Int(params["CONTENT_LENGTH"] ?? "") ?? 0
        var body: [UInt8] = []
        let tooLarge = declared > bodyLimit
        if !tooLarge && declared > 0 {
            body = [UInt8](repeating: 0, count: declared)
            var filled = 0
            while filled < declared {
                let count = body.withUnsafeMutableBytes { read(0, $0.baseAddress! + filled, declared - filled) }
                if count <= 0 { break }
                filled += count
            }
            body.removeLast(declared - filled)
        }
        let response = handler.respond(to: FastCGIRequest(params: params, body: body, bodyTooLarge: tooLarge))
        let out = response.head + response.body
        var written = 0
        while written < out.count {
            let count = out.withUnsafeBytes { write(1, $0.baseAddress! + written, out.count - written) }
            if count <= 0 { return 1 }
            written += count
        }
        return 0
    }
}
