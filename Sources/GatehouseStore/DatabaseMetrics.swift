import CoreMetrics
import GatehouseCore

/// What the store reports about its connections: how many are in use (PostgreSQL: leased from
/// the pool; SQLite: statements and transactions on the shared connection) and how long a
/// statement waited to get one. Recorded through whatever swift-metrics factory the server
/// uses; by default nowhere.
public struct DatabaseMetrics: Sendable {
    let inUse: Meter
    let wait: Timer

    public init(factory: any MetricsFactory = NOOPMetricsHandler.instance, backend: String) {
        let dimensions = [("backend", backend)]
        inUse = Meter(label: "gatehouse_db_connections_in_use", dimensions: dimensions, factory: factory)
        wait = Timer(label: "gatehouse_db_connection_wait_seconds", dimensions: dimensions, factory: factory)
    }

    /// Runs `body` once a connection is had, counting it in use meanwhile; `asked` is when the
    /// statement asked for it.
    func leased<T>(since asked: ContinuousClock.Instant, _ body: () async throws -> T) async rethrows -> T {
        wait.recordNanoseconds((ContinuousClock.now - asked).nanoseconds)
        inUse.increment()
        defer { inUse.decrement() }
        return try await body()
    }
}
