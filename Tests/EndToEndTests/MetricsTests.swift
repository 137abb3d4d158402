import Foundation
import TestSupport
import Testing

/// The pool's request metrics through nginx, with a database: request durations by route template and status
/// class, queue times and login refusals, summed over the whole pool, read by two independent parsers
/// (prometheus_client's OpenMetrics parser, and promtool on the Prometheus text format) and moving as
/// requests are served.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct MetricsTests {
    @Test func requestHistogramsAndLoginCountersMoveAndBothParsersAcceptThem() throws {
        let database = try PrivateMariaDB.shared.makeMigratedDatabase()
        var environment = FaultTests.appEnvironment(database)
        environment["PERCH_STATUS_PATH"] = "/status"
        environment["PERCH_LOGIN_MAX_FAILURES"] = "2"
        let pool = try PerchPool(workers: 2, environment: environment)
        let nginx = try PrivateNginx(socketPath: pool.socketPath)
        let client = LiveTestClient(host: "127.0.0.1", port: nginx.port)

        let before = try samples(nginx)
        #expect(before.isEmpty == false)
        for _ in 0..<4 { _ = try client.execute(.get, "/api/v1/health") }
        let missingPost = try client.execute(.get, "/api/v1/posts/424242")
        #expect(missingPost.status == .notFound)
        _ = try client.execute(.get, "/no/such/route/12345")
        let signUp = try client.execute(.post, "/api/v1/users", json: ["email": "metrics@example.com", "password": "a long enough secret"])
        try #require(signUp.status == .created, "\(signUp.text)")
        var statuses: [Int] = []
        for guess in 0..<3 {
            let login = try client.execute(.post, "/api/v1/auth/login", form: [("username", "metrics@example.com"), ("password", "wrong \(guess)")])
            statuses.append(login.status.code)
        }
        #expect(statuses == [401, 401, 429])
        let after = try samples(nginx)

        func value(_ name: String, _ labels: [String: String] = [:], in samples: [Sample]? = nil) -> Double {
            Self.sum(samples ?? after, name, labels)
        }
        func valueBefore(_ name: String, _ labels: [String: String] = [:]) -> Double { Self.sum(before, name, labels) }
        let health = ["route": "/api/v1/health", "method": "GET", "code": "2xx"]
        #expect(value("perch_request_duration_seconds_count", health) - valueBefore("perch_request_duration_seconds_count", health) == 4)
        #expect(value("perch_request_duration_seconds_bucket", health.merging(["le": "+Inf"]) { $1 }) == value("perch_request_duration_seconds_count", health))
        #expect(value("perch_request_duration_seconds_sum", health) > 0)
        // The route template, never the path as sent; an error answer keeps its route; no route is "unmatched".
        #expect(value("perch_request_duration_seconds_count", ["route": "/api/v1/posts/{id}", "code": "4xx"]) == 1)
        #expect(value("perch_request_duration_seconds_count", ["route": "unmatched", "code": "4xx"]) == 1)
        #expect(!after.contains { $0.labels["route"]?.contains("424242") == true || $0.labels["route"]?.contains("/no/such") == true })
        #expect(value("perch_request_duration_seconds_count", ["route": "/api/v1/auth/login", "method": "POST", "code": "4xx"]) == 3)
        #expect(value("perch_request_duration_seconds_count", ["route": "/api/v1/users", "method": "POST", "code": "2xx"]) == 1)
        #expect(value("perch_login_failures_total") - valueBefore("perch_login_failures_total") == 2)
        #expect(value("perch_login_throttles_total") - valueBefore("perch_login_throttles_total") == 1)
        // nginx passes its clock in X-Request-Start: every request through it has a queue time.
        #expect(value("perch_request_queue_seconds_count") - valueBefore("perch_request_queue_seconds_count") >= 11)
        // Whichever worker answers, it counts the whole pool's requests: two scrapes agree on what was served.
        let again = try samples(nginx)
        let againHealth = again.filter { $0.name == "perch_request_duration_seconds_count" && $0.labels["route"] == "/api/v1/health" }
        #expect(againHealth.reduce(0) { $0 + $1.value } == value("perch_request_duration_seconds_count", health))

        // promtool lints the Prometheus text format of the same figures: exit 0 means no problem at all.
        let text = try curl(nginx.baseURL + "/status?prometheus&full")
        #expect(text.status == 200 && text.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        let promtool = try run(["/usr/bin/env", "promtool", "check", "metrics"], input: text.body, seconds: 60)
        #expect(promtool.status == 0, "promtool: \(promtool.output)\n\(text.body)")
        #expect(text.body.contains("perch_request_duration_seconds_bucket{") && text.body.contains("perch_login_failures_total{"))
    }

    /// The values of the samples named `name` whose labels include `labels`, added up.
    private static func sum(_ samples: [Sample], _ name: String, _ labels: [String: String]) -> Double {
        samples.filter { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }.reduce(0) { $0 + $1.value }
    }

    private struct Sample {
        let name: String
        let labels: [String: String]
        let value: Double
    }

    /// `?openmetrics&full`, parsed by prometheus_client's strict OpenMetrics parser.
    private func samples(_ nginx: PrivateNginx) throws -> [Sample] {
        let response = try curl(nginx.baseURL + "/status?openmetrics&full")
        try #require(response.status == 200)
        let parsed = try run(["/usr/bin/env", "python3", "-c", Self.parser], input: response.body, seconds: 60)
        try #require(parsed.status == 0, "prometheus_client refused it: \(parsed.output)\n\(response.body)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(parsed.output.utf8)) as? [[Any]])
        return rows.compactMap { row in
            guard row.count == 3, let name = row[0] as? String, let labels = row[1] as? [String: String], let value = row[2] as? Double
            else { return nil }
            return Sample(name: name, labels: labels, value: value)
        }
    }

    static let parser = """
        import json, sys
        from prometheus_client.openmetrics.parser import text_string_to_metric_families
        rows = []
        for family in text_string_to_metric_families(sys.stdin.read()):
            for sample in family.samples:
                rows.append([sample.name, sample.labels, float(sample.value)])
        print(json.dumps(rows))
        """
}
