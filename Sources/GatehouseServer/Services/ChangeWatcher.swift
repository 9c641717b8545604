import Foundation
import GatehouseCore
import Logging
import ServiceLifecycle

/// Polls the store's change counter (`ChangeCounterStore`) and drops this node's caches of
/// tenants, clients and key rings when it moved: a change made with the CLI or on another node is
/// seen here within `interval` (docs/scaling.md). When the store cannot be read, the caches keep
/// their own lifetimes (5 s, 30 s for keys) as the bound, and the next answer that shows a
/// different counter drops them.
public struct ChangeWatcher: Service {
    let store: any ChangeCounterStore
    let caches: [@Sendable () -> Void]
    let interval: Duration
    let logger: Logger
    let health: StoreHealth?

    public init(
        store: any ChangeCounterStore, interval: Duration = .milliseconds(250), logger: Logger = Logger(label: "gatehouse.changes"),
        health: StoreHealth? = nil, invalidate caches: [@Sendable () -> Void]
    ) {
        self.health = health
        self.store = store
        self.interval = interval
        self.logger = logger
        self.caches = caches
    }

    public func run() async throws {
        var last = try? await store.changeCounter()
        var failing = false
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            if Task.isShuttingDownGracefully { break }
            do {
                // A primary key read that takes a second means the database is away (or as good as):
                // the caches stop waiting for it before the statement's own 5 s deadline is up.
                let slow = Task { [health] in
                    try? await Task.sleep(for: .seconds(1))
                    if !Task.isCancelled { health?.markUnavailable() }
                }
                defer { slow.cancel() }
                let current = try await store.changeCounter()
                if current != last {
                    for invalidate in caches { invalidate() }
                    last = current
                }
                if failing { logger.info("change counter readable again") }
                failing = false
                health?.markAvailable()
            } catch {
                if !failing {
                    logger.warning("change counter unreadable; caches fall back to their lifetimes", metadata: ["error": "\(error)"])
                }
                failing = true
                if error is StoreUnavailable { health?.markUnavailable() }
                // Whatever changed meanwhile is unknown: forget it all once the store answers again.
                last = nil
            }
        }
    }
}
