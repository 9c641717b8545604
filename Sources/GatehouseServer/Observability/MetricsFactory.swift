import CoreMetrics
import Prometheus

/// Every metric Gatehouse records, with the help text that `/metrics` shows for it: one list, so
/// that no metric reaches the exposition without a `# HELP` line (`promtool check metrics`
/// rejects those). The store's metrics are named here too, as the store records them through the
/// same factory.
public enum MetricHelp {
    public static let texts: [String: String] = [
        "gatehouse_http_requests_total": "HTTP requests answered, by route template, method and status.",
        "gatehouse_http_request_duration_seconds": "Time from a request's arrival to its response, by route template.",
        "gatehouse_token_requests_total": "Token endpoint outcomes, by tenant, grant type, result and catalogue code (0 on success).",
        "gatehouse_signin_steps_total":
            "Sign-in steps, device steps, introspection and revocation outcomes, by tenant, step, result and catalogue code.",
        "gatehouse_signin_log_queue_depth": "Sign-in events waiting in this node's buffer for the next write.",
        "gatehouse_signin_log_batch_duration_seconds": "Time to write one batch of sign-in events and aggregates to the store.",
        "gatehouse_signin_log_dropped_total": "Sign-in events dropped because the buffer was full.",
        "gatehouse_db_connections_in_use": "Database connections (PostgreSQL) or statements on the shared connection (SQLite) in use.",
        "gatehouse_db_connection_wait_seconds": "Time a statement waited for a database connection (or for the SQLite gate).",
        "gatehouse_signing_key_age_seconds": "Age of each tenant's active signing key, read when scraped.",
        "gatehouse_signing_key_missing": "1 for a tenant without a usable active signing key, read when scraped.",
    ]

    /// Help for a metric recorded by a library through the same factory (none today).
    static func text(for name: String) -> String {
        texts[name] ?? "Recorded through swift-metrics as \(name)."
    }
}

/// A swift-metrics factory over a swift-prometheus registry that registers every metric with its
/// help text (`MetricHelp`). swift-prometheus' own factory registers with empty help, and a
/// family's help cannot change once registered, so Gatehouse uses this one instead.
public struct HelpfulPrometheusFactory: MetricsFactory {
    public let registry: PrometheusCollectorRegistry
    /// Latency buckets from 1 ms to 10 s: a token request is answered in a few milliseconds.
    public static let durationBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]
    static let valueBuckets: [Double] = [1, 10, 100, 1_000, 10_000, 100_000]

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(name: label, labels: dimensions, help: MetricHelp.text(for: label))
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(name: label, labels: dimensions, help: MetricHelp.text(for: label))
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(name: label, labels: dimensions, help: MetricHelp.text(for: label)) }
        return registry.makeValueHistogram(name: label, labels: dimensions, buckets: Self.valueBuckets, help: MetricHelp.text(for: label))
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(name: label, labels: dimensions, help: MetricHelp.text(for: label))
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        registry.makeDurationHistogram(name: label, labels: dimensions, buckets: Self.durationBuckets, help: MetricHelp.text(for: label))
    }

    public func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    public func destroyRecorder(_ handler: any RecorderHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
        if let histogram = handler as? ValueHistogram { registry.unregisterValueHistogram(histogram) }
    }

    public func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    public func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? DurationHistogram { registry.unregisterDurationHistogram(histogram) }
    }
}
