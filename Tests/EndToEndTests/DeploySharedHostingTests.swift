import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// deploy/apache and deploy/lighttpd as shipped, rendered only for the test's folder and port: web servers
/// that spawn perch themselves (socket on fd 0, one worker per process) and Apache in front of a pool.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct DeploySharedHostingTests {
    static let apacheFolder = Paths.packageRoot + "/deploy/apache"
    static let lighttpdFile = Paths.packageRoot + "/deploy/lighttpd/perch.conf"

    @Test func apacheModFcgidSpawnsPerch() throws {
        let file = Self.apacheFolder + "/perch-fcgid.conf"
        let apache = try PrivateApache(modules: ["fcgid"]) { layout in
            let binary = try perchCopy(in: layout.directory)
            var site = try String(contentsOfFile: file, encoding: .utf8)
            site = try replacingRequired(site, "<VirtualHost *:80>", with: "<VirtualHost 127.0.0.1:\(layout.port)>", in: file)
            site = try replacingRequired(site, "\"/usr/local/bin/perch serve\"", with: "\"\(binary) serve\"", in: file)
            site = try replacingRequired(site, "${APACHE_LOG_DIR}", with: layout.directory, in: file)
            return try withFcgidEnvironment(site, in: file)
        }
        try spawnedProgramsServe(baseURL: apache.baseURL, binary: apache.directory + "/perch", errorLog: { apache.errorLog })
        apache.stop()
        #expect(eventually(seconds: 10) { processes(running: apache.directory + "/perch").isEmpty }, "mod_fcgid stops what it spawned")
    }

    /// The shared-hosting case: no access to the server configuration, only a web root with the shipped
    /// .htaccess and wrapper script.
    @Test func apacheModFcgidThroughHtaccess() throws {
        let apache = try PrivateApache(modules: ["fcgid", "rewrite", "mime", "setenvif"]) { layout in
            let binary = try perchCopy(in: layout.directory)
            let webRoot = layout.directory + "/www"
            try FileManager.default.createDirectory(atPath: webRoot, withIntermediateDirectories: true)
            chmod(webRoot, 0o755)
            try FileManager.default.copyItem(atPath: Self.apacheFolder + "/htaccess.example", toPath: webRoot + "/.htaccess")
            // perch's configuration file lives outside the web root, as the wrapper's comment asks; production,
            // so that it must hold the database and the signing key.
            let config = try DeployFlow.appEnvironment().merging(["PERCH_ENV": "production"]) { $1 }.map { "\($0.key)=\($0.value)" }.sorted().joined(
                separator: "\n")
            try (config + "\n").write(toFile: layout.directory + "/perch.env", atomically: true, encoding: .utf8)
            chmod(layout.directory + "/perch.env", 0o644)
            let wrapperFile = Self.apacheFolder + "/perch.fcgi"
            var wrapper = try String(contentsOfFile: wrapperFile, encoding: .utf8)
            wrapper = try replacingRequired(wrapper, "$HOME/perch/perch.env", with: layout.directory + "/perch.env", in: wrapperFile)
            wrapper = try replacingRequired(wrapper, "$HOME/perch/bin/perch", with: binary, in: wrapperFile)
            try writeExecutable(wrapper, to: webRoot + "/perch.fcgi")
            // What a hoster's vhost gives a customer: a document root where .htaccess may set handlers and options.
            return """
                <VirtualHost 127.0.0.1:\(layout.port)>
                    DocumentRoot \(webRoot)
                    <Directory \(webRoot)>
                        AllowOverride FileInfo Options
                        Require all granted
                    </Directory>
                </VirtualHost>
                """
        }
        try spawnedProgramsServe(baseURL: apache.baseURL, binary: apache.directory + "/perch", errorLog: { apache.errorLog })
        let dotfile = try curl(apache.baseURL + "/.htaccess")
        #expect(dotfile.body == #"{"detail":"Not Found"}"#, "every path is the app's, the .htaccess is never served")
    }

    @Test func apacheModProxyFcgiToThePool() throws {
        // The pool as deploy/systemd runs it (perch.env); Apache's user (www-data) connects through the
        // socket's group, as perch.socket's SocketGroup does it.
        let pool = try PerchPool(
            workers: 2,
            environment: try ShippedConfiguration.environment(
                file: Paths.packageRoot + "/deploy/systemd/perch.env",
                overrides: ["PERCH_WORKERS": "2", "PERCH_SOCKET_GROUP": geteuid() == 0 ? "www-data" : ""].filter { !$0.value.isEmpty }))
        chmod(pool.directory, 0o711)
        let file = Self.apacheFolder + "/perch-proxy-fcgi.conf"
        let apache = try PrivateApache(modules: ["proxy", "proxy_fcgi"]) { layout in
            var site = try String(contentsOfFile: file, encoding: .utf8)
            site = try replacingRequired(site, "<VirtualHost *:80>", with: "<VirtualHost 127.0.0.1:\(layout.port)>", in: file)
            site = try replacingRequired(site, "unix:/run/perch/perch.sock|", with: "unix:\(pool.socketPath)|", in: file)
            return try replacingRequired(site, "${APACHE_LOG_DIR}", with: layout.directory, in: file)
        }
        let post = try DeployFlow.exercise(baseURL: apache.baseURL)
        let load = try abLoad(apache.baseURL + post, requests: 1_000, concurrency: 8)
        #expect(load.complete == 1_000 && load.allSucceeded, "\(load.output)\n\(apache.errorLog)")

        // Apache's own refusals in the API's error shape, not HTML: a body over LimitRequestBody, the pool gone.
        let tooLarge = try curl(
            apache.baseURL + "/api/v1/posts", method: "POST",
            headers: ["Content-Type": "application/json", "Expect": ""],  // no "100 Continue" first
            body: String(repeating: "a", count: 1_100_000))
        #expect(tooLarge.status == 413 && tooLarge.body == #"{"detail":"Request body too large"}"#, "\(tooLarge.status) \(tooLarge.body)")
        #expect(tooLarge.headers["content-type"] == "application/json")
        pool.stop()
        let gone = try curl(apache.baseURL + "/api/v1/health")
        #expect(gone.status == 503 && gone.body == #"{"detail":"Service Unavailable"}"#, "\(gone.status) \(gone.body)")
        #expect(gone.headers["content-type"] == "application/json" && gone.headers["x-content-type-options"] == "nosniff")
    }

    @Test func lighttpdModFastcgiSpawnsPerch() throws {
        let file = Self.lighttpdFile
        let lighttpd = try PrivateLighttpd { directory in
            let binary = try perchCopy(in: directory)
            var site = try String(contentsOfFile: file, encoding: .utf8)
            site = try replacingRequired(site, "\"/run/lighttpd/perch.sock\"", with: "\"\(directory)/perch.sock\"", in: file)
            site = try replacingRequired(site, "\"/usr/local/bin/perch serve\"", with: "\"\(binary) serve\"", in: file)
            return try withLighttpdEnvironment(site, in: file)
        }
        try spawnedProgramsServe(baseURL: lighttpd.baseURL, binary: lighttpd.directory + "/perch", errorLog: { lighttpd.errorLog })
        #expect(processes(running: lighttpd.directory + "/perch").count == 4, "max-procs processes")
        lighttpd.stop()
        #expect(eventually(seconds: 10) { processes(running: lighttpd.directory + "/perch").isEmpty }, "lighttpd stops what it spawned")
    }

    /// The flow and a small load through a server that spawned perch; each spawned perch is one worker
    /// without a master (it has no children of its own).
    private func spawnedProgramsServe(
        baseURL: String, binary: String, errorLog: () -> String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let post = try DeployFlow.exercise(baseURL: baseURL, sourceLocation: sourceLocation)
        let load = try abLoad(baseURL + post, requests: 500, concurrency: 4)
        #expect(load.complete == 500 && load.allSucceeded, "\(load.output)\n\(errorLog())", sourceLocation: sourceLocation)
        let spawned = processes(running: binary)
        #expect(!spawned.isEmpty, "the web server runs perch", sourceLocation: sourceLocation)
        #expect(spawned.allSatisfy { ChildProcess.children(of: $0).isEmpty }, "single worker, no master", sourceLocation: sourceLocation)
    }
}

/// The shipped file's FcgidInitialEnv lines, rendered for this machine (ShippedConfiguration).
func withFcgidEnvironment(_ site: String, in file: String) throws -> String {
    var lines = site.components(separatedBy: "\n")
    let prefix = "FcgidInitialEnv "
    let indices = lines.indices.filter { lines[$0].trimmingCharacters(in: .whitespaces).hasPrefix(prefix) }
    guard let first = indices.first else { throw SupportError("\(file) has no FcgidInitialEnv lines") }
    let shipped: [ShippedConfiguration.Entry] = indices.map { index in
        let words = lines[index].trimmingCharacters(in: .whitespaces).dropFirst(prefix.count).split(separator: " ", maxSplits: 1)
        return (String(words[0]), words.count > 1 ? words[1].trimmingCharacters(in: CharacterSet(charactersIn: "\" ")) : "")
    }
    let rendered = try ShippedConfiguration.render(shipped).map { "    FcgidInitialEnv \($0.key) \"\($0.value)\"" }
    for index in indices.reversed() { lines.remove(at: index) }
    lines.insert(contentsOf: rendered, at: first)
    return lines.joined(separator: "\n")
}

/// The shipped file's "bin-environment" block, rendered for this machine (ShippedConfiguration).
func withLighttpdEnvironment(_ site: String, in file: String) throws -> String {
    var lines = site.components(separatedBy: "\n")
    guard let start = lines.firstIndex(where: { $0.contains("\"bin-environment\" => (") }),
        let end = lines[start...].firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == ")," })
    else {
        throw SupportError("\(file) has no \"bin-environment\" => ( ... ), block")
    }
    let shipped: [ShippedConfiguration.Entry] = lines[(start + 1)..<end].compactMap { line in
        // "KEY" => "VALUE",
        let parts = line.components(separatedBy: "\"")
        return parts.count >= 5 ? (parts[1], parts[3]) : nil
    }
    // Here lighttpd runs as root (no server.username), so its perch would be root: allow that (README, PERCH_ALLOW_ROOT).
    let overrides = geteuid() == 0 ? ["PERCH_ALLOW_ROOT": "1"] : [:]
    let entries = try ShippedConfiguration.render(shipped, overrides: overrides).map { "            \"\($0.key)\" => \"\($0.value)\"," }
    lines.replaceSubrange(start...end, with: ["        \"bin-environment\" => ("] + entries + ["        ),"])
    return lines.joined(separator: "\n")
}
