import Foundation
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The configuration in a shipped deploy file, made to run here. Only what names this machine changes:
/// the database URL gets the test's database, and a `NAME_FILE` secret a file holding the test's secret.
/// Every other shipped value stays, `PERCH_ENV=production` included, so a shipped file that leaves out the
/// database or the signing key fails the flow (development would make up a signing key per process).
enum ShippedConfiguration {
    typealias Entry = (key: String, value: String)

    /// `shipped` in its order with this machine's values, then `overrides` (the test's addresses and pool
    /// size, which the shipped file sets for production) and the test's Argon2 cost.
    static func render(_ shipped: [Entry], overrides: [String: String] = [:]) throws -> [Entry] {
        let test = try DeployFlow.appEnvironment()
        let files = try secretFiles.get()
        var rendered: [Entry] = shipped.map { entry in
            if let file = files[entry.key] { return (entry.key, file) }
            if entry.key == "PERCH_DATABASE_URL" || entry.key == "PERCH_JWT_SIGNING_KEY", let value = test[entry.key] { return (entry.key, value) }
            return entry
        }
        let extra = overrides.merging(test.filter { $0.key.hasPrefix("PERCH_ARGON2_") || $0.key.hasPrefix("PERCH_RATE_LIMIT_") }) { own, _ in own }
        rendered.removeAll { extra[$0.key] != nil }
        rendered += extra.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return rendered
    }

    /// A KEY=VALUE environment file (deploy/systemd/perch.env), rendered, as an environment.
    static func environment(file: String, overrides: [String: String] = [:]) throws -> [String: String] {
        let lines = try String(contentsOfFile: file, encoding: .utf8).components(separatedBy: "\n")
        let shipped: [Entry] = lines.compactMap { line in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, !trimmed.hasPrefix("#"), let equals = trimmed.firstIndex(of: "=") else { return nil }
            return (String(trimmed[..<equals]), String(trimmed[trimmed.index(after: equals)...]))
        }
        return Dictionary(try render(shipped, overrides: overrides).map { ($0.key, $0.value) }) { _, last in last }
    }

    /// The test's secrets as files (the shipped files name them by `..._FILE`), readable by a web server's
    /// unprivileged user: variable name → path.
    private static let secretFiles: Result<[String: String], Error> = Result {
        let test = try DeployFlow.appEnvironment()
        let directory = Paths.makeTemporaryDirectory("perch-secrets")
        chmod(directory, 0o755)
        var files: [String: String] = [:]
        for name in ["PERCH_DATABASE_PASSWORD", "PERCH_JWT_SIGNING_KEY"] {
            let path = directory + "/" + name.lowercased()
            try ((test[name] ?? "") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            chmod(path, 0o644)
            files[name + "_FILE"] = path
        }
        return files
    }
}
