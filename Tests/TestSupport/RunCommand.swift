import Foundation

/// What a command printed and how it exited.
public struct CommandResult {
    public let status: Int32
    public let output: String
}

/// Runs a command to completion (bounded by `seconds`), capturing stdout and stderr together.
public func run(_ arguments: [String], environment: [String: String]? = nil, input: String? = nil, seconds: Double = 120) throws -> CommandResult {
    let directory = Paths.makeTemporaryDirectory("perch-cmd")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    var env = environment ?? ProcessInfo.processInfo.environment
    if env["PATH"] == nil { env["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin" }
    var fds: [Int32: Int32] = [:]
    var inputFD: Int32 = -1
    if let input {
        let inputPath = directory + "/input"
        try input.write(toFile: inputPath, atomically: true, encoding: .utf8)
        inputFD = open(inputPath, O_RDONLY)
        fds[0] = inputFD
    }
    defer { if inputFD >= 0 { close(inputFD) } }
    let child = try ChildProcess(arguments, environment: env, fds: fds, logPath: directory + "/output")
    guard let status = child.wait(seconds: seconds) else {
        child.signal(SIGKILL)
        child.wait(seconds: 5)
        throw SupportError("\(arguments.joined(separator: " ")) ran past \(seconds) s")
    }
    return CommandResult(status: status, output: child.log)
}
