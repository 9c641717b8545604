import ServiceLifecycle

/// Runs `body` every `interval` until a graceful shutdown or a cancellation; a shutdown during the
/// wait ends it at once, one during `body` after it. The loop of the janitor and the key rotator.
func repeatUntilShutdown(every interval: Duration, _ body: () async -> Void) async {
    while !Task.isShuttingDownGracefully && !Task.isCancelled {
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        if Task.isShuttingDownGracefully || Task.isCancelled { break }
        await body()
    }
}
