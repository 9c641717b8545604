import Foundation
import Synchronization
import Testing

@testable import GatehouseCore

/// The node caches answer first, then refresh: an expired entry is answered at once to every
/// request (the one that finds it expired too) while one background reload per entry runs; a
/// failed reload keeps the entry answering (whatever the error, up to the stale limit); a request
/// waits for the store only when there is no entry.
struct TTLCacheTests {
    final class Clock: Sendable {
        let now = Mutex(Date(timeIntervalSince1970: 1_000_000))
        var source: TimeSource { TimeSource { self.now.withLock { $0 } } }
        func advance(_ seconds: TimeInterval) { now.withLock { $0 = $0.addingTimeInterval(seconds) } }
    }

    struct Broken: Error {}

    /// A store stand-in: counts loads, answers what it is set to, or hangs until released.
    final class Store: Sendable {
        let count = Mutex(0)
        let answer = Mutex<Result<String?, any Error>>(.success("one"))
        let hanging = Mutex(false)
        let failures = Mutex(0)

        func load() async throws -> String? {
            count.withLock { $0 += 1 }
            while hanging.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
            return try answer.withLock { $0 }.get()
        }

        var loads: Int { count.withLock { $0 } }
        func set(_ outcome: Result<String?, any Error>) { answer.withLock { $0 = outcome } }
        @Sendable func failed(_ error: any Error) { failures.withLock { $0 += 1 } }
    }

    /// Waits (at most 5 s) until `condition` holds: for a background reload to land.
    func eventually(_ condition: () -> Bool) async throws {
        let start = ContinuousClock.now
        while !condition() && ContinuousClock.now - start < .seconds(5) { try await Task.sleep(for: .milliseconds(2)) }
    }

    @Test func anExpiredEntryIsAnsweredAtOnceAndReloadedInTheBackground() async throws {
        let clock = Clock()
        let store = Store()
        let cache = TTLCache<String, String>(ttl: 5, time: clock.source)
        #expect(try await cache.value(for: "a", load: store.load) == "one")
        clock.advance(4.9)
        store.set(.success("two"))
        #expect(try await cache.value(for: "a", load: store.load) == "one")
        #expect(store.loads == 1)
        #expect(cache.fresh("a") == .some("one") && cache.fresh("b") == nil)
        clock.advance(0.2)
        #expect(cache.fresh("a") == nil, "an expired entry is not fresh: the caller goes through value(for:load:)")
        // The request that finds the entry expired gets the entry too; the reload runs behind it.
        #expect(try await cache.value(for: "a", load: store.load) == "one")
        try await eventually { store.loads == 2 }
        try await eventually { cache.peek("a") == "two" }
        #expect(try await cache.value(for: "a", load: store.load) == "two")
        #expect(store.loads == 2)
    }

    /// With the store hanging (a dead database), a caller that sends one request at a time gets
    /// every answer from the expired entry without waiting, and only one reload is in flight.
    @Test func aHangingStoreStallsNoRequestAndIsAskedOnce() async throws {
        let clock = Clock()
        let store = Store()
        let cache = TTLCache<String, String>(ttl: 5, time: clock.source)
        _ = try await cache.value(for: "a", load: store.load)
        store.hanging.withLock { $0 = true }
        clock.advance(6)
        let started = ContinuousClock.now
        for _ in 0..<200 {
            #expect(try await cache.value(for: "a", load: store.load) == "one")
            clock.advance(0.05)
        }
        #expect(ContinuousClock.now - started < .seconds(2), "no request waited for the store")
        try await eventually { store.loads == 2 }
        for _ in 0..<20 { #expect(try await cache.value(for: "a", load: store.load) == "one") }
        try await Task.sleep(for: .milliseconds(50))
        #expect(store.loads == 2, "one reload, still hanging")
        store.set(.success("two"))
        store.hanging.withLock { $0 = false }
        try await eventually { cache.peek("a") == "two" }
        #expect(try await cache.value(for: "a", load: store.load) == "two")
    }

    @Test func aFailedReloadKeepsTheEntryWhateverTheErrorAndTriesAgainAfterTheInterval() async throws {
        let clock = Clock()
        let store = Store()
        let cache = TTLCache<String, String>(ttl: 30, time: clock.source, staleLimit: 600, retryInterval: 5, reloadFailed: store.failed)
        _ = try await cache.value(for: "a", load: store.load)
        for (index, error) in [StoreUnavailable("test") as any Error, Broken()].enumerated() {
            store.set(.failure(error))
            clock.advance(31)
            #expect(try await cache.value(for: "a", load: store.load) == "one")
            try await eventually { store.failures.withLock { $0 } == index + 1 }
            let before = store.loads
            // Within the retry interval the store is not asked again.
            for _ in 0..<10 { #expect(try await cache.value(for: "a", load: store.load) == "one") }
            #expect(store.loads == before)
        }
        #expect(store.failures.withLock { $0 } == 2)
        clock.advance(5)
        store.set(.success("two"))
        #expect(try await cache.value(for: "a", load: store.load) == "one")
        try await eventually { cache.peek("a") == "two" }
    }

    @Test func withoutAnEntryOrPastTheStaleLimitTheRequestWaitsAndSeesTheError() async throws {
        let clock = Clock()
        let store = Store()
        let cache = TTLCache<String, String>(ttl: 30, time: clock.source, staleLimit: 600, retryInterval: 5)
        store.set(.failure(StoreUnavailable("test")))
        await #expect(throws: StoreUnavailable.self) { try await cache.value(for: "b", load: store.load) }
        store.set(.success("one"))
        _ = try await cache.value(for: "a", load: store.load)
        clock.advance(601)
        store.set(.failure(Broken()))
        await #expect(throws: Broken.self) { try await cache.value(for: "a", load: store.load) }
        store.set(.success("two"))
        #expect(try await cache.value(for: "a", load: store.load) == "two")
    }

    /// The change watcher's two signals: a change seen while the database is up forgets the
    /// entries (the next request reads the store); after an outage entries are only marked stale.
    @Test func invalidationForgetsAndMarkingStaleKeepsAnswering() async throws {
        let clock = Clock()
        let store = Store()
        let cache = TTLCache<String, String>(ttl: 30, time: clock.source)
        _ = try await cache.value(for: "a", load: store.load)
        store.set(.success("two"))
        cache.markAllStale()
        #expect(try await cache.value(for: "a", load: store.load) == "one")
        try await eventually { cache.peek("a") == "two" }
        store.set(.success("three"))
        cache.removeAll()
        #expect(try await cache.value(for: "a", load: store.load) == "three")
    }

    /// A background reload that read the store before an invalidation does not put its value back.
    @Test func aReloadOvertakenByAnInvalidationIsDropped() async throws {
        let clock = Clock()
        let store = Store()
        let cache = TTLCache<String, String>(ttl: 5, time: clock.source)
        _ = try await cache.value(for: "a", load: store.load)
        clock.advance(6)
        store.hanging.withLock { $0 = true }
        #expect(try await cache.value(for: "a", load: store.load) == "one")
        try await eventually { store.loads == 2 }
        cache.removeAll()
        store.set(.success("stale read"))
        store.hanging.withLock { $0 = false }
        try await Task.sleep(for: .milliseconds(50))
        #expect(cache.peek("a") == nil)
        store.set(.success("after"))
        #expect(try await cache.value(for: "a", load: store.load) == "after")
    }

    /// A lifetime of 0: every request reads the store while it answers; the last value answers when it does not.
    @Test func aLifetimeOfZeroReadsTheStoreEveryTimeAndFallsBackWhenItFails() async throws {
        let clock = Clock()
        let store = Store()
        let cache = TTLCache<String, String>(ttl: 0, time: clock.source, reloadFailed: store.failed)
        #expect(try await cache.value(for: "a", load: store.load) == "one")
        store.set(.success("two"))
        #expect(try await cache.value(for: "a", load: store.load) == "two")
        store.set(.failure(StoreUnavailable("test")))
        #expect(try await cache.value(for: "a", load: store.load) == "two")
        #expect(store.loads == 3 && store.failures.withLock { $0 } == 1)
    }

    /// A reload that started before `markAllStale` (it may have read the store before the outage
    /// ended) neither replaces the entry nor, when it fails, puts off the next reload.
    @Test func markingStaleDiscountsAReloadInFlight() async throws {
        let clock = Clock()
        let store = Store()
        let cache = TTLCache<String, String>(ttl: 5, time: clock.source, reloadFailed: store.failed)
        _ = try await cache.value(for: "a", load: store.load)
        clock.advance(6)
        store.hanging.withLock { $0 = true }
        #expect(try await cache.value(for: "a", load: store.load) == "one")
        try await eventually { store.loads == 2 }
        cache.markAllStale()
        store.set(.failure(StoreUnavailable("test")))
        store.hanging.withLock { $0 = false }
        try await eventually { store.failures.withLock { $0 } == 1 }
        store.set(.success("two"))
        #expect(try await cache.value(for: "a", load: store.load) == "one")
        try await eventually { cache.peek("a") == "two" }
        #expect(store.loads == 3)
    }
}
