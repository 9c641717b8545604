import Foundation
import Synchronization
import Testing

@testable import GatehouseCore

/// The node caches through a database outage: expired entries are served stale while the store
/// is unavailable (never on other errors, never past the stale limit), and the store is asked
/// again at most once per retry interval.
struct TTLCacheTests {
    final class Clock: Sendable {
        let now = Mutex(Date(timeIntervalSince1970: 1_000_000))
        var source: TimeSource { TimeSource { self.now.withLock { $0 } } }
        func advance(_ seconds: TimeInterval) { now.withLock { $0 = $0.addingTimeInterval(seconds) } }
    }

    struct Broken: Error {}

    final class Loads: Sendable {
        let count = Mutex(0)
        func load(_ outcome: Result<String?, any Error>) throws -> String? {
            count.withLock { $0 += 1 }
            return try outcome.get()
        }
    }

    @Test func freshEntriesAreServedWithoutLoadingAndExpireAfterTheirLifetime() async throws {
        let clock = Clock()
        let cache = TTLCache<String, String>(ttl: 5, time: clock.source)
        let loads = Loads()
        #expect(try await cache.value(for: "a") { try loads.load(.success("one")) } == "one")
        clock.advance(4.9)
        #expect(try await cache.value(for: "a") { try loads.load(.success("two")) } == "one")
        clock.advance(0.2)
        #expect(try await cache.value(for: "a") { try loads.load(.success("two")) } == "two")
        #expect(loads.count.withLock { $0 } == 2)
    }

    @Test func anExpiredEntryIsServedStaleWhileTheStoreIsUnavailableAndAskedAgainOncePerInterval() async throws {
        let clock = Clock()
        let cache = TTLCache<String, String>(ttl: 30, time: clock.source, staleLimit: 600, retryInterval: 5)
        let loads = Loads()
        _ = try await cache.value(for: "a") { try loads.load(.success("one")) }
        clock.advance(31)
        let down = Result<String?, any Error>.failure(StoreUnavailable("test"))
        #expect(try await cache.value(for: "a") { try loads.load(down) } == "one")
        #expect(loads.count.withLock { $0 } == 2)
        // Within the retry interval the store is not asked again.
        for _ in 0..<10 { #expect(try await cache.value(for: "a") { try loads.load(down) } == "one") }
        #expect(loads.count.withLock { $0 } == 2)
        clock.advance(5)
        #expect(try await cache.value(for: "a") { try loads.load(down) } == "one")
        #expect(loads.count.withLock { $0 } == 3)
        // Back: the next load after the interval replaces the stale value.
        clock.advance(5)
        #expect(try await cache.value(for: "a") { try loads.load(.success("two")) } == "two")
    }

    @Test func staleValuesEndAtTheStaleLimitAndOtherErrorsAreNeverHidden() async throws {
        let clock = Clock()
        let cache = TTLCache<String, String>(ttl: 30, time: clock.source, staleLimit: 600, retryInterval: 5)
        let loads = Loads()
        _ = try await cache.value(for: "a") { try loads.load(.success("one")) }
        clock.advance(31)
        await #expect(throws: Broken.self) { try await cache.value(for: "a") { try loads.load(.failure(Broken())) } }
        clock.advance(600)
        await #expect(throws: StoreUnavailable.self) {
            try await cache.value(for: "a") { try loads.load(.failure(StoreUnavailable("test"))) }
        }
        // Nothing cached: an outage is the caller's error.
        await #expect(throws: StoreUnavailable.self) {
            try await cache.value(for: "b") { try loads.load(.failure(StoreUnavailable("test"))) }
        }
    }

    /// While one request reloads an expired entry (here: a store that has not answered yet), the
    /// others answer from the entry instead of each waiting.
    @Test func otherRequestsAnswerFromTheEntryWhileOneReloadsIt() async throws {
        let clock = Clock()
        let cache = TTLCache<String, String>(ttl: 30, time: clock.source)
        _ = try await cache.value(for: "a") { "one" }
        clock.advance(31)
        let (started, startedSignal) = AsyncStream<Void>.makeStream()
        let (release, releaseSignal) = AsyncStream<Void>.makeStream()
        let reload = Task {
            try await cache.value(for: "a") {
                startedSignal.yield()
                for await _ in release { break }
                return "two"
            }
        }
        for await _ in started { break }
        let loads = Loads()
        #expect(try await cache.value(for: "a") { try loads.load(.success("never")) } == "one")
        #expect(loads.count.withLock { $0 } == 0)
        releaseSignal.yield()
        #expect(try await reload.value == "two")
        #expect(try await cache.value(for: "a") { try loads.load(.success("never")) } == "two")
    }
}
