import CoreMetrics
import Foundation
import Metrics
import Prometheus

/// Process-wide metrics: recorded through swift-metrics, exported in the Prometheus text format by
/// swift-prometheus at `GET /metrics`.
public enum EHRMetrics {
    /// Everything `/metrics` shows.
    public static let registry = PrometheusCollectorRegistry()

    /// Bootstraps swift-metrics with the Prometheus factory, once per process.
    public static let bootstrap: Void = {
        var factory = PrometheusMetricsFactory(registry: registry)
        // Audit batches hold 1 to 500 events.
        factory.valueHistogramBuckets["ehr_audit_batch_size"] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 500]
        factory.durationHistogramBuckets["http_request_duration_seconds"] = [
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
        ]
        MetricsSystem.bootstrap(factory)
    }()

    /// The Prometheus text exposition of every metric.
    public static func exposition() -> String {
        _ = bootstrap
        return registry.emitToString()
    }

    /// A request answered: `http_requests_total{method, route, status="2xx"}` and its latency.
    static func recordRequest(method: String, route: String, status: Int, duration: Duration) {
        _ = bootstrap
        let series = RequestSeries.series(method: method, route: route, statusClass: status / 100)
        series.count.increment()
        series.duration.recordNanoseconds(duration.nanoseconds)
    }

    /// A sign-in refused for wrong credentials (not for throttling).
    static func recordSignInFailure() {
        _ = bootstrap
        Counter(label: "ehr_sign_in_failures_total").increment()
    }

    /// Sign-in attempts refused by the throttle (429) without a password check.
    static func recordSignInThrottled() {
        _ = bootstrap
        Counter(label: "ehr_sign_in_throttled_total").increment()
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
