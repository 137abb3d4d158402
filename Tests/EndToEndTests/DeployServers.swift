import Foundation
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// What systemd does for perch.socket + perch.service: it owns the listening socket and starts (and
/// restarts) the service with that same socket on fd 3, LISTEN_FDS=1 and LISTEN_PID set to the service's pid.
final class SocketActivatedPool: @unchecked Sendable {
    let directory: String
    let socketPath: String
    private let fd: Int32
    private let workers: Int
    private let overrides: [String: String]
    private(set) var master: ChildProcess?
    private(set) var starts = 0

    /// `overrides` replace values of the shipped perch.env (e.g. another database).
    init(workers: Int = 2, overrides: [String: String] = [:]) throws {
        directory = Paths.makeTemporaryDirectory("perch-systemd")
        socketPath = directory + "/perch.sock"
        self.workers = workers
        self.overrides = overrides
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: socketPath.utf8.prefix($0.count - 1)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0 }
        }
        // perch.socket's Backlog=4096 (the kernel caps it at net.core.somaxconn).
        guard bound, listen(fd, 4096) == 0 else {
            close(fd)
            throw SupportError("cannot listen on \(socketPath): \(String(cString: strerror(errno)))")
        }
        try start()
    }

    /// Starts a master on the socket and waits until its workers are up (systemctl start).
    func start() throws {
        starts += 1
        // perch.service's EnvironmentFile (deploy/systemd/perch.env as shipped), sized for the test.
        var environment = try ShippedConfiguration.environment(
            file: Paths.packageRoot + "/deploy/systemd/perch.env",
            overrides: ["PERCH_WORKERS": "\(workers)", "PERCH_GRACEFUL_TIMEOUT": "10"].merging(overrides) { $1 })
        environment["PATH"] = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        environment["LISTEN_FDS"] = "1"
        environment["LISTEN_FDNAMES"] = "perch.socket"
        let process = try ChildProcess(
            [Paths.perchBinary, "serve"], environment: environment, fds: [3: fd],
            logPath: directory + "/perch-\(starts).log", listenPIDVariable: "LISTEN_PID")
        master = process
        guard eventually(seconds: 20, { process.children.count >= workers }) else {
            process.terminate()
            throw SupportError("perch did not start on the inherited socket; its log:\n\(process.log)")
        }
    }

    /// systemctl stop: TERM to the master (KillMode=mixed), wait for it to leave; the socket stays open.
    /// Returns the master's exit status, nil if it ran past the stop timeout.
    @discardableResult
    func stop(seconds: Double = 15) -> Int32? {
        guard let master else { return nil }
        master.signal(SIGTERM)
        return master.wait(seconds: seconds)
    }

    /// systemctl restart: stop, then start a new master on the same socket.
    func restart() throws -> Int32? {
        let status = stop()
        try start()
        return status
    }

    var logs: String {
        (1...max(1, starts)).map { (try? String(contentsOfFile: directory + "/perch-\($0).log", encoding: .utf8)) ?? "" }.joined(separator: "\n")
    }

    deinit {
        master?.terminate()
        close(fd)
    }
}

/// A private Apache (apache2 -DFOREGROUND) with its own ServerRoot, pid file, logs and runtime folder, serving
/// one site file from deploy/apache rendered for a loopback port.
final class PrivateApache: @unchecked Sendable {
    let port: Int
    let directory: String
    let process: ChildProcess
    static let modules = "/usr/lib/apache2/modules"

    /// `site` renders the site file (from deploy/apache) for the test's folder and port; `modules` are loaded by name.
    init(modules: [String], site render: (PrivateApache.Layout) throws -> String) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/apache2") else {
            throw SupportError("apache2 is not installed (apt-get install apache2 libapache2-mod-fcgid)")
        }
        directory = Paths.makeTemporaryDirectory("perch-apache")
        // Apache's children run as www-data when we are root: they must reach this folder.
        chmod(directory, 0o755)
        port = try freeLoopbackPort()
        let site = try render(PrivateApache.Layout(directory: directory, port: port))
        try site.write(toFile: directory + "/site.conf", atomically: true, encoding: .utf8)
        let user = geteuid() == 0 ? "User www-data\nGroup www-data" : ""
        let loads = (["mpm_event", "authz_core", "headers"] + modules)
            .map { "LoadModule \($0)_module \(PrivateApache.modules)/mod_\($0).so" }.joined(separator: "\n")
        let main = """
            ServerRoot \(directory)
            ServerName localhost
            Listen 127.0.0.1:\(port)
            PidFile \(directory)/httpd.pid
            ErrorLog \(directory)/error.log
            LogLevel warn
            DefaultRuntimeDir \(directory)
            Mutex file:\(directory)
            \(user)
            \(loads)
            StartServers 1
            ServerLimit 2
            ThreadsPerChild 25
            MaxRequestWorkers 50
            <IfModule mime_module>
                TypesConfig /dev/null
            </IfModule>
            <IfModule fcgid_module>
                FcgidIPCDir \(directory)/fcgid
                FcgidProcessTableFile \(directory)/fcgid_shm
            </IfModule>
            Include \(directory)/site.conf
            """
        try main.write(toFile: directory + "/httpd.conf", atomically: true, encoding: .utf8)
        let check = try run(["/usr/sbin/apache2", "-t", "-f", directory + "/httpd.conf"], environment: ["PATH": "/usr/sbin:/usr/bin:/bin"], seconds: 30)
        guard check.status == 0 else { throw SupportError("apache2 -t refused the rendered config:\n\(check.output)\n\(site)") }
        process = try ChildProcess(
            ["/usr/sbin/apache2", "-DFOREGROUND", "-f", directory + "/httpd.conf"],
            environment: ["PATH": "/usr/sbin:/usr/bin:/bin"], logPath: directory + "/stderr.log")
        guard eventually(seconds: 15, { canConnect(port: port) || process.poll() != nil }), process.poll() == nil else {
            process.terminate()
            throw SupportError("apache2 did not start: \(process.log)\n\(errorLog)")
        }
    }

    struct Layout {
        let directory: String
        let port: Int
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var errorLog: String { (try? String(contentsOfFile: directory + "/error.log", encoding: .utf8)) ?? "" }
    func stop() { process.terminate() }
    deinit {
        process.terminate()
        try? FileManager.default.removeItem(atPath: directory + "/perch")  // the binary copy, if any (8+ MB)
    }
}

/// A private lighttpd (lighttpd -D) on a loopback port, including one site file from deploy/lighttpd.
final class PrivateLighttpd: @unchecked Sendable {
    let port: Int
    let directory: String
    let process: ChildProcess

    /// `site` renders the site file (from deploy/lighttpd) for the test's folder.
    init(site render: (String) throws -> String) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/lighttpd") else {
            throw SupportError("lighttpd is not installed (apt-get install lighttpd)")
        }
        directory = Paths.makeTemporaryDirectory("perch-lighttpd")
        port = try freeLoopbackPort()
        let site = try render(directory)
        try site.write(toFile: directory + "/site.conf", atomically: true, encoding: .utf8)
        let main = """
            server.document-root = "\(directory)"
            server.bind = "127.0.0.1"
            server.port = \(port)
            server.pid-file = "\(directory)/lighttpd.pid"
            server.errorlog = "\(directory)/error.log"
            include "\(directory)/site.conf"
            """
        try main.write(toFile: directory + "/lighttpd.conf", atomically: true, encoding: .utf8)
        let check = try run(["/usr/sbin/lighttpd", "-tt", "-f", directory + "/lighttpd.conf"], environment: ["PATH": "/usr/sbin:/usr/bin:/bin"], seconds: 30)
        guard check.status == 0 else { throw SupportError("lighttpd -tt refused the rendered config:\n\(check.output)\n\(site)") }
        process = try ChildProcess(
            ["/usr/sbin/lighttpd", "-D", "-f", directory + "/lighttpd.conf"],
            environment: ["PATH": "/usr/sbin:/usr/bin:/bin"], logPath: directory + "/stderr.log")
        guard eventually(seconds: 15, { canConnect(port: port) || process.poll() != nil }), process.poll() == nil else {
            process.terminate()
            throw SupportError("lighttpd did not start: \(process.log)\n\(errorLog)")
        }
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var errorLog: String { (try? String(contentsOfFile: directory + "/error.log", encoding: .utf8)) ?? "" }
    func stop() { process.terminate() }
    deinit {
        process.terminate()
        try? FileManager.default.removeItem(atPath: directory + "/perch")  // the binary copy, if any (8+ MB)
    }
}

/// A copy of the perch binary in `directory` (0755), reachable by a web server's unprivileged user even when
/// the checkout is not. Copied by cp, not in this process: a write descriptor of ours could leak into a child
/// that a parallel test spawns at that moment, and exec of the copy would then fail with "Text file busy".
func perchCopy(in directory: String) throws -> String {
    let path = directory + "/perch"
    let copy = try run(["/bin/cp", Paths.perchBinary, path], seconds: 30)
    guard copy.status == 0 else { throw SupportError("cannot copy \(Paths.perchBinary): \(copy.output)") }
    chmod(path, 0o755)
    return path
}

/// Writes an executable file with a close-on-exec descriptor, so that no child spawned meanwhile by a
/// parallel test keeps it open for writing (exec would then fail with "Text file busy").
func writeExecutable(_ text: String, to path: String) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
    guard fd >= 0 else { throw SupportError("cannot create \(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    let bytes = Array(text.utf8)
    guard bytes.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == bytes.count else { throw SupportError("cannot write \(path)") }
    fchmod(fd, 0o755)
}
