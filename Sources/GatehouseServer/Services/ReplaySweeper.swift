import Foundation
import GatehouseCore
import Logging
import ServiceLifecycle

/// Forgets expired one-time values (client assertion jtis) once a minute.
public struct ReplaySweeper: Service {
    let store: any ReplayStore
    let time: TimeSource
    let interval: Duration
    let logger: Logger

    public init(store: any ReplayStore, time: TimeSource = .system, interval: Duration = .seconds(60), logger: Logger = Logger(label: "gatehouse.sweeper")) {
        self.store = store
        self.time = time
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            do { try await store.purgeExpired(now: time.now()) } catch { logger.warning("sweep failed", metadata: ["error": "\(error)"]) }
        }
    }
}
