import App
import ArgumentParser
import Foundation

struct Perch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perch",
        abstract: "A JSON API served as a pre-forked FastCGI pool behind nginx.",
        subcommands: [Serve.self]
    )
}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve FastCGI on an inherited socket (systemd, fd 0), on PERCH_LISTEN, or one request as CGI.")

    func run() throws {
        do {
            let status = try Service.serve()
            Foundation.exit(status)
        } catch let error as AppConfigurationError {
            FileHandle.standardError.write(Data("perch: \(error)\n".utf8))
            throw ExitCode(78)  // EX_CONFIG
        } catch {
            FileHandle.standardError.write(Data("perch: \(error)\n".utf8))
            throw ExitCode(78)
        }
    }
}

Perch.main()
