import Foundation
import GatehouseCore
import GatehouseStore
import Testing

/// Passkeys on every backend: kept whole, one per credential ID in a tenant, the same ID free in
/// another tenant, a user's own only to rename and remove, and the counter written conditionally.
@Suite struct PasskeyContractTests {
    static func sample(_ tenant: TenantName, user: String, id: String, at: TimeInterval = 0) -> Passkey {
        Passkey(
            tenant: tenant, userID: user, credentialID: id, publicKey: [0xa5, 1, 2, 3, 0xff], signCount: 7,
            transports: ["internal", "hybrid"], aaguid: String(repeating: "0", count: 32), backupEligible: true, backedUp: false,
            attestationFormat: "none", name: "Laptop", createdAt: epoch.addingTimeInterval(at))
    }

    @Test(arguments: Backend.allCases)
    func passkeysAreKeptPerTenantAndUser(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            let tenant = try sampleTenant()
            let other = try TenantName("other")
            try await store.createTenant(tenant)
            let first = Self.sample(tenant.name, user: "ann", id: "cred-1")
            #expect(try await store.addPasskey(first))
            #expect(try await store.addPasskey(Self.sample(tenant.name, user: "bob", id: "cred-1")) == false, "one ID per tenant")
            #expect(try await store.addPasskey(Self.sample(other, user: "ann", id: "cred-1")), "another tenant's")
            #expect(try await store.addPasskey(Self.sample(tenant.name, user: "ann", id: "cred-2", at: 10)))
            #expect(try await store.passkey(tenant: tenant.name, credentialID: "cred-1") == first)
            #expect(try await store.passkeys(tenant: tenant.name, userID: "ann").map(\.credentialID) == ["cred-1", "cred-2"])
            #expect(try await store.passkeyCount(tenant: tenant.name, userID: "ann") == 2)
            #expect(try await store.passkeyCount(tenant: tenant.name, userID: "bob") == 0)
            // Only the owner renames or removes.
            #expect(try await store.renamePasskey(tenant: tenant.name, userID: "bob", credentialID: "cred-1", name: "Mine") == false)
            #expect(try await store.renamePasskey(tenant: tenant.name, userID: "ann", credentialID: "cred-1", name: "  Phone\u{7}  "))
            #expect(try await store.passkey(tenant: tenant.name, credentialID: "cred-1")?.name == "Phone")
            #expect(try await store.removePasskey(tenant: tenant.name, userID: "bob", credentialID: "cred-1") == false)
            #expect(try await store.removePasskey(tenant: tenant.name, userID: "ann", credentialID: "cred-1"))
            #expect(try await store.removePasskey(tenant: tenant.name, userID: "ann", credentialID: "cred-1") == false)
            #expect(try await store.passkey(tenant: tenant.name, credentialID: "cred-1") == nil)
            #expect(try await store.passkey(tenant: other, credentialID: "cred-1") != nil, "the other tenant's stays")
        }
    }

    @Test(arguments: Backend.allCases)
    func aUseIsWrittenOverTheCounterItRead(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            let tenant = try sampleTenant()
            try await store.createTenant(tenant)
            #expect(try await store.addPasskey(Self.sample(tenant.name, user: "ann", id: "c")))
            let at = epoch.addingTimeInterval(60)
            let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<12 {
                    group.addTask {
                        try await store.recordPasskeyUse(
                            tenant: tenant.name, credentialID: "c", previousCount: 7, signCount: 8, backedUp: true, counterRegressed: false,
                            at: at)
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(wins == 1)
            var read = try #require(try await store.passkey(tenant: tenant.name, credentialID: "c"))
            #expect(read.signCount == 8 && read.backedUp && read.lastUsedAt == at && !read.counterRegressed)
            // A regression is remembered; a later use does not clear it.
            #expect(
                try await store.recordPasskeyUse(
                    tenant: tenant.name, credentialID: "c", previousCount: 8, signCount: 3, backedUp: true, counterRegressed: true, at: at))
            #expect(
                try await store.recordPasskeyUse(
                    tenant: tenant.name, credentialID: "c", previousCount: 3, signCount: 4, backedUp: false, counterRegressed: false, at: at
                ))
            read = try #require(try await store.passkey(tenant: tenant.name, credentialID: "c"))
            #expect(read.signCount == 4 && read.counterRegressed && !read.backedUp)
            // A counter above Int32 (UInt32 range) round-trips.
            #expect(
                try await store.recordPasskeyUse(
                    tenant: tenant.name, credentialID: "c", previousCount: 4, signCount: UInt32.max, backedUp: false,
                    counterRegressed: false,
                    at: at))
            #expect(try await store.passkey(tenant: tenant.name, credentialID: "c")?.signCount == UInt32.max)
        }
    }

    @Test(arguments: Backend.allCases)
    func theTenantsPolicyIsKept(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            let tenant = try sampleTenant()
            try await store.createTenant(tenant)
            #expect(try await store.tenant(named: tenant.name)?.passkeyPolicy == PasskeyPolicy())
            let strict = PasskeyPolicy(userVerification: .required, attestation: .required, counterRegression: .flag)
            #expect(try await store.setPasskeyPolicy(strict, tenant: tenant.name))
            #expect(try await store.tenant(named: tenant.name)?.passkeyPolicy == strict)
            #expect(try await store.setPasskeyPolicy(strict, tenant: try TenantName("nobody")) == false)
        }
    }
}

/// A tenant's client registration settings on every backend.
@Suite struct ClientRegistrationSettingsContractTests {
    @Test(arguments: Backend.allCases)
    func theSettingsAreKept(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            let tenant = try sampleTenant()
            try await store.createTenant(tenant)
            #expect(try await store.tenant(named: tenant.name)?.clientRegistration == ClientRegistrationSettings())
            let open = ClientRegistrationSettings(
                policy: .open, apis: ["api://orders", "https://mcp.example.com"], allowLocalFetches: true)
            #expect(try await store.setClientRegistration(open, tenant: tenant.name))
            #expect(try await store.tenant(named: tenant.name)?.clientRegistration == open)
            let token = ClientRegistrationSettings(policy: .initialAccessToken, apis: ["*"])
            #expect(try await store.setClientRegistration(token, tenant: tenant.name))
            #expect(try await store.tenant(named: tenant.name)?.clientRegistration == token)
            #expect(try await store.setClientRegistration(open, tenant: try TenantName("nobody")) == false)
        }
    }
}
