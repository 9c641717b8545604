import Foundation
import Synchronization

/// A small read-through cache whose entries expire `ttl` seconds after they were loaded. Nil
/// results are cached too, so an unknown key does not reach the store on every request. When it
/// holds `maxEntries`, it starts over empty rather than tracking recency.
///
/// One request reloads an expired entry while the others answer from it. While the database is
/// unreachable (`load` throws `StoreUnavailable`), the expired entry keeps answering, up to
/// `staleLimit` after it was last loaded, so that requests the cache can answer keep working
/// through an outage (docs/scaling.md); the store is asked again at most every `retryInterval`
/// per key, so only one request per interval waits for the store's deadline.
public final class TTLCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Entry {
        var value: Value?
        var loadedAt: Date
        var freshUntil: Date
    }

    private let ttl: TimeInterval
    private let time: TimeSource
    private let maxEntries: Int
    private let staleLimit: TimeInterval
    private let retryInterval: TimeInterval
    private let entries = Mutex<[Key: Entry]>([:])

    public init(
        ttl: TimeInterval, time: TimeSource, maxEntries: Int = 10_000, staleLimit: TimeInterval = 3_600, retryInterval: TimeInterval = 5
    ) {
        self.ttl = ttl
        self.time = time
        self.maxEntries = maxEntries
        self.staleLimit = staleLimit
        self.retryInterval = retryInterval
    }

    /// The cached value for `key`, or the one `load` returns (then cached).
    public func value(for key: Key, load: () async throws -> Value?) async throws -> Value? {
        let now = time.now()
        let cached = entries.withLock { $0[key] }
        // A clock that went back (tests set it) does not make an old entry fresh.
        if let cached, now < cached.freshUntil, now >= cached.loadedAt { return cached.value }
        if let cached, now.timeIntervalSince(cached.loadedAt) < staleLimit {
            // This request reloads the expired entry (and, with the database away, may wait for the
            // store's deadline); every other request for it answers from the entry meanwhile, for
            // at most the retry interval. An invalidated entry is gone, never answered this way.
            hold(key, loadedAt: cached.loadedAt, from: now)
        }
        do {
            let value = try await load()
            entries.withLock { entries in
                if entries.count >= maxEntries { entries.removeAll(keepingCapacity: true) }
                entries[key] = Entry(value: value, loadedAt: now, freshUntil: now.addingTimeInterval(ttl))
            }
            return value
        } catch let error as StoreUnavailable {
            guard let cached, now.timeIntervalSince(cached.loadedAt) < staleLimit else { throw error }
            hold(key, loadedAt: cached.loadedAt, from: time.now())
            return cached.value
        }
    }

    /// Lets the entry loaded at `loadedAt` answer until the retry interval from `start` is over,
    /// unless a fresher load or an invalidation replaced it meanwhile.
    private func hold(_ key: Key, loadedAt: Date, from start: Date) {
        entries.withLock { entries in
            if entries[key]?.loadedAt == loadedAt { entries[key]?.freshUntil = start.addingTimeInterval(min(ttl, retryInterval)) }
        }
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
