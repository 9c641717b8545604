import CoreMetrics
import Foundation
import GatehouseCore
import HTTPTypes
import Prometheus
import Synchronization

/// One server's metrics: the Prometheus registry that `/metrics` renders, the swift-metrics
/// factory that everything records through (the registry's, plus OpenTelemetry's when OTLP export
/// is configured), and the instruments of the request path, created once per label set and kept,
/// so that a request records without going through the registry's lock and name checks.
///
/// Label values are bounded: route templates (never paths), a fixed set of methods, status codes,
/// catalogue numbers, known grant types and steps, and at most `tenantLabelLimit` tenant names
/// (after that, `(other)`); never a client ID, user or trace ID.
public final class Telemetry: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let factory: any MetricsFactory
    /// Off (`GATEHOUSE_METRICS=off`): nothing is recorded and `/metrics` is not served.
    public let enabled: Bool

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), exportingTo others: [any MetricsFactory] = []) {
        self.registry = registry
        let prometheus = HelpfulPrometheusFactory(registry: registry)
        self.factory = others.isEmpty ? prometheus : MultiplexMetricsHandler(factories: [prometheus] + others)
        self.enabled = true
    }

    private init(disabled: Void) {
        self.registry = PrometheusCollectorRegistry()
        self.factory = NOOPMetricsHandler.instance
        self.enabled = false
    }

    /// Records nothing (for measuring what metrics cost, or for an operator who does not want them).
    public static func disabled() -> Telemetry { Telemetry(disabled: ()) }

    // MARK: Requests

    private struct RequestKey: Hashable {
        let route: String
        let method: String
        let status: Int
    }

    private struct RequestInstruments: Sendable {
        let count: CoreMetrics.Counter
        let duration: CoreMetrics.Timer
    }

    private let requests = Mutex<[RequestKey: RequestInstruments]>([:])
    private static let methods: Set<String> = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]

    /// Counts an answered request and records its latency under its route template (`unmatched`
    /// when no route matched).
    public func requestAnswered(route: String?, method: HTTPRequest.Method, status: Int, duration: Duration) {
        guard enabled else { return }
        let key = RequestKey(
            route: route ?? "unmatched", method: Self.methods.contains(method.rawValue) ? method.rawValue : "other", status: status)
        let instruments = requests.withLock { cache in
            if let known = cache[key] { return known }
            let made = RequestInstruments(
                count: CoreMetrics.Counter(
                    label: "gatehouse_http_requests_total",
                    dimensions: [("route", key.route), ("method", key.method), ("status", String(key.status))], factory: factory),
                duration: CoreMetrics.Timer(
                    label: "gatehouse_http_request_duration_seconds", dimensions: [("route", key.route)], factory: factory))
            cache[key] = made
            return made
        }
        instruments.count.increment()
        instruments.duration.recordNanoseconds(duration.nanoseconds)
    }

    // MARK: Outcomes

    /// Which outcome counter a sign-in record feeds.
    public enum OutcomeKind: Sendable {
        /// The token endpoint: the step is the grant type.
        case token
        /// Browser and device steps, introspection, revocation.
        case step
    }

    private struct OutcomeKey: Hashable {
        let kind: Int
        let tenant: String
        let step: String
        let success: Bool
        let code: Int
    }

    private let outcomes = Mutex<[OutcomeKey: CoreMetrics.Counter]>([:])
    private let tenantNames = Mutex<Set<String>>([])
    static let tenantLabelLimit = 1_000
    /// Grant types that appear as a label value; any other `grant_type` a client sends counts as `other`.
    static let grantTypes: Set<String> = [
        "client_credentials", "authorization_code", "refresh_token", "password", "urn:ietf:params:oauth:grant-type:device_code",
        "urn:ietf:params:oauth:grant-type:jwt-bearer", "urn:ietf:params:oauth:grant-type:token-exchange", "device_code",
    ]

    /// Counts one outcome: `code` is the catalogue number of a failure, nil on success; `tenant`
    /// is the name of the tenant the request resolved to, nil when it named none.
    public func outcome(_ kind: OutcomeKind, tenant: String?, step: String?, code: Int?) {
        guard enabled else { return }
        let tenantLabel = boundedTenant(tenant)
        let stepLabel: String
        switch kind {
        case .token: stepLabel = step.map { Self.grantTypes.contains($0) ? $0 : "other" } ?? "none"
        case .step: stepLabel = step.map { String($0.prefix(40)) } ?? "none"
        }
        let key = OutcomeKey(
            kind: kind == .token ? 0 : 1, tenant: tenantLabel, step: stepLabel, success: code == nil, code: code ?? 0)
        let counter = outcomes.withLock { cache in
            if let known = cache[key] { return known }
            let made = CoreMetrics.Counter(
                label: kind == .token ? "gatehouse_token_requests_total" : "gatehouse_signin_steps_total",
                dimensions: [
                    ("tenant", key.tenant), (kind == .token ? "grant_type" : "step", key.step),
                    ("result", key.success ? "success" : "failure"), ("code", String(key.code)),
                ], factory: factory)
            cache[key] = made
            return made
        }
        counter.increment()
    }

    /// The label of a request that named no tenant that exists; no tenant name has parentheses.
    public static let unknownTenantLabel = "(unknown)"
    /// The label of resolved tenants beyond `tenantLabelLimit`; no tenant name has parentheses.
    public static let otherTenantsLabel = "(other)"

    /// A resolved tenant's name as a label: `(unknown)` when the request named no tenant that
    /// exists, and `(other)` once `tenantLabelLimit` names have been seen. Only resolved tenants
    /// take up a name, so made-up segments cannot push real tenants into `(other)`.
    private func boundedTenant(_ tenant: String?) -> String {
        guard let tenant, TenantName.isValid(tenant) else { return Self.unknownTenantLabel }
        return tenantNames.withLock { seen in
            if seen.contains(tenant) { return tenant }
            guard seen.count < Self.tenantLabelLimit else { return Self.otherTenantsLabel }
            seen.insert(tenant)
            return tenant
        }
    }

    // MARK: Scrape-time values

    /// Sets the signing key gauges: each tenant's active key's age, or 1 in `missing` when the
    /// tenant has no usable key.
    func signingKeys(_ ages: [(tenant: String, age: TimeInterval?)]) {
        for (tenant, age) in ages {
            let dimensions = [("tenant", tenant)]
            CoreMetrics.Gauge(label: "gatehouse_signing_key_missing", dimensions: dimensions, factory: factory).record(age == nil ? 1 : 0)
            if let age {
                CoreMetrics.Gauge(label: "gatehouse_signing_key_age_seconds", dimensions: dimensions, factory: factory).record(age)
            }
        }
    }

    /// The Prometheus text exposition of everything recorded.
    public func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16_384)
        registry.emit(into: &buffer)
        return buffer
    }
}
