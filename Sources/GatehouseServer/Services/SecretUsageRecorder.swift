import Foundation
import GatehouseCore
import Logging
import ServiceLifecycle
import Synchronization

/// When each client secret was last used (`clients show`, the admin API), kept off the request
/// path: a request only notes the use in memory, at most once a minute per secret and node, and
/// the service writes what was noted every few seconds. A write that fails is dropped (the next
/// minute's use is noted again): a last-used time is bookkeeping, never worth a retry queue.
public final class SecretUsageRecorder: Service {
    private struct Noted {
        /// When each secret's use was last queued on this node.
        var queuedAt: [String: Date] = [:]
        var pending: [SecretUse] = []
    }

    /// How often a secret's use is written at most.
    public static let resolution: TimeInterval = 60

    private let store: any ClientStore
    private let interval: Duration
    private let logger: Logger
    private let noted = Mutex(Noted())

    public init(store: any ClientStore, interval: Duration = .seconds(5), logger: Logger) {
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    /// Notes that `secretID` authenticated a request at `now`.
    public func note(tenant: TenantName, clientID: ClientID, secretID: String, now: Date) {
        let key = "\(tenant.value) \(clientID.value) \(secretID)"
        noted.withLock { noted in
            if let last = noted.queuedAt[key], now.timeIntervalSince(last) < Self.resolution { return }
            noted.queuedAt[key] = now
            noted.pending.append(SecretUse(tenant: tenant, clientID: clientID, secretID: secretID, at: now))
        }
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            await flush()
        }
        await flush()
    }

    /// Writes the uses noted so far.
    public func flush() async {
        let uses = noted.withLock { noted in
            defer { noted.pending = [] }
            return noted.pending
        }
        guard !uses.isEmpty else { return }
        do {
            try await store.noteSecretUse(uses)
        } catch {
            logger.warning(
                "could not record when client secrets were last used", metadata: ["count": "\(uses.count)", "error": "\(error)"])
        }
    }
}
