import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A running `perch serve` master with its pool, on a private unix socket.
public final class PerchPool: @unchecked Sendable {
    public let directory: String
    public let socketPath: String
    public let process: ChildProcess

    /// Load and fault tests send far more than a minute's budget from one address; RateLimitTests set theirs.
    public static let noRateLimits = Dictionary(
        uniqueKeysWithValues: ["ANONYMOUS", "MEMBER", "MODERATOR", "ADMIN"].map { ("PERCH_RATE_LIMIT_\($0)", "read=0,write=0,auth=0") })

    /// Starts the pool and waits until `workers` workers are up. `environment` adds or overrides variables;
    /// `binary` is the path perch is started by (and re-executes on HUP).
    public init(workers: Int = 2, environment: [String: String] = [:], waitForSocketFile: Bool = true, binary: String = Paths.perchBinary) throws {
        directory = Paths.makeTemporaryDirectory("perch-pool")
        socketPath = directory + "/perch.sock"
        var env: [String: String] = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "PERCH_LISTEN": "unix:" + socketPath,
            "PERCH_WORKERS": "\(workers)",
            "PERCH_ENV": "development",
            "PERCH_GRACEFUL_TIMEOUT": "10"
        ]
        env.merge(Self.noRateLimits) { $1 }
        env.merge(environment) { $1 }
        process = try ChildProcess([binary, "serve"], environment: env, logPath: directory + "/perch.log")
        guard eventually(seconds: 20, { (!waitForSocketFile || FileManager.default.fileExists(atPath: socketPath)) && process.children.count >= workers })
        else {
            process.terminate()
            throw SupportError("pool did not start; its log:\n\(process.log)")
        }
    }

    public var workerPIDs: [pid_t] { process.children }

    /// Waits until exactly `count` live workers, none of them in `excluding`.
    public func waitForWorkers(_ count: Int, excluding: Set<pid_t> = [], seconds: Double = 10) -> Bool {
        eventually(seconds: seconds) {
            let live = workerPIDs.filter { ChildProcess.isAlive($0) }
            return live.count == count && excluding.isDisjoint(with: live)
        }
    }

    public func stop() { process.terminate() }
    deinit { process.terminate() }
}

/// A private nginx serving the shipped site file (deploy/nginx/perch.conf) on a loopback port, in front of
/// a pool's socket. A site with a TLS server (`listen 443 ssl http2;`) serves it on `port`, as plain HTTP unless
/// `tls` (then with a self-signed certificate for 127.0.0.1 made here, `certificatePath`), and its port-80
/// server (the redirect to HTTPS) on `redirectPort`.
public final class PrivateNginx: @unchecked Sendable {
    public let port: Int
    public let redirectPort: Int?
    public let tls: Bool
    public let directory: String
    public let process: ChildProcess

    public init(
        socketPath: String, siteFile: String = Paths.packageRoot + "/deploy/nginx/perch.conf",
        replacements: [String: String] = [:], tls: Bool = false
    ) throws {
        directory = Paths.makeTemporaryDirectory("perch-nginx")
        port = try freeLoopbackPort()
        self.tls = tls
        var site = try String(contentsOfFile: siteFile, encoding: .utf8)
        site = site.replacingOccurrences(of: "server unix:/run/perch/perch.sock;", with: "server unix:\(socketPath);")
        if site.contains("listen 443 ssl http2;") {
            let redirect = try freeLoopbackPort()
            redirectPort = redirect
            site = site.replacingOccurrences(of: "listen 443 ssl http2;", with: "listen 127.0.0.1:\(port)\(tls ? " ssl http2" : "");")
            site = site.replacingOccurrences(of: "listen 80;", with: "listen 127.0.0.1:\(redirect);")
            // nginx loads the certificate whether or not the server listens with TLS.
            let made = try run([
                "/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                "-keyout", directory + "/key.pem", "-out", directory + "/cert.pem"
            ])
            guard made.status == 0 else { throw SupportError("openssl: \(made.output)") }
            site = site.replacingOccurrences(of: "/etc/ssl/perch/fullchain.pem", with: directory + "/cert.pem")
            site = site.replacingOccurrences(of: "/etc/ssl/perch/privkey.pem", with: directory + "/key.pem")
        } else {
            redirectPort = nil
            site = site.replacingOccurrences(of: "listen 80;", with: "listen 127.0.0.1:\(port);")
        }
        for (from, to) in replacements { site = site.replacingOccurrences(of: from, with: to) }
        try site.write(toFile: directory + "/site.conf", atomically: true, encoding: .utf8)
        // As root (CI), nginx's workers would drop to nobody and could not reach our private 0700 folders.
        let user = geteuid() == 0 ? "user root root;" : ""
        let main = """
            \(user)
            worker_processes 1;
            pid \(directory)/nginx.pid;
            error_log \(directory)/error.log warn;
            events { worker_connections 1024; }
            http {
                access_log off;
                client_body_temp_path \(directory)/body;
                fastcgi_temp_path \(directory)/fastcgi;
                proxy_temp_path \(directory)/proxy;
                include \(directory)/site.conf;
            }
            """
        try main.write(toFile: directory + "/nginx.conf", atomically: true, encoding: .utf8)
        process = try ChildProcess(
            ["/usr/sbin/nginx", "-p", directory, "-c", directory + "/nginx.conf", "-g", "daemon off;"],
            environment: ["PATH": "/usr/sbin:/usr/bin:/bin"], logPath: directory + "/stderr.log")
        guard eventually(seconds: 10, { canConnect(port: port) }) else {
            process.terminate()
            throw SupportError("nginx did not start: \(process.log)")
        }
    }

    public var baseURL: String { "\(tls ? "https" : "http")://127.0.0.1:\(port)" }
    public var certificatePath: String { directory + "/cert.pem" }
    public var errorLog: String { (try? String(contentsOfFile: directory + "/error.log", encoding: .utf8)) ?? "" }
    public func stop() { process.terminate() }
    deinit { process.terminate() }
}

/// A TCP socket listening on 127.0.0.1 at a free port, with `backlog`; the caller closes `fd`.
public func listeningLoopbackSocket(backlog: Int32) throws -> (fd: Int32, port: Int) {
    let port = try freeLoopbackPort()
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
    guard bound, listen(fd, backlog) == 0 else {
        close(fd)
        throw SupportError("cannot listen on 127.0.0.1:\(port)")
    }
    return (fd, port)
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
public func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard ok else { throw SupportError("no free port") }
    return Int(UInt16(bigEndian: address.sin_port))
}

public func canConnect(port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
}
