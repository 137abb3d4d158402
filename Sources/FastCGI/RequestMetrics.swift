import Glibc

/// A route as the metrics name it: the app's template (`/api/v1/posts/{id}`, never the path as sent) and method.
public struct MetricRoute: Sendable, Equatable {
    public let method: String
    public let template: String

    public init(method: String, template: String) {
        self.method = method
        self.template = template
    }
}

/// What the app says about a login for the metrics (`FastCGIResponse.login`).
public enum LoginOutcome: Sendable {
    /// Wrong email or password, or an account that may not log in.
    case failed
    /// Refused by the login throttle (429) before the password was looked at.
    case throttled
}

/// Per-request figures for OpenMetrics, in shared memory beside the scoreboard: for each worker slot, request
/// duration histograms by route and status class, a queue-time histogram and login counters. As in the
/// scoreboard each slot has one writer (its worker) and a scrape sums all slots, so any worker answers for the
/// whole pool and a respawned worker keeps its slot's history. The routes are declared before fork
/// (`PoolConfiguration.metricRoutes`) and the bucket bounds are fixed: recording a request is a few
/// additions, without allocation.
public final class RequestMetrics {
    /// Upper bounds in seconds, both histograms (Prometheus client libraries' defaults, plus 1 ms).
    static let bounds: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    static let boundsNanos: [Int64] = bounds.map { Int64(($0 * 1e9).rounded()) }
    static let statusClasses = ["1xx", "2xx", "3xx", "4xx", "5xx"]
    static let statusClassCount = 5
    /// A histogram's cells: a count per bucket (not cumulative; the last is above every bound), then the sum in ns.
    static let histogramCells = bounds.count + 2

    let routes: [MetricRoute]
    /// Route indexes past the app's routes: the status page, and requests that matched no route.
    var statusPageRoute: Int { routes.count }
    var unmatchedRoute: Int { routes.count + 1 }
    let slotCount: Int
    private let cells: UnsafeMutablePointer<UInt64>

    private var durationCells: Int { (routes.count + 2) * Self.statusClasses.count * Self.histogramCells }
    private var queueOffset: Int { durationCells }
    private var loginFailuresOffset: Int { queueOffset + Self.histogramCells }
    private var loginThrottlesOffset: Int { loginFailuresOffset + 1 }  // the Writer counts on this order
    private var slotStride: Int { loginThrottlesOffset + 1 }

    init(slots: Int, routes: [MetricRoute]) throws {
        self.routes = routes
        slotCount = slots
        let size = max(1, slots * (routes.count + 2) * Self.statusClasses.count * Self.histogramCells + slots * (Self.histogramCells + 2)) * 8
        let mapped = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0)
        guard let mapped, mapped != MAP_FAILED else { throw ConfigurationError("cannot map the request metrics: \(errnoText())") }
        cells = mapped.bindMemory(to: UInt64.self, capacity: size / 8)  // zeroed, shared across fork
    }

    /// The recording side for one slot, held by its worker.
    func writer(slot: Int) -> Writer {
        precondition(slot >= 0 && slot < slotCount)
        return Writer(base: cells + slot * slotStride, queueOffset: queueOffset, loginFailuresOffset: loginFailuresOffset, bounds: Self.boundsNanos)
    }

    struct Writer {
        let base: UnsafeMutablePointer<UInt64>
        let queueOffset: Int
        let loginFailuresOffset: Int
        let bounds: [Int64]

        /// `route`: an index into the declared routes, or the status page's or the unmatched one.
        func recordRequest(route: Int, status: Int, nanos: Int64) {
            let statusClass = min(max(status / 100, 1), RequestMetrics.statusClassCount) - 1
            let cell = (route * RequestMetrics.statusClassCount + statusClass) * (bounds.count + 2)
            observe(nanos, at: base + cell)
        }

        func recordQueue(micros: Int64) { observe(micros &* 1_000, at: base + queueOffset) }

        func recordLogin(_ outcome: LoginOutcome) {
            switch outcome {
            case .failed: base[loginFailuresOffset] &+= 1
            case .throttled: base[loginFailuresOffset + 1] &+= 1
            }
        }

        private func observe(_ nanos: Int64, at histogram: UnsafeMutablePointer<UInt64>) {
            let value = max(0, nanos)
            var bucket = 0
            while bucket < bounds.count && value > bounds[bucket] { bucket += 1 }
            histogram[bucket] &+= 1
            histogram[bounds.count + 1] &+= UInt64(value)
        }
    }

    /// A histogram summed over all slots: cumulative bucket counts (the last is +Inf, the count) and the sum in ns.
    struct Histogram {
        var cumulative: [UInt64]
        var sumNanos: UInt64
        var count: UInt64 { cumulative.last ?? 0 }
    }

    func durations(route: Int, statusClass: Int) -> Histogram {
        histogram(at: (route * Self.statusClasses.count + statusClass) * Self.histogramCells)
    }

    var queue: Histogram { histogram(at: queueOffset) }
    var loginFailures: UInt64 { total(at: loginFailuresOffset) }
    var loginThrottles: UInt64 { total(at: loginThrottlesOffset) }

    private func histogram(at offset: Int) -> Histogram {
        var counts = [UInt64](repeating: 0, count: Self.bounds.count + 1)
        var sum: UInt64 = 0
        for slot in 0..<slotCount {
            let base = cells + slot * slotStride + offset
            for bucket in counts.indices { counts[bucket] &+= base[bucket] }
            sum &+= base[Self.bounds.count + 1]
        }
        for bucket in counts.indices.dropFirst() { counts[bucket] &+= counts[bucket - 1] }
        return Histogram(cumulative: counts, sumNanos: sum)
    }

    private func total(at offset: Int) -> UInt64 {
        (0..<slotCount).reduce(0) { $0 &+ cells[$1 * slotStride + offset] }
    }
}

extension RequestMetrics {
    typealias Sample = (suffix: String, labels: String, value: String)

    /// The families: request durations by route and status class (series that saw a request), queue times,
    /// login failures and throttles.
    func render(pool: String, family: (String, String, String, [Sample]) -> Void) {
        var series: [Sample] = []
        for route in 0..<(routes.count + 2) {
            let labels: String
            switch route {
            case statusPageRoute: labels = "\(pool),method=\"GET\",route=\"status\""
            case unmatchedRoute: labels = "\(pool),method=\"\",route=\"unmatched\""
            default: labels = "\(pool),method=\"\(OpenMetrics.escaped(routes[route].method))\",route=\"\(OpenMetrics.escaped(routes[route].template))\""
            }
            for (statusClass, name) in Self.statusClasses.enumerated() {
                let histogram = durations(route: route, statusClass: statusClass)
                if histogram.count > 0 { series += Self.samples(histogram, labels: "\(labels),code=\"\(name)\"") }
            }
        }
        family(
            "perch_request_duration_seconds", "histogram",
            "Time from a worker taking a request to its answer written, by route template and status class.", series)
        family(
            "perch_request_queue_seconds", "histogram",
            "How long requests waited between the web server and a worker (X-Request-Start).", Self.samples(queue, labels: pool))
        family(
            "perch_login_failures", "counter", "Logins refused: wrong email or password, or an account that may not log in.",
            [("_total", pool, "\(loginFailures)")])
        family("perch_login_throttles", "counter", "Logins refused by the login throttle (429).", [("_total", pool, "\(loginThrottles)")])
    }

    private static func samples(_ histogram: Histogram, labels: String) -> [Sample] {
        var samples: [Sample] = []
        for (index, count) in histogram.cumulative.enumerated() {
            let bound = index < bounds.count ? "\(bounds[index])" : "+Inf"
            samples.append(("_bucket", "\(labels),le=\"\(bound)\"", "\(count)"))
        }
        samples.append(("_count", labels, "\(histogram.count)"))
        samples.append(("_sum", labels, OpenMetrics.seconds(Int64(clamping: histogram.sumNanos))))
        return samples
    }
}
