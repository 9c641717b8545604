import Foundation
import GatehouseCore
import GatehouseStore
import Testing

/// Self-registered clients' records and initial access tokens on every backend: the record goes
/// with its client, the token hash is replaced only over the one read, and a burst spends an
/// initial access token's uses exactly once each.
@Suite struct ClientRegistrationContractTests {
    static func record(_ tenant: TenantName, _ id: String, hash: String = "h1") throws -> ClientRegistrationRecord {
        ClientRegistrationRecord(
            tenant: tenant, clientID: try ClientID(id), policy: .open, tokenHash: hash, metadata: #"{"logo_uri":"https://x/l.png"}"#,
            initialTokenID: nil, createdAt: epoch, updatedAt: epoch)
    }

    @Test(arguments: Backend.allCases)
    func aRegistrationIsKeptWithItsClientAndReplacedOverTheTokenRead(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            let tenant = try sampleTenant()
            try await store.createTenant(tenant)
            try await store.createClient(try sampleClient("self-1"))
            let record = try Self.record(tenant.name, "self-1")
            try await store.addClientRegistration(record)
            await #expect(throws: StoreError.self) { try await store.addClientRegistration(record) }
            #expect(try await store.clientRegistration(tenant: tenant.name, clientID: ClientID("self-1")) == record)
            #expect(try await store.clientRegistrations(tenant: tenant.name).map(\.clientID.value) == ["self-1"])
            var next = record
            next.tokenHash = "h2"
            next.metadata = "{}"
            next.updatedAt = epoch.addingTimeInterval(60)
            // Two updates with the one token: one wins.
            let update = next
            let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<8 { group.addTask { try await store.replaceClientRegistration(update, expectedTokenHash: "h1") } }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(wins == 1)
            #expect(try await store.clientRegistration(tenant: tenant.name, clientID: ClientID("self-1")) == next)
            #expect(try await store.removeClient(tenant: tenant.name, id: ClientID("self-1")))
            #expect(try await store.clientRegistration(tenant: tenant.name, clientID: ClientID("self-1")) == nil, "removed with the client")
        }
    }

    @Test(arguments: Backend.allCases)
    func aBurstSpendsEachUseOfAnInitialAccessTokenOnce(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            let tenant = try sampleTenant()
            try await store.createTenant(tenant)
            let token = InitialAccessToken(
                tenant: tenant.name, id: "t1", hash: "iat-hash", label: "for the CLI team", createdAt: epoch,
                expiresAt: epoch.addingTimeInterval(3_600), usesLeft: 3)
            try await store.addInitialAccessToken(token)
            #expect(try await store.initialAccessTokens(tenant: tenant.name) == [token])
            let now = epoch.addingTimeInterval(60)
            let spent = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<12 {
                    group.addTask { try await store.spendInitialAccessToken(tenant: tenant.name, hash: "iat-hash", now: now) != nil }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(spent == 3)
            #expect(try await store.initialAccessTokens(tenant: tenant.name).first?.usesLeft == 0)
            // Expired: nothing spent; another tenant's hash: nothing.
            let late = InitialAccessToken(
                tenant: tenant.name, id: "t2", hash: "late", label: "", createdAt: epoch, expiresAt: epoch.addingTimeInterval(10),
                usesLeft: 5)
            try await store.addInitialAccessToken(late)
            #expect(try await store.spendInitialAccessToken(tenant: tenant.name, hash: "late", now: now) == nil)
            #expect(try await store.spendInitialAccessToken(tenant: TenantName("other"), hash: "iat-hash", now: epoch) == nil)
            #expect(try await store.removeInitialAccessToken(tenant: tenant.name, id: "t2"))
            #expect(try await store.removeInitialAccessToken(tenant: tenant.name, id: "t2") == false)
        }
    }
}
