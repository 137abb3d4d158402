import FastCGI
import Glibc
import Logging
import Web

/// One line per log message on stderr (through `LogOutput`): time, level, pid, message, then key=value metadata (logfmt), so that
/// journald, nginx's error log and grep all read it. Values are quoted when they need to be.
/// Built as bytes: the access log writes one line per request, and String work here once cost a third of a
/// health request's CPU.
public struct LogLine: LogHandler {
    public enum Format: String, Sendable {
        /// `<time> level=<level> msg=<message> key=value...`
        case logfmt
        /// `{"timestamp": ..., "level": ..., "message": ..., <metadata>}`, one object per line, for log shippers.
        case json
    }

    /// How lines are written: the format, and whether each starts with the syslog priority journald reads (`<4>`).
    public struct Style: Sendable {
        public var format: Format = .logfmt
        public var journalPriorities = false

        public init(format: Format = .logfmt, journalPriorities: Bool = false) {
            self.format = format
            self.journalPriorities = journalPriorities
        }
    }

    public var logLevel: Logger.Level
    private let label: String
    private let style: Style
    /// The metadata but the request id, and the same as sorted fields (it changes about once per worker).
    private var shared: Logger.Metadata = [:] { didSet { sharedFields = Self.merged([], shared, addingPID: false) } }
    private var sharedFields: [(key: String, value: String)] = []
    /// Set for every request, so kept out of the dictionary: copying and rehashing that cost more than the line.
    private var requestID: Logger.Metadata.Value?

    public init(label: String, level: Logger.Level, style: Style = Style()) {
        self.label = label
        self.logLevel = level
        self.style = style
    }

    /// True when stderr is journald's stream: systemd sets JOURNAL_STREAM to its `device:inode`, which a
    /// redirection (a log file, a pipe to another program) no longer matches.
    public static func stderrIsJournal(_ journalStream: String? = getenv("JOURNAL_STREAM").map { String(cString: $0) }, fd: Int32 = 2) -> Bool {
        guard let journalStream else { return false }
        let parts = journalStream.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var status = stat()
        guard fstat(fd, &status) == 0 else { return false }
        return UInt64(status.st_dev) == device && UInt64(status.st_ino) == inode
    }

    public var metadata: Logger.Metadata {
        get {
            var all = shared
            if let requestID { all["request_id"] = requestID }
            return all
        }
        set {
            var rest = newValue
            requestID = rest.removeValue(forKey: "request_id")
            shared = rest
        }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { key == "request_id" ? requestID : shared[key] }
        set { if key == "request_id" { requestID = newValue } else { shared[key] = newValue } }
    }

    public func log(event: LogEvent) {
        write(level: event.level, message: event.message.description, fields: Self.fields(metadata, event))
    }

    private func write(level: Logger.Level, message: String, fields: [(key: String, value: String)]) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        LogOutput.write(Self.render(time: now, level: level, message: message, fields: fields, style: style), urgent: level >= .warning)
    }

    /// The handler's metadata, overridden by the event's, plus the error and our pid; sorted by key.
    static func fields(_ metadata: Logger.Metadata, _ event: LogEvent) -> [(key: String, value: String)] {
        var fields: [(key: String, value: String)] = []
        fields.reserveCapacity(metadata.count + (event.metadata?.count ?? 0) + 2)
        let hasError = event.error != nil
        for (key, value) in event.metadata ?? [:] where !(hasError && key == "error") { fields.append((key, Self.text(value))) }
        if let error = event.error { fields.append(("error", "\(error)")) }
        return merged(fields, metadata)
    }

    /// `explicit` plus the handler's metadata they do not name, plus our pid; sorted by key. Keys are matched
    /// by scanning (a line has a handful): hashing them cost more than writing the line.
    private static func merged(
        _ explicit: [(key: String, value: String)], _ metadata: Logger.Metadata,
        addingPID: Bool = true
    ) -> [(key: String, value: String)] {
        var fields = explicit
        fields.reserveCapacity(explicit.count + metadata.count + 1)
        let given = fields.count
        for (key, value) in metadata where !fields[..<given].contains(where: { $0.key == key }) {
            fields.append((key, Self.text(value)))
        }
        if addingPID && !fields.contains(where: { $0.key == "pid" }) { fields.append(("pid", String(getpid()))) }
        // Insertion sort: few fields, and it spares the generic sort's overhead on every line.
        for index in fields.indices.dropFirst() {
            var position = index
            while position > 0 && fields[position].key < fields[position - 1].key {
                fields.swapAt(position, position - 1)
                position -= 1
            }
        }
        return fields
    }

    static func text(_ value: Logger.Metadata.Value) -> String {
        if case .string(let text) = value { return text }
        return value.description
    }

    /// `<time> level=<level> msg=<message> key=value...` (or the JSON object) and a newline; `fields` already in order.
    static func render(
        time: timespec, level: Logger.Level, message: String, fields: [(key: String, value: String)], style: Style = Style()
    ) -> [UInt8] {
        if style.format == .json { return renderJSON(time: time, level: level, message: message, fields: fields, style: style) }
        var out = lineStart(time: time, level: level, message: message, style: style)
        for (key, value) in fields { appendField(key, value, to: &out) }
        out.append(UInt8(ascii: "\n"))
        return out
    }

    /// `<time> level=<level> msg=<message>`, after the journal's priority when asked for.
    private static func lineStart(time: timespec, level: Logger.Level, message: String, style: Style) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        if style.journalPriorities { appendPriority(level, to: &out) }
        appendTimestamp(time, to: &out)
        out += " level=".utf8
        append(level.rawValue, to: &out)
        out += " msg=".utf8
        appendQuoted(message, to: &out)
        return out
    }

    /// `<N>`: the syslog priority of the level, which journald takes off the line and records as its priority.
    static func appendPriority(_ level: Logger.Level, to out: inout [UInt8]) {
        let priority: UInt8
        switch level {
        case .trace, .debug: priority = 7
        case .info: priority = 6
        case .notice: priority = 5
        case .warning: priority = 4
        case .error: priority = 3
        case .critical: priority = 2
        }
        out += [UInt8(ascii: "<"), UInt8(ascii: "0") + priority, UInt8(ascii: ">")]
    }

    /// Fields whose values are numbers in JSON when they read as one (the rest are strings, so a field never
    /// changes type from line to line).
    private static let numericFields: Set<String> = ["bytes", "duration_ms", "pid", "queue_ms", "status"]

    /// `{"timestamp":"...","level":"...","message":"...",<fields>}` and a newline.
    private static func renderJSON(
        time: timespec, level: Logger.Level, message: String, fields: [(key: String, value: String)], style: Style
    ) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        if style.journalPriorities { appendPriority(level, to: &out) }
        out += #"{"timestamp":""#.utf8
        appendTimestamp(time, to: &out)
        out += #"","level":"#.utf8
        appendJSONString(level.rawValue, to: &out)
        out += #","message":"#.utf8
        appendJSONString(message, to: &out)
        for (key, value) in fields where key != "timestamp" && key != "level" && key != "message" {
            out.append(UInt8(ascii: ","))
            appendJSONString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            if numericFields.contains(key), Double(value) != nil,
                value.utf8.allSatisfy({ $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") || (48...57).contains($0) })
            {
                append(value, to: &out)
            } else {
                appendJSONString(value, to: &out)
            }
        }
        out += "}\n".utf8
        return out
    }

    /// A JSON string: `"` and `\` escaped, control characters as `\uXXXX`, the rest as UTF-8.
    static func appendJSONString(_ value: String, to out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += #"\""#.utf8
            case UInt8(ascii: "\\"): out += #"\\"#.utf8
            case UInt8(ascii: "\n"): out += #"\n"#.utf8
            case ..<0x20: out += #"\u00"#.utf8 + [hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// ` key=value`, the value quoted if it needs to be.
    private static func appendField(_ key: String, _ value: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: " "))
        append(key, to: &out)
        out.append(UInt8(ascii: "="))
        appendQuoted(value, to: &out)
    }

    private static func append(_ text: String, to out: inout [UInt8]) {
        var text = text
        text.withUTF8 { out.append(contentsOf: $0) }
    }

    /// The value as is when it is letters, digits and `-._/:@[]` only; else quoted, with `"`, `\` and line
    /// breaks escaped and other control characters replaced by `?`.
    static func appendQuoted(_ value: String, to out: inout [UInt8]) {
        if isPlain(value) {
            append(value, to: &out)
            return
        }
        out.append(UInt8(ascii: "\""))
        for byte in value.utf8 {  // UTF-8 beyond ASCII passes through whole
            switch byte {
            case UInt8(ascii: "\""): out += #"\""#.utf8
            case UInt8(ascii: "\\"): out += #"\\"#.utf8
            case UInt8(ascii: "\n"): out += #"\n"#.utf8
            case UInt8(ascii: "\r"): out += #"\r"#.utf8
            case UInt8(ascii: "\t"): out += #"\t"#.utf8
            case ..<0x20: out.append(UInt8(ascii: "?"))
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func isPlain(_ value: String) -> Bool {
        guard !value.isEmpty else { return false }
        var value = value
        var ascii = true
        let plainSoFar = value.withUTF8 { utf8 -> Bool in  // contiguous bytes: every field of every line comes here
            for byte in utf8 {
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                    UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "/"), UInt8(ascii: ":"),
                    UInt8(ascii: "@"), UInt8(ascii: "["), UInt8(ascii: "]"):
                    continue
                case 0x80...: ascii = false
                default: return false
                }
            }
            return true
        }
        // Letters and digits beyond ASCII count as plain too; only then are Unicode properties worth their cost.
        return plainSoFar && (ascii || value.allSatisfy { $0.isLetter || $0.isNumber || "-._/:@[]".contains($0) })
    }

    /// RFC 3339 UTC with milliseconds: 2026-01-02T03:04:05.678Z. The part up to the seconds is kept per second.
    static func appendTimestamp(_ time: timespec, to out: inout [UInt8]) {
        if time.tv_sec != lastSecond.seconds {
            var parts = tm()
            var seconds = time.tv_sec
            gmtime_r(&seconds, &parts)
            var head: [UInt8] = []
            head.reserveCapacity(20)
            Digits.append(Int64(parts.tm_year) + 1900, width: 4, to: &head)
            head.append(UInt8(ascii: "-"))
            Digits.append(Int64(parts.tm_mon) + 1, width: 2, to: &head)
            head.append(UInt8(ascii: "-"))
            Digits.append(Int64(parts.tm_mday), width: 2, to: &head)
            head.append(UInt8(ascii: "T"))
            Digits.append(Int64(parts.tm_hour), width: 2, to: &head)
            head.append(UInt8(ascii: ":"))
            Digits.append(Int64(parts.tm_min), width: 2, to: &head)
            head.append(UInt8(ascii: ":"))
            Digits.append(Int64(parts.tm_sec), width: 2, to: &head)
            head.append(UInt8(ascii: "."))
            lastSecond = (time.tv_sec, head)
        }
        out += lastSecond.text
        Digits.append(Int64(time.tv_nsec / 1_000_000), width: 3, to: &out)
        out.append(UInt8(ascii: "Z"))
    }

    /// Per process: perch logs from one thread (the master and each worker have one).
    nonisolated(unsafe) private static var lastSecond: (seconds: Int, text: [UInt8]) = (-1, [])

}

/// The access line without swift-log's metadata dictionary and event, and without a field list: the same
/// line `log(event:)` writes for `logger.info("request", metadata: entry.metadata)`, made in one pass.
extension LogLine: AccessLogWriter {
    public func logAccess(_ entry: AccessLogEntry) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        LogOutput.write(accessLine(entry, time: now), urgent: false)
    }

    /// The entry's fields, in key order, merged with the handler's sorted ones as they are written. The
    /// entry's own win over the handler's of the same name; the request id and the pid go in their places.
    func accessLine(_ entry: AccessLogEntry, time: timespec) -> [UInt8] {
        if style.format == .json {
            return Self.render(time: time, level: .info, message: "request", fields: Self.merged(entry.fields, metadata), style: style)
        }
        var out = Self.lineStart(time: time, level: .info, message: "request", style: style)
        var remaining = sharedFields[...]
        /// Writes the handler's fields that sort before `key`; takes out the one named `key` and returns its value.
        func handlerFields(upTo key: String) -> String? {
            while let field = remaining.first, field.key <= key {
                remaining.removeFirst()
                if field.key == key { return field.value }
                Self.appendField(field.key, field.value, to: &out)
            }
            return nil
        }
        _ = handlerFields(upTo: "bytes")
        out += " bytes=".utf8
        Digits.append(Int64(entry.bytes), to: &out)
        _ = handlerFields(upTo: "duration_ms")
        out += " duration_ms=".utf8
        Digits.append(entry.durationMicros / 1000, to: &out)
        out.append(UInt8(ascii: "."))
        Digits.append(entry.durationMicros % 1000, width: 3, to: &out)
        _ = handlerFields(upTo: "method")
        Self.appendField("method", entry.method, to: &out)
        _ = handlerFields(upTo: "path")
        Self.appendField("path", entry.path, to: &out)
        Self.appendField("pid", handlerFields(upTo: "pid") ?? String(getpid()), to: &out)
        if let queueMicros = entry.queueMicros {
            _ = handlerFields(upTo: "queue_ms")
            out += " queue_ms=".utf8
            Digits.append(queueMicros / 1000, to: &out)
            out.append(UInt8(ascii: "."))
            Digits.append(queueMicros % 1000, width: 3, to: &out)
        }
        _ = handlerFields(upTo: "request_id")
        if let requestID { Self.appendField("request_id", Self.text(requestID), to: &out) }
        _ = handlerFields(upTo: "status")
        out += " status=".utf8
        Digits.append(Int64(entry.status), to: &out)
        for field in remaining { Self.appendField(field.key, field.value, to: &out) }
        out.append(UInt8(ascii: "\n"))
        return out
    }
}
