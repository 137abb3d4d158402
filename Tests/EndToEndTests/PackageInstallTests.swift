import Foundation
import MariaDB
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The Debian package (deploy/package/build-deb.sh; deploy/test.sh builds it and names it in PERCH_DEB) on a
/// fresh Debian 12 root made by debootstrap (deploy/package/fresh-root.sh): `apt-get install ./perch_*.deb`
/// pulls its dependencies, `perch --version`, `perch check` and `perch migrate` against a private database with
/// the installed configuration, the service started as its unit would start it (ExecStart, EnvironmentFile=,
/// Environment=, User=) serving the deploy flow through the shipped nginx site, then remove (configuration
/// kept) and purge (configuration gone).
///
/// Isolation: systemd cannot run in a chroot, so each command runs in a chroot inside a private mount
/// namespace (`unshare -m`) holding /proc, /dev and the database's socket folder; those mounts vanish with the
/// process, so nothing is left mounted whatever happens. The pool's socket is a file of the root, which the
/// test's nginx reaches from outside.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["PERCH_DEB", default: ""] != "", "PERCH_DEB names no package"))
struct PackageInstallTests {
    let deb = ProcessInfo.processInfo.environment["PERCH_DEB"] ?? ""

    /// The chroot command for `script`, run by sh inside `root` with the mounts it needs.
    static func inRoot(_ root: String, databaseFolder: String, _ script: String) -> [String] {
        let setup = """
            mount -t proc proc "$1/proc" && mount --rbind /dev "$1/dev" && mkdir -p "$1$2" && mount --bind "$2" "$1$2" \
            && exec chroot "$1" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 /bin/sh -c "$3"
            """
        return ["/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", setup, "sh", root, databaseFolder, script]
    }

    @Test func installsServesRemovesAndPurgesOnAFreshDebianRoot() throws {
        let folder = Paths.makeTemporaryDirectory("perch-package")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let root = folder + "/root"
        let made = try run(["/bin/bash", Paths.packageRoot + "/deploy/package/fresh-root.sh", root], seconds: 1200)
        try #require(made.status == 0, "fresh-root.sh: \(made.output)")

        // A database and an account of its own, as an operator makes them (README, Install).
        let database = try PrivateMariaDB.shared.makeDatabase()
        guard case .socket(let databaseSocket) = database.endpoint else { throw SupportError("the package test needs the private server's socket") }
        let databaseFolder = (databaseSocket as NSString).deletingLastPathComponent
        chmod(databaseFolder, 0o711)
        let password = "pkg-\(UUID().uuidString)"
        let admin = Connection(configuration: database)
        defer { admin.close() }
        let account = "pkg\(getpid())"
        try admin.execute("CREATE USER '\(account)'@'localhost' IDENTIFIED BY '\(password)'")
        try admin.execute("GRANT ALL PRIVILEGES ON `\(database.database ?? "")`.* TO '\(account)'@'localhost'")

        func inRoot(_ script: String, seconds: Double = 300) throws -> CommandResult {
            try run(Self.inRoot(root, databaseFolder: databaseFolder, script), seconds: seconds)
        }

        // Install: apt resolves Depends from the Debian archive.
        try FileManager.default.copyItem(atPath: deb, toPath: root + "/tmp/" + (deb as NSString).lastPathComponent)
        let install = try inRoot("apt-get update -q && apt-get install -y -q --no-install-recommends /tmp/perch_*.deb", seconds: 600)
        try #require(install.status == 0, "apt-get install: \(install.output.suffix(3000))")
        let version =
            try String(contentsOfFile: Paths.packageRoot + "/Sources/App/Version.swift", encoding: .utf8)
            .components(separatedBy: "\"").dropFirst().first ?? "?"
        let shown = try inRoot("perch --version")
        #expect(shown.status == 0 && shown.output.trimmingCharacters(in: .whitespacesAndNewlines) == version, "\(shown.output)")
        let files = try inRoot(
            """
            stat -c '%U:%G %a %n' /etc/perch/jwt-signing-key /etc/perch/perch.env && test -s /etc/perch/jwt-signing-key \
            && ls /usr/share/man/man1/perch.1.gz /usr/share/man/man1/perch.serve.1.gz /usr/share/bash-completion/completions/perch \
              /usr/share/zsh/vendor-completions/_perch /usr/share/fish/vendor_completions.d/perch.fish /lib/systemd/system/perch.service \
              /lib/systemd/system/perch.socket /usr/lib/sysusers.d/perch.conf /usr/share/perch/migrations/0001_create_users.sql \
              /usr/share/perch/docs-assets/swagger-ui-bundle.js /usr/share/doc/perch/copyright /usr/share/doc/perch/changelog.gz \
            && grep -q '^ExecStart=/usr/bin/perch serve$' /lib/systemd/system/perch.service
            """)
        #expect(files.status == 0, "\(files.output)")
        #expect(files.output.contains("root:perch 640 /etc/perch/jwt-signing-key"), "\(files.output)")
        #expect(files.output.contains("root:perch 640 /etc/perch/perch.env"), "\(files.output)")

        // The operator's first steps: the database URL in perch.env, the password in its file.
        let url = "mariadb://\(account)@localhost/\(database.database ?? "")?socket=\(databaseSocket)"
        let configure = try inRoot(
            """
            sed -i 's|^PERCH_DATABASE_URL=.*|PERCH_DATABASE_URL=\(url)|' /etc/perch/perch.env \
            && (umask 027 && printf '%s' '\(password)' > /etc/perch/database-password) && chgrp perch /etc/perch/database-password \
            && install -d -o perch -g perch /run/perch
            """)
        #expect(configure.status == 0, "\(configure.output)")
        let asService = "PERCH_CONFIG_FILE=/etc/perch/perch.env setpriv --reuid=perch --regid=perch --init-groups"
        let pending = try inRoot("\(asService) perch check")
        #expect(pending.status == 78 && pending.output.contains("migrate"), "perch check before migrating: \(pending.status) \(pending.output)")
        let migrate = try inRoot("\(asService) perch migrate")
        #expect(migrate.status == 0, "perch migrate: \(migrate.output)")
        let check = try inRoot("\(asService) perch check")
        #expect(check.status == 0, "perch check: \(check.status) \(check.output)")

        // The service as its unit starts it: ExecStart, its EnvironmentFile= and Environment= lines, User=.
        let unit = try String(contentsOfFile: root + "/lib/systemd/system/perch.service", encoding: .utf8).components(separatedBy: "\n")
        func values(_ key: String) -> [String] { unit.filter { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) } }
        let execStart = try #require(values("ExecStart").first)
        let user = try #require(values("User").first)
        let environment = values("Environment").joined(separator: " ")
        let environmentFiles = values("EnvironmentFile").map { "set -a && . \($0) && set +a && " }.joined()
        // No systemd socket here: the pool binds the socket perch.socket would have made.
        let serve =
            "\(environmentFiles) exec env \(environment) PERCH_LISTEN=unix:/run/perch/perch.sock PERCH_SOCKET_MODE=666 "
            + "setpriv --reuid=\(user) --regid=\(user) --init-groups \(execStart)"
        let pool = try ChildProcess(
            Self.inRoot(root, databaseFolder: databaseFolder, serve), environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"],
            logPath: folder + "/serve.log")
        defer { pool.terminate() }
        let socket = root + "/run/perch/perch.sock"
        try #require(eventually(seconds: 30) { FileManager.default.fileExists(atPath: socket) }, "the pool did not start: \(pool.log)")
        let nginx = try PrivateNginx(socketPath: socket)
        defer { nginx.stop() }
        try DeployFlow.exercise(baseURL: nginx.baseURL)
        // /docs from the installed assets, not the CDN.
        let docs = try curl(nginx.baseURL + "/docs")
        #expect(docs.status == 200 && docs.body.contains("/docs-assets/swagger-ui-bundle.js") && !docs.body.contains("jsdelivr"))
        #expect(try curl(nginx.baseURL + "/docs-assets/redoc.standalone.js").status == 200)
        pool.signal(SIGTERM)
        #expect(pool.wait(seconds: 40) == 0, "the pool's exit: \(pool.log)")

        // Remove keeps the configuration and the key; purge takes them.
        let remove = try inRoot("apt-get remove -y -q perch && ! test -e /usr/bin/perch && test -s /etc/perch/perch.env && test -s /etc/perch/jwt-signing-key")
        #expect(remove.status == 0, "apt-get remove: \(remove.output.suffix(2000))")
        let purge = try inRoot("rm -f /etc/perch/database-password && apt-get purge -y -q perch && ! test -e /etc/perch")
        #expect(purge.status == 0, "apt-get purge: \(purge.output.suffix(2000))")
    }
}
