import App
import ArgumentParser
import Foundation

struct Perch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perch",
        abstract: "A JSON API served as a pre-forked FastCGI pool behind nginx.",
        subcommands: [Serve.self, Migrate.self, OpenAPI.self]
    )
}

/// Prints a configuration or runtime error without a stack and exits with EX_CONFIG (78) or 1.
func failing(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch let error as AppConfigurationError {
        FileHandle.standardError.write(Data("perch: \(error)\n".utf8))
        throw ExitCode(78)
    } catch {
        FileHandle.standardError.write(Data("perch: \(error)\n".utf8))
        throw ExitCode(1)
    }
}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve FastCGI on an inherited socket (systemd, fd 0), on PERCH_LISTEN, or one request as CGI.")

    func run() throws {
        try failing { Foundation.exit(try Service.serve()) }
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

struct OpenAPI: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "openapi", abstract: "Print the OpenAPI document.")

    func run() throws {
        try failing {
            FileHandle.standardOutput.write(Data(try Service.openAPIDocument()))
        }
    }
}

Perch.main()
