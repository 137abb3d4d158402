import App
import ArgumentParser
import FoundationEssentials
import Glibc

struct Perch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perch",
        abstract: "A JSON API served as a pre-forked FastCGI pool behind nginx.",
        version: PerchVersion.current,
        subcommands: [Serve.self, CheckCommand.self, Migrate.self, MailSenderCommand.self, OpenAPI.self, CreateSuperuser.self, GenerateKey.self]
    )
}

/// Prints a configuration or runtime error without a stack and exits with EX_CONFIG (78) or 1.
func failing(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch let error as AppConfigurationError {
        fputs("perch: \(error)\n", stderr)
        throw ExitCode(78)
    } catch {
        fputs("perch: \(error)\n", stderr)
        throw ExitCode(1)
    }
}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve FastCGI on an inherited socket (systemd, fd 0), on PERCH_LISTEN, or one request as CGI.")

    func run() throws {
        // A network-facing server needs no root: a bug in it would hand an attacker the machine. The systemd
        // units run it as User=perch; Apache and lighttpd as their own user.
        if geteuid() == 0 && getenv("PERCH_ALLOW_ROOT").map({ String(cString: $0) }) != "1" {
            fputs("perch: refusing to serve as root; run it as an unprivileged user (or set PERCH_ALLOW_ROOT=1, e.g. in a container)\n", stderr)
            throw ExitCode(78)
        }
        try failing { Glibc.exit(try Service.serve()) }
    }
}

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check the configuration, secrets, database, migrations and socket without serving: exit 0, or 78 listing every problem.")

    func run() throws {
        let problems = Check.problems()
        guard problems.isEmpty else {
            fputs("perch check: \(problems.count) problem(s):\n" + problems.map { "  \($0)\n" }.joined(), stderr)
            throw ExitCode(78)
        }
        print("perch check: ok (perch \(PerchVersion.current))")
    }
}

struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending SQL migrations (sql/migrations) in order.")

    @Flag(help: "List applied and pending migrations instead of applying.")
    var status = false

    func run() throws {
        try failing {
            for line in try Migrations.run(statusOnly: status) { print(line) }
        }
    }
}

struct MailSenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mail-sender",
        abstract: "Deliver the mail outbox over SMTP (PERCH_SMTP_URL) until TERM; run one or more, on any hosts.")

    func run() throws {
        try failing { Glibc.exit(try Service.sendMail()) }
    }
}

struct OpenAPI: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "openapi", abstract: "Print the OpenAPI document.")

    func run() throws {
        try failing {
            let document = try Service.openAPIDocument()
            fwrite(document, 1, document.count, stdout)
        }
    }
}

/// A usage problem, printed as `perch: <message>`.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

struct CreateSuperuser: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Create a superuser (or promote an existing account with --promote-existing); the password is read from stdin or prompted for, never an argument.")

    @Option(help: "The superuser's email address.")
    var email: String

    @Flag(help: "Promote an existing account with this email: its password is replaced and its sessions end.")
    var promoteExisting = false

    func run() throws {
        try failing {
            let config = try AppConfiguration.fromProcess()
            print(try Superuser.create(email: email, password: try readPassword(), promoteExisting: promoteExisting, config: config))
        }
    }

    /// A prompt without echo on a terminal; the first line of stdin otherwise.
    private func readPassword() throws -> String {
        if isatty(STDIN_FILENO) == 1, let entered = getpass("Password: ") {
            let password = String(cString: entered)
            guard let again = getpass("Password (again): "), String(cString: again) == password else {
                throw CLIError("passwords do not match")
            }
            return password
        }
        guard let line = readLine(strippingNewline: true) else { throw CLIError("no password on stdin") }
        return line
    }
}

struct GenerateKey: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a new JWT signing key as configuration lines.")

    @Option(help: "HS256 or EdDSA.")
    var algorithm: String = "HS256"

    func run() throws {
        try failing {
            guard let lines = SigningKeys.configurationLines(algorithmName: algorithm) else {
                throw CLIError("--algorithm: \"\(algorithm)\" is not HS256 or EdDSA")
            }
            lines.forEach { print($0) }
        }
    }
}

Perch.main()
