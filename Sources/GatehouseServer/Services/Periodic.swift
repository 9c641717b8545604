import Foundation
import GatehouseCore
import ServiceLifecycle

/// Runs `body` every `interval` until a graceful shutdown or a cancellation; a shutdown during the
/// wait ends it at once, one during `body` after it. The loop of the change watcher, the janitor
/// and the key rotator.
func repeatUntilShutdown(every interval: Duration, _ body: () async -> Void) async {
    while !Task.isShuttingDownGracefully && !Task.isCancelled {
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        if Task.isShuttingDownGracefully || Task.isCancelled { break }
        await body()
    }
}

/// Until when a node that runs a chore every `interval` holds its lease: three intervals, so that
/// another node takes over after its holder has missed three passes.
func leaseExpiry(from now: Date, every interval: Duration) -> Date {
    now.addingTimeInterval(3 * Double(interval.nanoseconds) / 1e9)
}
