import Foundation
import Logging

/// One line per log message on stderr: time, level, pid, message, then key=value metadata (logfmt), so that
/// journald, nginx's error log and grep all read it. Values are quoted when they need to be.
public struct LogLine: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let label: String

    public init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = metadata
        if let explicit = event.metadata { fields.merge(explicit) { $1 } }
        if let error = event.error { fields["error"] = "\(error)" }
        let level = event.level, message = event.message
        if fields["pid"] == nil { fields["pid"] = "\(getpid())" }
        var text = "\(Self.timestamp()) level=\(level) msg=\(Self.quote(message.description))"
        for key in fields.keys.sorted() { text += " \(key)=\(Self.quote("\(fields[key]!)"))" }
        text += "\n"
        text.withCString { _ = fputs($0, stderr) }
        fflush(stderr)
    }

    private static func quote(_ value: String) -> String {
        let plain = !value.isEmpty && value.allSatisfy { $0.isLetter || $0.isNumber || "-._/:@[]".contains($0) }
        if plain { return value }
        var escaped = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            default: escaped.unicodeScalars.append(scalar.value < 0x20 ? "?" : scalar)
            }
        }
        return "\"\(escaped)\""
    }

    private static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var parts = tm()
        var seconds = now.tv_sec
        gmtime_r(&seconds, &parts)
        // Written by hand: Foundation's String(format:) costs more than the rest of the line (one per request).
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return pad(Int(parts.tm_year) + 1900, 4) + "-" + pad(Int(parts.tm_mon) + 1, 2) + "-" + pad(Int(parts.tm_mday), 2)
            + "T" + pad(Int(parts.tm_hour), 2) + ":" + pad(Int(parts.tm_min), 2) + ":" + pad(Int(parts.tm_sec), 2)
            + "." + pad(now.tv_nsec / 1_000_000, 3) + "Z"
    }
}
