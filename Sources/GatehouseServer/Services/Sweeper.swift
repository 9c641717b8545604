import Foundation
import GatehouseCore
import Logging
import ServiceLifecycle

/// Once a minute: forgets expired one-time values (client assertion jtis), expired sign-in state
/// (interactions, sessions, consent, revoked jtis) and ended grants, and deletes sign-in events
/// and aggregates older than their retention periods, in bounded batches.
public struct Sweeper: Service {
    let store: any ReplayStore & SignInLogStore & StateStore & GrantStore
    /// Grants unused (or revoked) for longer than this are deleted with their refresh tokens.
    let grantRetention: TimeInterval
    let time: TimeSource
    let interval: Duration
    let signInRetention: TimeInterval
    let aggregateRetention: TimeInterval
    /// Rows one delete statement removes at most, and batches one sweep runs at most per kind:
    /// a backlog is worked off over several sweeps instead of in one long transaction.
    let batchSize: Int
    let maxBatches: Int
    let logger: Logger

    public init(
        store: any ReplayStore & SignInLogStore & StateStore & GrantStore, grantRetention: TimeInterval = 90 * 86400,
        time: TimeSource = .system, interval: Duration = .seconds(60),
        signInRetention: TimeInterval = 30 * 86400, aggregateRetention: TimeInterval = 90 * 86400, batchSize: Int = 5_000,
        maxBatches: Int = 20, logger: Logger = Logger(label: "gatehouse.sweeper")
    ) {
        self.aggregateRetention = aggregateRetention
        self.batchSize = max(1, batchSize)
        self.maxBatches = max(1, maxBatches)
        self.store = store
        self.grantRetention = grantRetention
        self.time = time
        self.interval = interval
        self.signInRetention = signInRetention
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            if Task.isShuttingDownGracefully { break }
            await sweep()
        }
    }

    public func sweep() async {
        let now = time.now()
        do {
            try await store.purgeExpired(now: now)
            let wholeCutoff = now.addingTimeInterval(-signInRetention)
            try await batches { try await store.purgeSignIns(before: wholeCutoff, limit: $0) }
            let aggregateCutoff = now.addingTimeInterval(-aggregateRetention)
            try await batches { try await store.purgeSignInAggregates(before: aggregateCutoff, limit: $0) }
            try await store.purgeState(now: now)
            try await store.purgeGrants(now: now, endedBefore: now.addingTimeInterval(-grantRetention))
        } catch {
            logger.warning("sweep failed", metadata: ["error": "\(error)"])
        }
    }

    /// Runs `purge` in batches of `batchSize` until one deletes fewer, at most `maxBatches` times.
    private func batches(_ purge: (Int) async throws -> Int) async throws {
        for _ in 0..<maxBatches {
            if try await purge(batchSize) < batchSize || Task.isCancelled { return }
        }
    }
}
