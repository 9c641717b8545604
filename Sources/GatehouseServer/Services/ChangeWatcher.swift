import Foundation
import GatehouseCore
import Logging
import ServiceLifecycle

/// Polls the store's change counter (`ChangeCounterStore`) and drops this node's caches of
/// tenants, clients, key rings and users when it moved: a change made with the CLI or on another
/// node is seen here within `interval` (docs/scaling.md). When the store cannot be read, the
/// caches answer from their entries (`TTLCache`, stale through an outage), and the first answer
/// after it drops them all.
public struct ChangeWatcher: Service {
    let store: any ChangeCounterStore
    let caches: [@Sendable () -> Void]
    let interval: Duration
    let logger: Logger

    public init(
        store: any ChangeCounterStore, interval: Duration = .milliseconds(250), logger: Logger = Logger(label: "gatehouse.changes"),
        invalidate caches: [@Sendable () -> Void]
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
                    for invalidate in caches { invalidate() }
                    last = current
                }
                if failing { logger.info("change counter readable again") }
                failing = false
            } catch {
                if !failing {
                    logger.warning("change counter unreadable; caches fall back to their lifetimes", metadata: ["error": "\(error)"])
                }
                failing = true
                // Whatever changed meanwhile is unknown: forget it all once the store answers again.
                last = nil
            }
        }
    }
}
