import Foundation
import Synchronization

/// A small read-through cache whose entries expire `ttl` seconds after they were loaded. Nil
/// results are cached too, so an unknown key does not reach the store on every request. When it
/// holds `maxEntries`, it starts over empty rather than tracking recency.
public final class TTLCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let ttl: TimeInterval
    private let time: TimeSource
    private let maxEntries: Int
    private let entries = Mutex<[Key: (value: Value?, loadedAt: Date)]>([:])

    public init(ttl: TimeInterval, time: TimeSource, maxEntries: Int = 10_000) {
        self.ttl = ttl
        self.time = time
        self.maxEntries = maxEntries
    }

    /// The cached value for `key`, or the one `load` returns (then cached).
    public func value(for key: Key, load: () async throws -> Value?) async throws -> Value? {
        let now = time.now()
        if let entry = entries.withLock({ $0[key] }), now.timeIntervalSince(entry.loadedAt) < ttl { return entry.value }
        let value = try await load()
        entries.withLock { entries in
            if entries.count >= maxEntries { entries.removeAll(keepingCapacity: true) }
            entries[key] = (value, now)
        }
        return value
    }

    /// Forgets everything.
    public func removeAll() {
        entries.withLock { $0.removeAll(keepingCapacity: true) }
    }

    /// Forgets `key`.
    public func invalidate(_ key: Key) {
        _ = entries.withLock { $0.removeValue(forKey: key) }
    }
}
