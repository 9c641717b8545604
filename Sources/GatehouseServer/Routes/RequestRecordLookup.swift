import Foundation
import GatehouseCore
import Hummingbird
import Synchronization

/// "Your request" on the troubleshooting page: the public part of the sign-in log's record of
/// the request whose `trace_id` the error carried (its code, time, trace and correlation IDs,
/// client and tenant; never the user, the address or the detail). The page is public, so the
/// lookup is bounded: only a version 7 trace ID of this server's making (its time inside the
/// log's retention) is looked up, by exact match (never an aggregate's range of trace IDs, which a
/// made-up trace ID could fall into and so reveal another tenant's traffic), at most `perSource`
/// lookups per minute per source address and `perNode` in all (over either, the page still
/// explains the code and says the record was not looked up), and a trace ID found in no record is
/// remembered as such for a while.
final class RequestRecordLookup: Sendable {
    let store: any SignInLogStore
    let retention: TimeInterval
    let time: TimeSource
    let throttle: FailureThrottle
    private let missing = Mutex<[String: Date]>([:])

    /// Lookups per source address per minute.
    static let perSource = 30
    /// Lookups per minute on this node, from every address together.
    static let perNode = 600
    /// How long a trace ID found nowhere is not looked up again (once the log writer has had
    /// time to write it: see `settled`).
    static let missingFor: TimeInterval = 60
    /// A trace ID younger than this may still be in a node's log buffer.
    static let settled: TimeInterval = 30

    init(store: any SignInLogStore, retention: TimeInterval, time: TimeSource) {
        self.store = store
        self.retention = retention
        self.time = time
        self.throttle = FailureThrottle(limit: .init(failures: Self.perSource, window: 60), capacity: 50_000)
        self.budget = FailureThrottle(limit: .init(failures: Self.perNode, window: 60), capacity: 16)
    }

    let budget: FailureThrottle

    enum Result {
        /// The request's record (the public fields only are shown).
        case found(SignInEvent)
        /// Not a trace ID this server made, or older than the log keeps.
        case notLookedUp
        /// Too many lookups from this address: seconds to wait.
        case throttled(Int)
        case notFound
        /// The database did not answer.
        case unavailable
    }

    func lookup(_ traceID: String, source: String) async -> Result {
        let now = time.now()
        guard traceID.utf8.count == 36, traceID == traceID.lowercased(), let minted = TraceID.time(of: traceID),
            minted > now.addingTimeInterval(-retention), minted < now.addingTimeInterval(300)
        else { return .notLookedUp }
        if let until = missing.withLock({ $0[traceID] }), until > now { return .notFound }
        if let wait = throttle.retryAfter(source, now: now) ?? budget.retryAfter("*", now: now) { return .throttled(wait) }
        throttle.recordFailure(source, now: now)
        budget.recordFailure("*", now: now)
        do {
            if let event = try await store.signIns(SignInQuery(traceID: traceID, limit: 1)).first { return .found(event) }
        } catch {
            return .unavailable
        }
        if now.timeIntervalSince(minted) > Self.settled {
            missing.withLock { missing in
                if missing.count >= 10_000 { missing = missing.filter { $0.value > now } }
                if missing.count < 10_000 { missing[traceID] = now.addingTimeInterval(Self.missingFor) }
            }
        }
        return .notFound
    }
}
