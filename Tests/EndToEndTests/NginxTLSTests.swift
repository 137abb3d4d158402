import Foundation
import TestSupport
import Testing

/// The shipped site's TLS server (deploy/nginx/perch.conf) with a self-signed certificate made by the test:
/// HTTPS serves the API with HSTS and no nginx version, plain HTTP only redirects, and only Mozilla's
/// intermediate suites are offered.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct NginxTLSTests {
    @Test func httpsWithHSTSAndRedirectFromHTTP() throws {
        let pool = try PerchPool(workers: 1)
        let nginx = try PrivateNginx(socketPath: pool.socketPath, tls: true)
        let verified = ["--cacert", nginx.certificatePath]
        let health = try curl(nginx.baseURL + "/api/v1/health", options: verified + ["-w", "\n%{ssl_verify_result}"])
        #expect(health.status == 200)
        #expect(health.body.hasPrefix(#"{"status":"ok"}"#) && health.body.hasSuffix("\n0"), "\(health.body)")
        #expect(health.headers["strict-transport-security"] == "max-age=63072000")
        #expect(health.headers["server"] == "nginx")  // server_tokens off: no version
        // nginx's own error pages carry HSTS and no version either.
        let tooLarge = try curl(
            nginx.baseURL + "/api/v1/posts", method: "POST", headers: ["Content-Type": "application/json"],
            body: String(repeating: "a", count: 1_100_000), options: verified)
        #expect(tooLarge.status == 413 && tooLarge.headers["strict-transport-security"] == "max-age=63072000")
        #expect(tooLarge.headers["server"] == "nginx")

        let redirectPort = try #require(nginx.redirectPort)
        let redirect = try curl("http://127.0.0.1:\(redirectPort)/api/v1/health?x=1")
        #expect(redirect.status == 301)
        #expect(redirect.headers["location"] == "https://127.0.0.1/api/v1/health?x=1")
        #expect(redirect.headers["server"] == "nginx")

        // TLS 1.3; TLS 1.2 with a forward-secret AEAD suite; no RSA key exchange, no CBC, no TLS 1.1.
        #expect(try curl(nginx.baseURL + "/api/v1/health", options: verified + ["--tlsv1.3"]).status == 200)
        #expect(
            try curl(nginx.baseURL + "/api/v1/health", options: verified + ["--tls-max", "1.2", "--ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256"]).status == 200)
        for refused in [
            ["--tls-max", "1.2", "--ciphers", "AES128-GCM-SHA256"], ["--tls-max", "1.2", "--ciphers", "ECDHE-ECDSA-AES128-SHA"],
            ["--tlsv1.1", "--tls-max", "1.1", "--ciphers", "DEFAULT@SECLEVEL=0"]
        ] {
            #expect(throws: (any Error).self, "\(refused)") { try curl(nginx.baseURL + "/api/v1/health", options: verified + refused) }
        }
    }

    /// nginx's own errors carry X-Request-ID, and the id nginx logs is the one the app logs and answers with:
    /// the client's when the app would accept it, else nginx's $request_id passed to the app.
    @Test func oneRequestIDForNginxAndTheApp() throws {
        let pool = try PerchPool(workers: 1)
        let logs = Paths.makeTemporaryDirectory("perch-nginx-ids")
        defer { try? FileManager.default.removeItem(atPath: logs) }
        let nginx = try PrivateNginx(
            socketPath: pool.socketPath,
            replacements: [
                "# Plain HTTP only redirects to HTTPS.": "log_format perch_ids '$perch_request_id $status $request_uri';",
                "    server_tokens off;\n    ssl_certificate ": "    server_tokens off;\n    access_log \(logs)/access.log perch_ids;\n    ssl_certificate "
            ])
        let tooLarge = try curl(
            nginx.baseURL + "/api/v1/posts", method: "POST", headers: ["Content-Type": "application/json"],
            body: String(repeating: "a", count: 1_100_000))
        #expect(tooLarge.status == 413)
        let nginxID = try #require(tooLarge.headers["x-request-id"])
        #expect(nginxID.range(of: "^[0-9a-f]{32}$", options: .regularExpression) != nil, "\(nginxID)")
        let given = try curl(
            nginx.baseURL + "/api/v1/posts", method: "POST", headers: ["Content-Type": "application/json", "X-Request-ID": "client-id.1"],
            body: String(repeating: "a", count: 1_100_000))
        #expect(given.headers["x-request-id"] == "client-id.1")

        let health = try curl(nginx.baseURL + "/api/v1/health?ids=1")
        let appID = try #require(health.headers["x-request-id"])
        let invalid = try curl(nginx.baseURL + "/api/v1/health?ids=2", headers: ["X-Request-ID": "not valid!"])
        let replaced = try #require(invalid.headers["x-request-id"])
        #expect(replaced != "not valid!")
        #expect(eventually(seconds: 5) { pool.process.log.contains("request_id=\(appID)") && pool.process.log.contains("request_id=\(replaced)") })
        let accessLog = try String(contentsOfFile: logs + "/access.log", encoding: .utf8)
        #expect(accessLog.contains("\(nginxID) 413 /api/v1/posts"), "\(accessLog)")
        #expect(accessLog.contains("\(appID) 200 /api/v1/health?ids=1"), "\(accessLog)")
        #expect(accessLog.contains("\(replaced) 200 /api/v1/health?ids=2"), "\(accessLog)")
    }
}
