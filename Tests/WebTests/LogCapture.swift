import Foundation
import Logging

/// Keeps every log record in memory so tests can read what was logged.
final class LogStore: @unchecked Sendable {
    struct Entry {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }
    private let lock = NSLock()
    private var items: [Entry] = []

    func append(_ e: Entry) {
        lock.lock()
        items.append(e)
        lock.unlock()
    }
    var entries: [Entry] {
        lock.lock()
        defer { lock.unlock() }
        return items
    }

    func logger() -> Logger { Logger(label: "test") { _ in CapturingLogHandler(store: self) } }
}

struct CapturingLogHandler: LogHandler {
    let store: LogStore
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        let merged = metadata.merging(extra ?? [:]) { $1 }
        store.append(.init(level: level, message: message.description, metadata: merged.mapValues { "\($0)" }))
    }
}
