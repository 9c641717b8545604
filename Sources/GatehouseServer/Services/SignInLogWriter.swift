import CoreMetrics
import Foundation
import GatehouseCore
import Logging
import ServiceLifecycle
import Synchronization

/// Writes sign-in events off the request path: requests append to a bounded in-memory buffer,
/// this service writes it in batches. Each batch goes through the node's `SignInAggregator`:
/// what it keeps whole is appended, what it counts is added to the aggregates of its minute
/// (tenants in `full` mode keep everything whole). A graceful shutdown (SIGTERM) ends after a
/// final flush, so a clean shutdown loses nothing; a kill -9 loses at most what arrived since the
/// last flush (one flush interval); only a full buffer drops events, and they are counted.
public final class SignInLogWriter: Service {
    /// How a tenant's log is kept, by the tenant segment the request named.
    public typealias ModeLookup = @Sendable (String) async -> SignInLogMode

    /// What flushes work on; requests never touch it (they only append to `buffer`).
    private struct Aggregation {
        var aggregator = SignInAggregator()
        /// Whole events of a batch whose write failed, written first next time.
        var unwritten: [SignInEvent] = []
    }

    private let store: any SignInLogStore
    private let capacity: Int
    private let interval: Duration
    private let logger: Logger
    private let mode: ModeLookup
    private let buffer = Mutex<[SignInEvent]>([])
    private let aggregation = Mutex(Aggregation())
    /// One flush at a time (the service loop, a shutdown, a test): aggregates are taken whole.
    private let flushing = Mutex(false)
    private let droppedCount = Atomic<Int>(0)
    private let writtenCount = Atomic<Int>(0)
    private let aggregatedCount = Atomic<Int>(0)
    /// Where outcomes are counted (`record(_:context:…)`), and this writer's own metrics.
    let telemetry: Telemetry?
    /// The address a request's event records: the client's behind a trusted proxy, as the throttles count it.
    let source: SourceAddress
    /// The name of the tenant a segment last resolved to on this node (`TenantDirectory.cached`).
    let cachedTenant: @Sendable (String) -> String?
    private let queueDepth: CoreMetrics.Gauge
    private let batchDuration: CoreMetrics.Timer
    private let droppedMetric: CoreMetrics.Counter

    public init(
        store: any SignInLogStore, capacity: Int = 200_000, interval: Duration = .milliseconds(100),
        logger: Logger = Logger(label: "gatehouse.signins"), mode: @escaping ModeLookup = { _ in .aggregate },
        telemetry: Telemetry? = nil, source: SourceAddress = SourceAddress(),
        cachedTenant: @escaping @Sendable (String) -> String? = { _ in nil }
    ) {
        self.source = source
        self.cachedTenant = cachedTenant
        self.store = store
        self.capacity = capacity
        self.interval = interval
        self.logger = logger
        self.mode = mode
        self.telemetry = telemetry
        let factory = telemetry?.factory ?? NOOPMetricsHandler.instance
        queueDepth = CoreMetrics.Gauge(label: "gatehouse_signin_log_queue_depth", factory: factory)
        batchDuration = CoreMetrics.Timer(label: "gatehouse_signin_log_batch_duration_seconds", factory: factory)
        droppedMetric = CoreMetrics.Counter(label: "gatehouse_signin_log_dropped_total", factory: factory)
    }

    /// Queues an event. Never blocks and never waits for the database.
    public func record(_ event: SignInEvent) {
        let accepted = buffer.withLock { buffer in
            guard buffer.count < capacity else { return false }
            buffer.append(event)
            return true
        }
        if !accepted {
            droppedCount.add(1, ordering: .relaxed)
            droppedMetric.increment()
        }
    }

    public var dropped: Int { droppedCount.load(ordering: .relaxed) }
    /// Events written whole.
    public var written: Int { writtenCount.load(ordering: .relaxed) }
    /// Events written as part of an aggregate count (the first of each minute is also written whole).
    public var aggregated: Int { aggregatedCount.load(ordering: .relaxed) }
    public var pending: Int { buffer.withLock { $0.count } }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            await flush()
        }
        await flush()
        logger.info(
            "sign-in log writer stopped", metadata: ["written": "\(written)", "aggregated": "\(aggregated)", "dropped": "\(dropped)"])
    }

    /// Writes everything buffered now. On a database error what was not written stays queued.
    public func flush() async {
        // Concurrent callers wait their turn: each flush takes the aggregates it counted.
        while !flushing.withLock({ busy in
            if busy { return false }
            busy = true
            return true
        }) {
            try? await Task.sleep(for: .milliseconds(5))
        }
        defer { flushing.withLock { $0 = false } }
        while true {
            let (batch, left) = buffer.withLock { buffer -> ([SignInEvent], Int) in
                let taken = Array(buffer.prefix(5_000))
                buffer.removeFirst(taken.count)
                return (taken, buffer.count)
            }
            queueDepth.record(left)
            var modes: [String: SignInLogMode] = [:]
            for event in batch where modes[event.tenant] == nil && SignInAggregator.key(of: event) != nil {
                modes[event.tenant] = await mode(event.tenant)
            }
            let (whole, aggregates) = aggregation.withLock { state -> ([SignInEvent], [SignInAggregate]) in
                var whole = state.unwritten
                state.unwritten = []
                for event in batch {
                    if let kept = state.aggregator.add(event, mode: modes[event.tenant] ?? .aggregate) { whole.append(kept) }
                }
                return (whole, state.aggregator.takeAggregates())
            }
            if whole.isEmpty && aggregates.isEmpty { return }
            let started = ContinuousClock.now
            defer { batchDuration.recordNanoseconds((ContinuousClock.now - started).nanoseconds) }
            do {
                try await store.addSignInAggregates(aggregates)
                aggregatedCount.add(aggregates.reduce(0) { $0 + $1.count }, ordering: .relaxed)
            } catch {
                logger.error("sign-in aggregate write failed; will retry", metadata: ["error": "\(error)", "keys": "\(aggregates.count)"])
                aggregation.withLock { $0.aggregator.restore(aggregates) }
            }
            do {
                try await store.append(whole)
                writtenCount.add(whole.count, ordering: .relaxed)
            } catch {
                logger.error("sign-in log write failed; will retry", metadata: ["error": "\(error)", "events": "\(whole.count)"])
                aggregation.withLock { state in state.unwritten = Array(whole.prefix(capacity)) + state.unwritten }
                return
            }
            if batch.isEmpty { return }
        }
    }
}
