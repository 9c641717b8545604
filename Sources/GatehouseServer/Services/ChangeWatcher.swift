import Foundation
import GatehouseCore
import Logging
import ServiceLifecycle

/// Polls the store's change counter (`ChangeCounterStore`) and drops this node's caches of
/// tenants, clients, key rings and users when it moved: a change made with the CLI or on another
/// node is seen here within `interval` (docs/scaling.md). When the store cannot be read, the
/// caches answer from their entries (`TTLCache`, stale through an outage); when it answers again
/// and the counter did not move, every entry is marked stale (a change may have been missed in
/// the last poll before the outage), so that each is reloaded in the background on its next use
/// while it still answers: the first requests after a failover do not all wait on the store.
/// When the counter moved, the caches are emptied as for any change.
public struct ChangeWatcher: Service {
    let store: any ChangeCounterStore
    let caches: [any NodeCache]
    let interval: Duration
    let logger: Logger

    public init(
        store: any ChangeCounterStore, interval: Duration = .milliseconds(250), logger: Logger = Logger(label: "gatehouse.changes"),
        caches: [any NodeCache]
    ) {
        self.store = store
        self.interval = interval
        self.logger = logger
        self.caches = caches
    }

    public func run() async throws {
        var last = try? await store.changeCounter()
        var failing = false
        await repeatUntilShutdown(every: interval) {
            do {
                let current = try await store.changeCounter()
                if current != last {
                    // Something changed (perhaps during an outage): removal and disabling take effect now.
                    for cache in caches { cache.invalidateAll() }
                } else if failing {
                    for cache in caches { cache.markAllStale() }
                }
                if failing { logger.info("change counter readable again") }
                last = current
                failing = false
            } catch {
                if !failing {
                    logger.warning("change counter unreadable; caches fall back to their lifetimes", metadata: ["error": "\(error)"])
                }
                failing = true
            }
        }
    }
}
