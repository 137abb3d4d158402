import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// What every deployment must serve, checked through a live base URL (nginx, Apache or lighttpd in front).
/// One place to grow: when sign-up, login and posts land, `exercise` runs sign-up → login → create post →
/// read post here, and every deploy test covers it.
enum DeployFlow {
    /// The app's environment for every deploy test (the web server passes it on, or the pool gets it).
    /// Add PERCH_DATABASE_URL for a private MariaDB here when the flow needs the database.
    static var appEnvironment: [String: String] {
        ["PERCH_ENV": "development", "PERCH_LOG_LEVEL": "info"]
    }

    /// Drives the flow through `baseURL`; `#expect`s each step, so a broken deployment fails the test.
    static func exercise(baseURL: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let health = try curl(baseURL + "/api/v1/health")
        #expect(health.status == 200, "health: \(health.status) \(health.body)", sourceLocation: sourceLocation)
        #expect(health.body == #"{"status":"ok"}"#, sourceLocation: sourceLocation)
        #expect(health.headers["content-type"] == "application/json; charset=utf-8", sourceLocation: sourceLocation)
        // The app, not the web server, answers an unknown path: the whole site is routed to perch.
        let missing = try curl(baseURL + "/api/v1/no-such-thing?x=1")
        #expect(missing.status == 404, sourceLocation: sourceLocation)
        #expect(missing.body == #"{"detail":"Not Found"}"#, sourceLocation: sourceLocation)
    }

    /// The URL a bounded read load hits.
    static func readURL(_ baseURL: String) -> String { baseURL + "/api/v1/health" }
}

/// `text` with `target` replaced, failing when the shipped file no longer contains it (so a test never
/// silently runs a configuration it did not render).
func replacingRequired(_ text: String, _ target: String, with replacement: String, in file: String) throws -> String {
    guard text.contains(target) else { throw SupportError("\(file) no longer contains \"\(target)\"; update the test's rendering") }
    return text.replacingOccurrences(of: target, with: replacement)
}

/// Pids of live processes running `executable` (to prove spawned programs are gone after their server).
func processes(running executable: String) -> [pid_t] {
    guard let resolved = realpath(executable, nil) else { return [] }
    let path = String(cString: resolved)
    free(resolved)
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { pid_t($0) }.filter { pid in
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")) == path && ChildProcess.isAlive(pid)
    }
}
