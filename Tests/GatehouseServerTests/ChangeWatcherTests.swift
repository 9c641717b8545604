import Foundation
import GatehouseCore
import GatehouseServer
import HummingbirdTesting
import Synchronization
import Testing

/// Several nodes on one store: a change made elsewhere is seen by every node within a second,
/// although their caches would keep the old records for an hour.
@Suite struct ChangeWatcherTests {
    static func node(sharing harness: Harness) -> Harness {
        var configuration = harness.gatehouse.configuration
        configuration.cacheTTL = 3600
        configuration.keyRingTTL = 3600
        let gatehouse = Gatehouse(configuration: configuration, store: harness.store, hasher: harness.gatehouse.hasher)
        return Harness(
            gatehouse: gatehouse, store: harness.store, secrets: harness.secrets, clientKey: harness.clientKey,
            strangerKey: harness.strangerKey, totpSecret: harness.totpSecret)
    }

    static func status(_ node: Harness, secret: String) async throws -> Int {
        try await node.withClient { client in
            try await node.token(client, [("grant_type", "client_credentials"), ("client_id", "svc"), ("client_secret", secret)]).status
                .code
        }
    }

    @Test func aRemovedClientIsRefusedByEveryNodeWithinAFewPolls() async throws {
        let first = try await Harness.make { $0.cacheTTL = 3600 }
        let nodes = [Self.node(sharing: first), Self.node(sharing: first)]
        let unwatched = Self.node(sharing: first)
        let secret = first.secret("svc")
        for node in nodes + [unwatched] { #expect(try await Self.status(node, secret: secret) == 200) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for node in nodes { group.addTask { try await node.gatehouse.changeWatcher().run() } }
            try await Task.sleep(for: .milliseconds(100))
            // The CLI's `clients remove`, on the shared store.
            let counter = try await first.store.changeCounter()
            #expect(try await first.store.removeClient(tenant: try TenantName("contoso"), id: try ClientID("svc")))
            #expect(try await first.store.changeCounter() > counter)
            let removedAt = ContinuousClock.now
            // Both nodes asked at once, each over a client made beforehand (making one takes
            // longer than a poll on a busy machine, and is not what is measured).
            let refusedAfter = try await withThrowingTaskGroup(of: Duration.self) { checks in
                for node in nodes {
                    checks.addTask {
                        try await node.withClient { client in
                            while try await node.token(
                                client, [("grant_type", "client_credentials"), ("client_id", "svc"), ("client_secret", secret)]
                            ).status == .ok {
                                if ContinuousClock.now - removedAt > .seconds(5) { break }
                                try await Task.sleep(for: .milliseconds(20))
                            }
                            return ContinuousClock.now - removedAt
                        }
                    }
                }
                return try await checks.reduce(into: [Duration]()) { $0.append($1) }
            }
            // The watcher polls every 250 ms, so an idle machine sees it in well under a second; the
            // bound leaves room for a suite that runs many tests (and PostgreSQL) on two cores.
            #expect(refusedAfter.allSatisfy { $0 < .seconds(2) }, "\(refusedAfter)")
            group.cancelAll()
        }
        for node in nodes { #expect(try await Self.status(node, secret: secret) == 401) }
        // A node that does not watch keeps its cached client: the watcher is what made the difference.
        #expect(try await Self.status(unwatched, secret: secret) == 200)
    }

    @Test func aUserDisabledElsewhereIsRefusedOnRefreshWithinAFewPolls() async throws {
        let first = try await Harness.make { $0.cacheTTL = 3600 }
        let node = Self.node(sharing: first)
        try await node.withClient { client in
            var current = try #require(try await node.tokens(client)["refresh_token"] as? String)
            // The node caches the grant's user on this refresh.
            let refreshed = try await node.refresh(client, current)
            #expect(refreshed.status == .ok)
            current = json(refreshed)["refresh_token"] as? String ?? ""
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await node.gatehouse.changeWatcher().run() }
                try await Task.sleep(for: .milliseconds(100))
                // Disabled on the shared store without revoking the grants, so that only the
                // user cache stands between the node and a refusal.
                let tenant = try TenantName("contoso")
                var alice = try #require(try await first.store.user(tenant: tenant, username: try Username("alice")))
                alice.enabled = false
                #expect(try await first.store.updateUser(alice))
                let disabledAt = ContinuousClock.now
                // Asked every 200 ms (a refresh that still works rotates the token) until refused.
                var refused: TestResponse
                repeat {
                    try await Task.sleep(for: .milliseconds(200))
                    refused = try await node.refresh(client, current)
                    if refused.status == .ok { current = json(refused)["refresh_token"] as? String ?? "" }
                } while refused.status == .ok && ContinuousClock.now - disabledAt < .seconds(2)
                #expect(ContinuousClock.now - disabledAt < .seconds(2))
                expectError(refused, status: 400, error: "invalid_grant", code: 50057)
                group.cancelAll()
            }
        }
    }

    /// A counter that can fail like a database that went away, and a cache that records what it is told.
    final class Counter: ChangeCounterStore {
        let state = Mutex((value: 1, failing: false))
        let polls = Mutex(0)
        func changeCounter() async throws -> Int {
            polls.withLock { $0 += 1 }
            let (value, failing) = state.withLock { ($0.value, $0.failing) }
            if failing { throw StoreUnavailable("test: away") }
            return value
        }
    }

    final class Recorder: NodeCache {
        let calls = Mutex<[String]>([])
        func invalidateAll() { calls.withLock { $0.append("invalidate") } }
        func markAllStale() { calls.withLock { $0.append("stale") } }
    }

    /// After an outage the caches are only marked stale (they keep answering while each entry
    /// reloads) when nothing changed; when the counter moved meanwhile, they are emptied.
    @Test func afterAnOutageEntriesAreMarkedStaleUnlessTheCounterMoved() async throws {
        let counter = Counter()
        let cache = Recorder()
        let watcher = ChangeWatcher(store: counter, interval: .milliseconds(10), caches: [cache])
        // Waits until the watcher has read the counter a few more times (a loaded test run is slow).
        func settle() async throws {
            let start = counter.polls.withLock { $0 }
            let began = ContinuousClock.now
            while counter.polls.withLock({ $0 }) < start + 3 && ContinuousClock.now - began < .seconds(10) {
                try await Task.sleep(for: .milliseconds(5))
            }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await watcher.run() }
            try await settle()
            #expect(cache.calls.withLock { $0 } == [])
            counter.state.withLock { $0.failing = true }
            try await settle()
            counter.state.withLock { $0.failing = false }
            try await settle()
            #expect(cache.calls.withLock { $0 } == ["stale"])
            counter.state.withLock { $0.failing = true }
            try await settle()
            counter.state.withLock { $0 = (2, false) }
            try await settle()
            #expect(cache.calls.withLock { $0 } == ["stale", "invalidate"])
            group.cancelAll()
        }
    }
}
