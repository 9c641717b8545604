import Foundation
import GatehouseCore
import Logging
import ServiceLifecycle

/// The janitor. Once a minute, on one node at a time (the node holding the `janitor` lease,
/// renewed each pass and taken over by another node three intervals after its holder stops):
/// forgets expired one-time values (client assertion jtis), expired sign-in state (interactions,
/// sessions, consent, device codes, revoked jtis), ended grants with their refresh tokens and
/// sign-in attempt counts whose window is over (`failureWindow`), and
/// deletes sign-in events and aggregates older than their retention periods, every kind in
/// bounded batches (at most `batchSize` rows per statement, `maxBatches` statements per pass),
/// so a backlog is worked off over several passes instead of in one long transaction.
public struct Sweeper: Service {
    public typealias Store = ReplayStore & SignInLogStore & StateStore & GrantStore & LeaseStore & UserStore & SessionStore & ConsentStore
        & SessionParticipantStore
        & OutboxStore
    let store: any Store
    /// Grants unused (or revoked) for longer than this are deleted with their refresh tokens.
    let grantRetention: TimeInterval
    let time: TimeSource
    let interval: Duration
    let signInRetention: TimeInterval
    let aggregateRetention: TimeInterval
    /// Attempt counts (lockout, a sign-in page's second-factor codes) whose last attempt is older
    /// than this no longer count (the longest of the lockout and page windows) and are deleted.
    let failureWindow: TimeInterval
    let batchSize: Int
    let maxBatches: Int
    /// This node's name for the lease.
    let node: String
    let logger: Logger

    /// What one pass deleted, by kind; nil when another node holds the lease.
    public struct Swept: Sendable, Equatable {
        public var oneTimeValues = 0, signIns = 0, aggregates = 0, state = 0, grants = 0, failures = 0, outbox = 0
    }

    public init(
        store: any Store, grantRetention: TimeInterval = 90 * 86400,
        time: TimeSource = .system, interval: Duration = .seconds(60),
        signInRetention: TimeInterval = 30 * 86400, aggregateRetention: TimeInterval = 90 * 86400,
        failureWindow: TimeInterval = 15 * 60, batchSize: Int = 5_000,
        maxBatches: Int = 20, node: String = UUID().uuidString, logger: Logger = Logger(label: "gatehouse.sweeper")
    ) {
        self.aggregateRetention = aggregateRetention
        self.failureWindow = failureWindow
        self.batchSize = max(1, batchSize)
        self.maxBatches = max(1, maxBatches)
        self.store = store
        self.grantRetention = grantRetention
        self.time = time
        self.interval = interval
        self.signInRetention = signInRetention
        self.node = node
        self.logger = logger
    }

    public func run() async throws {
        await repeatUntilShutdown(every: interval) { _ = await sweep() }
    }

    @discardableResult
    public func sweep() async -> Swept? {
        let now = time.now()
        do {
            let lease = leaseExpiry(from: now, every: interval)
            guard try await store.acquireLease("janitor", holder: node, until: lease, now: now) else { return nil }
            var swept = Swept()
            swept.oneTimeValues = try await batches { try await store.purgeExpired(now: now, limit: $0) }
            let wholeCutoff = now.addingTimeInterval(-signInRetention)
            swept.signIns = try await batches { try await store.purgeSignIns(before: wholeCutoff, limit: $0) }
            let aggregateCutoff = now.addingTimeInterval(-aggregateRetention)
            swept.aggregates = try await batches { try await store.purgeSignInAggregates(before: aggregateCutoff, limit: $0) }
            swept.state = try await batches { try await store.purgeState(now: now, limit: $0) }
            swept.state += try await batches { try await store.purgeSessions(now: now, limit: $0) }
            swept.state += try await batches { try await store.purgeParticipants(now: now, limit: $0) }
            swept.state += try await batches { try await store.purgeConsents(now: now, limit: $0) }
            let failureCutoff = now.addingTimeInterval(-failureWindow)
            swept.failures = try await batches { try await store.purgeSignInFailures(before: failureCutoff, limit: $0) }
            let outboxCutoff = now.addingTimeInterval(-OutboxPolicy().retention)
            swept.outbox = try await batches { try await store.purgeOutbox(createdBefore: outboxCutoff, limit: $0) }
            let grantCutoff = now.addingTimeInterval(-grantRetention)
            swept.grants = try await batches { try await store.purgeGrants(now: now, endedBefore: grantCutoff, limit: $0) }
            return swept
        } catch {
            logger.warning("sweep failed", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// Runs `purge` in batches of `batchSize` until one deletes fewer, at most `maxBatches` times;
    /// returns how many it deleted.
    private func batches(_ purge: (Int) async throws -> Int) async throws -> Int {
        var total = 0
        for _ in 0..<maxBatches {
            let deleted = try await purge(batchSize)
            total += deleted
            if deleted < batchSize || Task.isCancelled { break }
        }
        return total
    }
}
