import Foundation
import GatehouseCore
import Logging
import ServiceLifecycle

/// Once a minute: forgets expired one-time values (client assertion jtis), expired sign-in state
/// (interactions, sessions, consent, revoked jtis) and ended grants, and deletes sign-in events
/// older than the retention period.
public struct Sweeper: Service {
    let store: any ReplayStore & SignInLogStore & StateStore & GrantStore
    /// Grants unused (or revoked) for longer than this are deleted with their refresh tokens.
    let grantRetention: TimeInterval
    let time: TimeSource
    let interval: Duration
    let signInRetention: TimeInterval
    let logger: Logger

    public init(
        store: any ReplayStore & SignInLogStore & StateStore & GrantStore, grantRetention: TimeInterval = 90 * 86400,
        time: TimeSource = .system, interval: Duration = .seconds(60),
        signInRetention: TimeInterval = 30 * 86400, logger: Logger = Logger(label: "gatehouse.sweeper")
    ) {
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
            try await store.purgeSignIns(before: now.addingTimeInterval(-signInRetention))
            try await store.purgeState(now: now)
            try await store.purgeGrants(now: now, endedBefore: now.addingTimeInterval(-grantRetention))
        } catch {
            logger.warning("sweep failed", metadata: ["error": "\(error)"])
        }
    }
}
