import Foundation

/// The pool status as JSON, in PHP-FPM's vocabulary (snake_case), built from the scoreboard.
enum StatusPage {
    static func render(_ scoreboard: Scoreboard, config: PoolConfiguration) -> [UInt8] {
        let now = Int64(time(nil))
        let nowNanos = monotonicNanos()
        let slots = scoreboard.slots
        let live = slots.filter { $0.pid != 0 }
        let active = live.filter { $0.state == .reading || $0.state == .busy }.count
        let processes: [[String: Any]] = live.map { slot in
            let running = slot.requestStart != 0
            var process: [String: Any] = [
                "pid": Int(slot.pid),
                "state": slot.state.name,
                "start_time": slot.startedUnix,
                "requests": slot.requests,
                "request_duration_ms": Double(running ? nowNanos - slot.requestStart : slot.lastDurationNanos) / 1e6,
            ]
            if running {
                process["request_method"] = slot.method
                process["request_uri"] = slot.uri
                process["request_id"] = slot.requestID
            }
            return process
        }
        let document: [String: Any] = [
            "pool": config.poolName,
            "process_manager": "static",
            "start_time": scoreboard.startedUnix,
            "start_since": now - scoreboard.startedUnix,
            "accepted_conn": slots.reduce(UInt64(0)) { $0 + $1.accepted },
            "idle_processes": live.count - active,
            "active_processes": active,
            "total_processes": live.count,
            "max_active_processes": slots.map(\.maxActive).max() ?? 0,
            "max_children_reached": slots.reduce(UInt64(0)) { $0 + $1.allBusy },
            "slow_requests": slots.reduce(UInt64(0)) { $0 + $1.slowRequests },
            "processes": processes,
        ]
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return Array(data)
    }
}
