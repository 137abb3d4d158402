import FoundationEssentials

/// Reads configuration from environment variables, collecting every problem so that a bad configuration
/// is reported in one go. Secrets can come from `NAME` or from a file named by `NAME_FILE`.
struct ConfigReader {
    private let values: [String: String]
    private(set) var problems: [String] = []

    /// The process environment, overlaid with `PERCH_CONFIG_FILE` (KEY=VALUE lines) when set. The file wins,
    /// so that a HUP, which re-reads it, can change settings of a running service.
    static func fromProcess() throws -> ConfigReader {
        var values = ProcessInfo.processInfo.environment
        if let path = values["PERCH_CONFIG_FILE"], !path.isEmpty {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw AppConfigurationError(problems: ["PERCH_CONFIG_FILE: cannot read \(path)"])
            }
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let trimmed = line.trimming(while: \.isWhitespace)
                if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
                guard let equals = trimmed.firstIndex(of: "=") else {
                    throw AppConfigurationError(problems: ["PERCH_CONFIG_FILE: line \(number + 1) of \(path) is not KEY=VALUE"])
                }
                var value = trimmed[trimmed.index(after: equals)...].trimming(while: \.isWhitespace)
                if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                    value = String(value.dropFirst().dropLast())
                }
                values[trimmed[..<equals].trimming(while: \.isWhitespace)] = value
            }
        }
        return ConfigReader(values)
    }

    init(_ values: [String: String]) { self.values = values }

    func string(_ name: String) -> String? {
        guard let value = values[name], !value.isEmpty else { return nil }
        return value
    }

    mutating func int(_ name: String, default fallback: Int, in range: ClosedRange<Int>) -> Int {
        guard let text = string(name) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            problems.append("\(name): \"\(text)\" is not a whole number from \(range.lowerBound) to \(range.upperBound)")
            return fallback
        }
        return value
    }

    mutating func seconds(_ name: String, default fallback: Double, in range: ClosedRange<Double>) -> Double {
        guard let text = string(name) else { return fallback }
        guard let value = Double(text), range.contains(value) else {
            problems.append("\(name): \"\(text)\" is not a number of seconds from \(range.lowerBound) to \(range.upperBound)")
            return fallback
        }
        return value
    }

    mutating func bool(_ name: String, default fallback: Bool) -> Bool {
        guard let text = string(name)?.lowercased() else { return fallback }
        switch text {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default:
            problems.append("\(name): \"\(text)\" is not a boolean (true/false)")
            return fallback
        }
    }

    func list(_ name: String) -> [String] {
        (string(name) ?? "").split(separator: ",").map { $0.trimming(while: \.isWhitespace) }.filter { !$0.isEmpty }
    }

    /// A secret from `name`, or read from the file named by `name_FILE` (trailing newline removed).
    mutating func secret(_ name: String) -> String? {
        if let path = string(name + "_FILE") {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                problems.append("\(name)_FILE: cannot read \(path)")
                return nil
            }
            return text.trimming(while: \.isNewline)
        }
        return string(name)
    }

    mutating func problem(_ text: String) { problems.append(text) }
}

/// Everything wrong with the configuration, one line each.
public struct AppConfigurationError: Error, CustomStringConvertible {
    public let problems: [String]
    public var description: String { "invalid configuration:\n  " + problems.joined(separator: "\n  ") }
}
