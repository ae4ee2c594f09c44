import Metrics
import NIOConcurrencyHelpers

/// The two series one answered request updates (`http_requests_total` and `http_request_duration_seconds`), made
/// once per method, route template and status class. Making them per request asked the Prometheus registry for each
/// by name and labels under its lock: about 1% of the server's CPU per note under `bench/profile`.
struct RequestSeries: Sendable {
    let count: Counter
    let duration: Metrics.Timer

    private struct Key: Hashable {
        let method: String
        let route: String
        let statusClass: Int
    }

    /// Methods come from the HTTP parser's fixed list and routes are templates, so the table stays small; the bound
    /// only guards against a label source that ever stops being one (beyond it series are made per request again).
    private static let maximumCached = 4_096
    private static let cache = NIOLockedValueBox<[Key: RequestSeries]>([:])

    static func series(method: String, route: String, statusClass: Int) -> RequestSeries {
        let key = Key(method: method, route: route, statusClass: statusClass)
        if let known = cache.withLockedValue({ $0[key] }) { return known }
        let dimensions = [("method", method), ("route", route)]
        let made = RequestSeries(
            count: Counter(label: "http_requests_total", dimensions: dimensions + [("status", "\(statusClass)xx")]),
            duration: Metrics.Timer(label: "http_request_duration_seconds", dimensions: dimensions))
        cache.withLockedValue { cached in
            if cached.count < maximumCached { cached[key] = made }
        }
        return made
    }
}
