import Foundation
import GatehouseCore
import GatehouseServer
import HummingbirdTesting
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

    @Test func aRemovedClientIsRefusedByEveryNodeWithinASecond() async throws {
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
            for node in nodes {
                while try await Self.status(node, secret: secret) == 200 {
                    #expect(ContinuousClock.now - removedAt < .seconds(1))
                    if ContinuousClock.now - removedAt > .seconds(3) { break }
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            #expect(ContinuousClock.now - removedAt < .seconds(1))
            group.cancelAll()
        }
        for node in nodes { #expect(try await Self.status(node, secret: secret) == 401) }
        // A node that does not watch keeps its cached client: the watcher is what made the difference.
        #expect(try await Self.status(unwatched, secret: secret) == 200)
    }
}
