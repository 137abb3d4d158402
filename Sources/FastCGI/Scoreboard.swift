import CFastCGI
import Glibc

/// Pool state in shared memory, like PHP-FPM's scoreboard: each worker writes only its own slot, the master
/// and the status page read them all. No cross-process locks or atomics are needed because every field has
/// exactly one writer; totals are sums over slots, so a respawned worker keeps its slot's history.
public final class Scoreboard {
    public enum State: Int32, Sendable {
        case empty = 0
        case starting, idle, reading, busy
        /// Left the pool (recycled or reloaded): finishes its request and hands its kept connection on.
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

    /// Why a worker was replaced by a new one, counted in the scoreboard's header (OpenMetrics
    /// `perch_worker_replacements_total`).
    public enum Replacement: Int, CaseIterable, Sendable {
        case requests, memory, lifetime, crash, timeout, reload
        var name: String { "\(self)" }
    }

    /// Why a worker retired itself (written to its slot before the `.retiring` state): the first three are
    /// replacements; `told` (USR2: a dynamic pool shrinking) and `idle` (an ondemand worker's idle timeout) are not.
    enum LeaveReason: Int32 {
        case told = 0
        case requests, memory, lifetime, idle
        var replacement: Replacement? {
            switch self {
            case .requests: return .requests
            case .memory: return .memory
            case .lifetime: return .lifetime
            case .told, .idle: return nil
            }
        }
    }

    let header: UnsafeMutablePointer<perch_scoreboard_header>
    let slotBase: UnsafeMutablePointer<perch_slot>
    public let slotCount: Int
    /// Request durations, queue times and login counters, per slot like the rest (OpenMetrics).
    let metrics: RequestMetrics

    public init(slots: Int, metricRoutes: [MetricRoute] = []) throws {
        slotCount = slots
        metrics = try RequestMetrics(slots: slots, routes: metricRoutes)
        let size = MemoryLayout<perch_scoreboard_header>.stride + slots * MemoryLayout<perch_slot>.stride
        let mapped = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0)
        guard let mapped, mapped != MAP_FAILED else { throw ConfigurationError("cannot map the scoreboard: \(errnoText())") }
        // Anonymous memory starts zeroed; it lives as long as the processes that map it.
        header = mapped.bindMemory(to: perch_scoreboard_header.self, capacity: 1)
        slotBase = (mapped + MemoryLayout<perch_scoreboard_header>.stride).bindMemory(to: perch_slot.self, capacity: slots)
        header.pointee.started_unix = Int64(time(nil))
    }

    public var startedUnix: Int64 { header.pointee.started_unix }

    /// Workers replaced for `reason` since the pool started (carried across reloads by the master).
    public func replacements(_ reason: Replacement) -> UInt64 {
        withUnsafeBytes(of: &header.pointee.replacements) { $0.load(fromByteOffset: reason.rawValue * 8, as: UInt64.self) }
    }

    func countReplacements(_ reason: Replacement, _ count: UInt64 = 1) {
        withUnsafeMutableBytes(of: &header.pointee.replacements) { bytes in
            let now = bytes.load(fromByteOffset: reason.rawValue * 8, as: UInt64.self)
            bytes.storeBytes(of: now &+ count, toByteOffset: reason.rawValue * 8, as: UInt64.self)
        }
    }

    public func slot(_ index: Int) -> Slot {
        precondition(index >= 0 && index < slotCount)
        return Slot(raw: slotBase + index)
    }

    public var slots: [Slot] { (0..<slotCount).map(slot) }

    /// How many workers are reading or running a request right now.
    public var activeCount: Int {
        slots.filter { $0.state == .reading || $0.state == .busy }.count
    }

    /// One worker's record: `struct perch_slot` of the C shim, so every process agrees on the layout.
    public struct Slot {
        let raw: UnsafeMutablePointer<perch_slot>

        public var pid: pid_t { raw.pointee.pid }
        public var state: State { State(rawValue: raw.pointee.state) ?? .empty }
        /// Requests served by the current worker process.
        public var requests: UInt64 { raw.pointee.requests }
        /// Since the pool started: connections accepted, slow requests, times all workers were busy.
        public var accepted: UInt64 { raw.pointee.accepted }
        public var slowRequests: UInt64 { raw.pointee.slow_requests }
        public var allBusy: UInt64 { raw.pointee.all_busy }
        public var maxActive: UInt64 { raw.pointee.max_active }
        /// Monotonic start of the current request in nanoseconds; 0 when idle.
        public var requestStart: Int64 { raw.pointee.request_start }
        public var startedUnix: Int64 { raw.pointee.started_unix }
        public var lastDurationNanos: Int64 { raw.pointee.last_duration_nanos }
        /// The current or last request's wait before a worker took it (X-Request-Start); nil when unknown.
        public var queueMicros: Int64? { raw.pointee.queue_micros >= 0 ? raw.pointee.queue_micros : nil }
        public var maxQueueMicros: Int64 { raw.pointee.max_queue_micros }
        public var requestID: String { withUnsafeBytes(of: &raw.pointee.request_id) { Slot.text($0, length: raw.pointee.request_id_length) } }
        public var method: String { withUnsafeBytes(of: &raw.pointee.method) { Slot.text($0, length: raw.pointee.method_length) } }
        public var uri: String { withUnsafeBytes(of: &raw.pointee.uri) { Slot.text($0, length: raw.pointee.uri_length) } }
        var leaveReason: LeaveReason { LeaveReason(rawValue: raw.pointee.leave_reason) ?? .told }

        /// The master claims the slot for a newly forked worker.
        func assign(pid: pid_t) {
            raw.pointee.pid = pid
            raw.pointee.started_unix = Int64(time(nil))
            raw.pointee.requests = 0
            raw.pointee.request_start = 0
            raw.pointee.queue_micros = -1
            raw.pointee.leave_reason = LeaveReason.told.rawValue
            perch_store_flag(&raw.pointee.holds_permit, 0)  // a worker that died holding a permit frees it here
            set(.starting)
        }

        func release() {
            set(.empty)
            raw.pointee.pid = 0
            raw.pointee.request_start = 0
            perch_store_flag(&raw.pointee.holds_permit, 0)
        }

        func set(_ state: State) { raw.pointee.state = state.rawValue }

        /// The worker leaves the pool: the reason first, so the master reads it once it sees `.retiring`.
        func retire(_ reason: LeaveReason) {
            raw.pointee.leave_reason = reason.rawValue
            set(.retiring)
        }

        /// A connection arrived: the worker starts reading a request. `active` counts this one.
        func beginReading(active: Int, poolSize: Int) {
            raw.pointee.request_start = monotonicNanos()
            raw.pointee.request_id_length = 0
            raw.pointee.method_length = 0
            raw.pointee.uri_length = 0
            raw.pointee.accepted &+= 1
            if UInt64(active) > raw.pointee.max_active { raw.pointee.max_active = UInt64(active) }
            if active >= poolSize { raw.pointee.all_busy &+= 1 }
            set(.reading)
        }

        func beginRunning(method: String, uri: String) {
            // Each length is zeroed before its text changes and set after, so a reader never sees a torn text.
            raw.pointee.method_length = 0
            raw.pointee.method_length = withUnsafeMutableBytes(of: &raw.pointee.method) { Slot.copy(method, into: $0) }
            raw.pointee.uri_length = 0
            raw.pointee.uri_length = withUnsafeMutableBytes(of: &raw.pointee.uri) { Slot.copy(uri, into: $0) }
            set(.busy)
        }

        func noteQueueTime(_ micros: Int64?) {
            raw.pointee.queue_micros = micros ?? -1
            if let micros, micros > raw.pointee.max_queue_micros { raw.pointee.max_queue_micros = micros }
        }

        func noteRequestID(_ id: String) {
            raw.pointee.request_id_length = 0
            raw.pointee.request_id_length = withUnsafeMutableBytes(of: &raw.pointee.request_id) { Slot.copy(id, into: $0) }
        }

        /// Returns the request's duration.
        @discardableResult func finish(slowThresholdNanos: Int64, counted: Bool) -> Int64 {
            let duration = monotonicNanos() - requestStart
            raw.pointee.last_duration_nanos = duration
            if counted {
                raw.pointee.requests &+= 1
                if duration > slowThresholdNanos { raw.pointee.slow_requests &+= 1 }
            }
            raw.pointee.request_start = 0
            set(.idle)
            return duration
        }

        /// Copies `text`, cut to the C array's size, into `storage`; returns the length stored.
        private static func copy(_ text: String, into storage: UnsafeMutableRawBufferPointer) -> UInt16 {
            var text = text
            return text.withUTF8 { bytes in
                let count = min(bytes.count, storage.count)
                if count > 0 { storage.baseAddress!.copyMemory(from: bytes.baseAddress!, byteCount: count) }
                return UInt16(count)
            }
        }

        private static func text(_ storage: UnsafeRawBufferPointer, length: UInt16) -> String {
            String(decoding: storage.prefix(Int(length)), as: UTF8.self)
        }
    }
}

/// Pool-wide permits for a costly section (the app's password hashes): at most `limit` workers of this host
/// hold one at once. Each worker raises the flag in its own slot and then counts the raised flags of all
/// slots, backing off when there are too many; a worker that dies holding a permit frees it when the master
/// reuses its slot. Given to the app's handler by `Pool.run`.
public struct SharedPermits {
    private let scoreboard: Scoreboard
    private let slot: Int

    init(scoreboard: Scoreboard, slot: Int) {
        self.scoreboard = scoreboard
        self.slot = slot
    }

    /// True when this worker now holds a permit; false (nothing held) when `limit` others hold one.
    public func tryAcquire(limit: Int) -> Bool {
        let board = scoreboard
        perch_store_flag(&board.slot(slot).raw.pointee.holds_permit, 1)
        var holders = 0
        for index in 0..<board.slotCount { holders += Int(perch_load_flag(&board.slot(index).raw.pointee.holds_permit)) }
        if holders <= limit { return true }
        release()
        return false
    }

    public func release() {
        perch_store_flag(&scoreboard.slot(slot).raw.pointee.holds_permit, 0)
    }

    /// Permits held across the pool right now (for the status page).
    static func held(in board: Scoreboard) -> Int {
        (0..<board.slotCount).reduce(0) { $0 + Int(perch_load_flag(&board.slot($1).raw.pointee.holds_permit)) }
    }
}
