import Foundation
import Synchronization

/// A node cache that the change watcher keeps in step with the store.
public protocol NodeCache: Sendable {
    /// Forgets every entry: something changed elsewhere (removal and disabling take effect at once).
    func invalidateAll()
    /// Keeps the entries answering but reloads each on its next use (after an outage, when what
    /// changed meanwhile is unknown).
    func markAllStale()
}

/// A small read-through cache whose entries are fresh for `ttl` seconds after they were loaded.
/// Nil results are cached too, so an unknown key does not reach the store on every request. When
/// it holds `maxEntries`, it starts over empty rather than tracking recency.
///
/// Answers first, then refreshes: an entry past its lifetime (and within `staleLimit` of its
/// load) is answered at once to every request, including the one that finds it expired, and one
/// reload per entry runs in the background (with the store's own deadline); a reload that
/// succeeds replaces the entry, one that fails, whatever the error, keeps the old entry answering
/// and is reported to `reloadFailed`, and the store is asked again at most every `retryInterval`
/// per entry. A request waits for the store only when there is no entry (or it is past the stale
/// limit). So a database outage or a failover stalls no request that the cache can answer
/// (docs/scaling.md), and a caller with one request in flight is never the one that waits.
///
/// A lifetime of 0 turns caching off while the store answers (every request reads it); the last
/// value still answers, up to the stale limit, while it does not.
///
/// `invalidateAll` forgets every entry (a change made elsewhere, seen by the change watcher:
/// removal and disabling take effect at once); `markAllStale` keeps the entries answering but
/// reloads each on its next use (the change watcher after an outage, when what changed is unknown).
public final class TTLCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Entry {
        var value: Value?
        var loadedAt: Date
        var freshUntil: Date
        /// Identifies this load of the entry: a background reload replaces only the entry it started from.
        var serial: Int
        var reloading: Bool
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        /// Moves on with every invalidation: a load that started before one does not put back what it read.
        var epoch = 0
        var serial = 0

        mutating func store(_ value: Value?, for key: Key, loadedAt: Date, ttl: TimeInterval, maxEntries: Int) {
            if entries[key] == nil && entries.count >= maxEntries { entries.removeAll(keepingCapacity: true) }
            serial += 1
            entries[key] = Entry(
                value: value, loadedAt: loadedAt, freshUntil: loadedAt.addingTimeInterval(ttl), serial: serial, reloading: false)
        }
    }

    /// What a lookup does, decided under the lock.
    private enum Plan {
        case answer(Value?)
        case answerAndReload(Value?, serial: Int)
        case load(epoch: Int)
        /// A lifetime of 0: every request reads the store; the last value only answers when it fails.
        case loadOrFallBack(Value??, epoch: Int)
    }

    private let ttl: TimeInterval
    private let time: TimeSource
    private let maxEntries: Int
    private let staleLimit: TimeInterval
    private let retryInterval: TimeInterval
    private let reloadFailed: @Sendable (any Error) -> Void
    private let state = Mutex(State())

    public init(
        ttl: TimeInterval, time: TimeSource, maxEntries: Int = 10_000, staleLimit: TimeInterval = 3_600, retryInterval: TimeInterval = 5,
        reloadFailed: @escaping @Sendable (any Error) -> Void = { _ in }
    ) {
        self.ttl = ttl
        self.time = time
        self.maxEntries = maxEntries
        self.staleLimit = staleLimit
        self.retryInterval = retryInterval
        self.reloadFailed = reloadFailed
    }

    /// The value of a fresh entry for `key` (`.some(nil)` for a cached "none"), or nil when there
    /// is no fresh entry: the hot path's check, which needs no `load` closure (an escaping closure
    /// is an allocation per call).
    public func fresh(_ key: Key) -> Value?? {
        let now = time.now()
        return state.withLock { state -> Value?? in
            guard ttl > 0, let cached = state.entries[key], now < cached.freshUntil, now >= cached.loadedAt else { return nil }
            return .some(cached.value)
        }
    }

    /// The cached value for `key`, or, when there is none, the one `load` returns (then cached).
    /// An expired entry is answered and `load` runs in the background.
    public func value(for key: Key, load: @escaping @Sendable () async throws -> Value?) async throws -> Value? {
        let now = time.now()
        let plan = state.withLock { state -> Plan in
            // A clock that went back (tests set it) does not make an old entry fresh.
            guard let cached = state.entries[key], now.timeIntervalSince(cached.loadedAt) < staleLimit else {
                return .load(epoch: state.epoch)
            }
            if ttl <= 0 { return .loadOrFallBack(cached.value, epoch: state.epoch) }
            if now < cached.freshUntil && now >= cached.loadedAt || cached.reloading { return .answer(cached.value) }
            state.entries[key]?.reloading = true
            return .answerAndReload(cached.value, serial: cached.serial)
        }
        switch plan {
        case .answer(let value):
            return value
        case .answerAndReload(let value, let serial):
            Task { await self.reload(key, serial: serial, load: load) }
            return value
        case .load(let epoch):
            return try await loadAndStore(key, epoch: epoch, now: now, load: load)
        case .loadOrFallBack(let cached, let epoch):
            do {
                return try await loadAndStore(key, epoch: epoch, now: now, load: load)
            } catch {
                guard let cached else { throw error }
                reloadFailed(error)
                return cached
            }
        }
    }

    private func loadAndStore(_ key: Key, epoch: Int, now: Date, load: () async throws -> Value?) async throws -> Value? {
        let value = try await load()
        state.withLock { state in
            guard state.epoch == epoch else { return }
            state.store(value, for: key, loadedAt: now, ttl: ttl, maxEntries: maxEntries)
        }
        return value
    }

    /// The background reload of an expired entry.
    private func reload(_ key: Key, serial: Int, load: @Sendable () async throws -> Value?) async {
        let started = time.now()
        do {
            let value = try await load()
            state.withLock { state in
                guard state.entries[key]?.serial == serial else { return }
                state.store(value, for: key, loadedAt: started, ttl: ttl, maxEntries: maxEntries)
            }
        } catch {
            // The entry keeps answering; the store is asked again after the retry interval.
            let retry = time.now().addingTimeInterval(min(ttl, retryInterval))
            state.withLock { state in
                guard state.entries[key]?.serial == serial else { return }
                state.entries[key]?.reloading = false
                state.entries[key]?.freshUntil = retry
            }
            reloadFailed(error)
        }
    }

    /// Forgets everything.
    public func removeAll() {
        state.withLock { state in
            state.entries.removeAll(keepingCapacity: true)
            state.epoch += 1
        }
    }

    /// Keeps every entry answering, and reloads each (in the background) on its next use. A
    /// reload already in flight no longer counts (it may have read the store before now): each
    /// entry gets a new serial, so that reload neither replaces it nor delays the next one.
    public func markAllStale() {
        state.withLock { state in
            for key in state.entries.keys {
                state.serial += 1
                state.entries[key]?.freshUntil = .distantPast
                state.entries[key]?.reloading = false
                state.entries[key]?.serial = state.serial
            }
        }
    }

    /// The entry's value as it is now, fresh or not (nil when there is none), without loading.
    public func peek(_ key: Key) -> Value? {
        state.withLock { $0.entries[key]?.value }
    }

    /// Forgets `key`.
    public func invalidate(_ key: Key) {
        state.withLock { state in
            state.entries[key] = nil
            state.epoch += 1
        }
    }
}
