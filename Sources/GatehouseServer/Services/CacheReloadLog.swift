import Logging
import Synchronization

/// Logs the node caches' failed background reloads (`TTLCache`): at most one line a second, with
/// how many failed since the last one, so that an outage (every entry failing every few seconds)
/// does not flood the log.
final class CacheReloadLog: Sendable {
    private let logger: Logger
    private let state = Mutex<(last: ContinuousClock.Instant?, unlogged: Int)>((nil, 0))

    init(logger: Logger) {
        self.logger = logger
    }

    @Sendable func record(_ error: any Error) {
        let now = ContinuousClock.now
        let failures = state.withLock { state -> Int? in
            state.unlogged += 1
            if let last = state.last, now - last < .seconds(1) { return nil }
            defer { state = (now, 0) }
            return state.unlogged
        }
        guard let failures else { return }
        logger.warning(
            "cache reload failed; the cached entries keep answering", metadata: ["error": "\(error)", "failures": "\(failures)"])
    }
}
