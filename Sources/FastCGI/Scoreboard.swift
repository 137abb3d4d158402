import Glibc

/// Pool state in shared memory, like PHP-FPM's scoreboard: each worker writes only its own slot, the master
/// and the status page read them all. No cross-process locks or atomics are needed because every field has
/// exactly one writer; totals are sums over slots, so a respawned worker keeps its slot's history.
public final class Scoreboard {
    public enum State: Int32, Sendable {
        case empty = 0, starting, idle, reading, busy
        /// Left the pool (recycled): serves only its kept connections until nginx closes them.
        case retiring
        var name: String {
            switch self {
            case .empty: return "empty"
            case .starting: return "starting"
            case .idle: return "idle"
            case .reading: return "reading headers"
            case .busy: return "running"
            case .retiring: return "retiring"
            }
        }
    }

    static let headerSize = 64
    static let slotSize = 512
    let base: UnsafeMutableRawPointer
    public let slotCount: Int

    public init(slots: Int) throws {
        slotCount = slots
        let size = Scoreboard.headerSize + slots * Scoreboard.slotSize
        let mapped = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0)
        guard let mapped, mapped != MAP_FAILED else { throw ConfigurationError("cannot map the scoreboard: \(errnoText())") }
        base = mapped  // anonymous memory starts zeroed; it lives as long as the processes that map it
        base.storeBytes(of: Int64(time(nil)), as: Int64.self)
    }

    public var startedUnix: Int64 { base.load(as: Int64.self) }

    public func slot(_ index: Int) -> Slot {
        precondition(index >= 0 && index < slotCount)
        return Slot(raw: base + Scoreboard.headerSize + index * Scoreboard.slotSize)
    }

    public var slots: [Slot] { (0..<slotCount).map(slot) }

    /// How many workers are reading or running a request right now.
    public var activeCount: Int {
        slots.filter { $0.state == .reading || $0.state == .busy }.count
    }

    /// One worker's record. Offsets are fixed so that every process agrees on the layout.
    public struct Slot {
        let raw: UnsafeMutableRawPointer

        public var pid: pid_t { raw.load(fromByteOffset: 0, as: Int32.self) }
        public var state: State { State(rawValue: raw.load(fromByteOffset: 4, as: Int32.self)) ?? .empty }
        /// Requests served by the current worker process.
        public var requests: UInt64 { raw.load(fromByteOffset: 8, as: UInt64.self) }
        /// Since the pool started: connections accepted, slow requests, times all workers were busy.
        public var accepted: UInt64 { raw.load(fromByteOffset: 16, as: UInt64.self) }
        public var slowRequests: UInt64 { raw.load(fromByteOffset: 24, as: UInt64.self) }
        public var allBusy: UInt64 { raw.load(fromByteOffset: 32, as: UInt64.self) }
        public var maxActive: UInt64 { raw.load(fromByteOffset: 40, as: UInt64.self) }
        /// Monotonic start of the current request in nanoseconds; 0 when idle.
        public var requestStart: Int64 { raw.load(fromByteOffset: 48, as: Int64.self) }
        public var startedUnix: Int64 { raw.load(fromByteOffset: 56, as: Int64.self) }
        public var lastDurationNanos: Int64 { raw.load(fromByteOffset: 64, as: Int64.self) }
        public var requestID: String { text(at: 80, lengthAt: 72) }
        public var method: String { text(at: 208, lengthAt: 74) }
        public var uri: String { text(at: 224, lengthAt: 76) }

        /// The master claims the slot for a newly forked worker.
        func assign(pid: pid_t) {
            raw.storeBytes(of: pid, toByteOffset: 0, as: Int32.self)
            raw.storeBytes(of: Int64(time(nil)), toByteOffset: 56, as: Int64.self)
            raw.storeBytes(of: 0, toByteOffset: 8, as: UInt64.self)
            raw.storeBytes(of: 0, toByteOffset: 48, as: Int64.self)
            set(.starting)
        }

        func release() {
            set(.empty)
            raw.storeBytes(of: 0, toByteOffset: 0, as: Int32.self)
            raw.storeBytes(of: 0, toByteOffset: 48, as: Int64.self)
        }

        func set(_ state: State) { raw.storeBytes(of: state.rawValue, toByteOffset: 4, as: Int32.self) }

        /// A connection arrived: the worker starts reading a request. `active` counts this one.
        func beginReading(active: Int, poolSize: Int) {
            raw.storeBytes(of: monotonicNanos(), toByteOffset: 48, as: Int64.self)
            store(text: "", at: 80, lengthAt: 72, capacity: 128)
            store(text: "", at: 208, lengthAt: 74, capacity: 16)
            store(text: "", at: 224, lengthAt: 76, capacity: 288)
            bump(16)
            if UInt64(active) > maxActive { raw.storeBytes(of: UInt64(active), toByteOffset: 40, as: UInt64.self) }
            if active >= poolSize { bump(32) }
            set(.reading)
        }

        func beginRunning(method: String, uri: String) {
            store(text: method, at: 208, lengthAt: 74, capacity: 16)
            store(text: uri, at: 224, lengthAt: 76, capacity: 288)
            set(.busy)
        }

        func noteRequestID(_ id: String) { store(text: id, at: 80, lengthAt: 72, capacity: 128) }

        func finish(slowThresholdNanos: Int64, counted: Bool) {
            let duration = monotonicNanos() - requestStart
            raw.storeBytes(of: duration, toByteOffset: 64, as: Int64.self)
            if counted {
                bump(8)
                if duration > slowThresholdNanos { bump(24) }
            }
            raw.storeBytes(of: 0, toByteOffset: 48, as: Int64.self)
            set(.idle)
        }

        private func bump(_ offset: Int) {
            raw.storeBytes(of: raw.load(fromByteOffset: offset, as: UInt64.self) &+ 1, toByteOffset: offset, as: UInt64.self)
        }

        private func store(text: String, at offset: Int, lengthAt lengthOffset: Int, capacity: Int) {
            var text = text
            text.withUTF8 { bytes in
                let count = min(bytes.count, capacity)
                raw.storeBytes(of: UInt16(0), toByteOffset: lengthOffset, as: UInt16.self)
                if count > 0 { (raw + offset).copyMemory(from: bytes.baseAddress!, byteCount: count) }
                raw.storeBytes(of: UInt16(count), toByteOffset: lengthOffset, as: UInt16.self)
            }
        }

        private func text(at offset: Int, lengthAt lengthOffset: Int) -> String {
            let length = Int(raw.load(fromByteOffset: lengthOffset, as: UInt16.self))
            let buffer = UnsafeRawBufferPointer(start: raw + offset, count: length)
            return String(decoding: buffer, as: UTF8.self)
        }
    }
}
