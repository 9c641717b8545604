import Foundation
import GatehouseCore
import GatehouseStore
import Testing

/// Recovery codes on every backend: a set replaces the previous one, each code works once, and of a
/// parallel burst presenting one code exactly one request uses it.
@Suite struct RecoveryCodeContractTests {
    @Test(arguments: Backend.allCases)
    func eachCodeWorksOnceAndANewSetVoidsTheOld(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            let tenant = try sampleTenant()
            try await store.createTenant(tenant)
            let (ann, bob) = ("user-ann", "user-bob")
            try await store.replaceRecoveryCodes(tenant: tenant.name, userID: ann, hashes: ["a1", "a2", "a3"], now: epoch)
            try await store.replaceRecoveryCodes(tenant: tenant.name, userID: bob, hashes: ["b1"], now: epoch)
            #expect(try await store.recoveryCodesLeft(tenant: tenant.name, userID: ann) == 3)
            // One user's code is not another's.
            #expect(try await store.useRecoveryCode(tenant: tenant.name, userID: ann, hash: "b1") == false)
            #expect(try await store.useRecoveryCode(tenant: tenant.name, userID: ann, hash: "a1"))
            #expect(try await store.useRecoveryCode(tenant: tenant.name, userID: ann, hash: "a1") == false, "used up")
            #expect(try await store.recoveryCodesLeft(tenant: tenant.name, userID: ann) == 2)
            // A new set: the old codes stop working.
            try await store.replaceRecoveryCodes(tenant: tenant.name, userID: ann, hashes: ["c1", "c2"], now: epoch)
            #expect(try await store.useRecoveryCode(tenant: tenant.name, userID: ann, hash: "a2") == false)
            #expect(try await store.recoveryCodesLeft(tenant: tenant.name, userID: ann) == 2)
            // None at all.
            try await store.replaceRecoveryCodes(tenant: tenant.name, userID: ann, hashes: [], now: epoch)
            #expect(try await store.recoveryCodesLeft(tenant: tenant.name, userID: ann) == 0)
            #expect(try await store.recoveryCodesLeft(tenant: tenant.name, userID: bob) == 1)
        }
    }

    @Test(arguments: Backend.allCases)
    func aBurstUsesACodeOnce(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            let tenant = try sampleTenant()
            try await store.createTenant(tenant)
            try await store.replaceRecoveryCodes(tenant: tenant.name, userID: "u", hashes: ["only"], now: epoch)
            let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<16 {
                    group.addTask { try await store.useRecoveryCode(tenant: tenant.name, userID: "u", hash: "only") }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(wins == 1)
        }
    }
}

/// Registration policy, branding and the logo on every backend; self-registered users.
@Suite struct TenantProfileContractTests {
    @Test(arguments: Backend.allCases)
    func registrationBrandingAndTheLogoAreKept(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            let tenant = try sampleTenant()
            try await store.createTenant(tenant)
            var read = try #require(try await store.tenant(named: tenant.name))
            #expect(read.registration == .off && read.registrationDomains.isEmpty && read.branding == TenantBranding())
            #expect(try await store.setRegistration(.open, domains: ["example.com", "example.org"], tenant: tenant.name))
            #expect(
                try await store.setBranding(
                    displayName: "Contoso Ltd", primaryColor: "#7a1fa2", supportContact: "help@example.com", tenant: tenant.name))
            let logo = TenantLogo(stored: "image/png", data: [0x89, 0x50, 0x4e, 0x47, 1, 2, 3])
            #expect(try await store.setLogo(logo, tenant: tenant.name))
            read = try #require(try await store.tenant(named: tenant.name))
            #expect(read.registration == .open && read.registrationDomains == ["example.com", "example.org"])
            #expect(read.displayName == "Contoso Ltd" && read.branding.primaryColor == "#7a1fa2")
            #expect(read.branding.supportContact == "help@example.com" && read.branding.logoDigest == logo.digest)
            #expect(try await store.logo(tenant: tenant.name) == logo)
            #expect(try await store.setLogo(nil, tenant: tenant.name))
            #expect(try await store.logo(tenant: tenant.name) == nil)
            #expect(try await store.tenant(named: tenant.name)?.branding.logoDigest == nil)
            let nobody = try TenantName("nobody")
            #expect(try await store.setRegistration(.open, domains: [], tenant: nobody) == false)
            #expect(try await store.setLogo(logo, tenant: nobody) == false)
            // A self-registered user keeps the mark.
            let user = User(
                tenant: tenant.name, id: "u-1", username: try Username("eve@example.com"), email: "eve@example.com", displayName: "Eve",
                passwordHash: "x", createdAt: epoch, updatedAt: epoch, selfRegistered: true)
            try await store.createUser(user)
            #expect(try await store.user(tenant: tenant.name, id: "u-1")?.awaitsVerification == true)
        }
    }
}

/// A user's own credential change is written only over the credentials it was read with.
@Suite struct ConditionalUserUpdateContractTests {
    @Test(arguments: Backend.allCases)
    func aChangeOverChangedCredentialsWritesNothing(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            let tenant = try sampleTenant()
            try await store.createTenant(tenant)
            let read = User(
                tenant: tenant.name, id: "u-1", username: try Username("ann"), email: nil, displayName: "Ann", passwordHash: "old",
                createdAt: epoch, updatedAt: epoch)
            try await store.createUser(read)
            let stored = try #require(try await store.user(tenant: tenant.name, id: "u-1"))
            var mine = stored
            mine.passwordHash = "mine"
            mine.updatedAt = epoch.addingTimeInterval(10)
            // Meanwhile an administrator disables the user: the change is refused and the disable stays.
            var disabled = stored
            disabled.enabled = false
            #expect(try await store.updateUser(disabled))
            #expect(try await store.updateUser(mine, ifCredentialsOf: stored) == false)
            #expect(try await store.user(tenant: tenant.name, id: "u-1")?.enabled == false)
            #expect(try await store.user(tenant: tenant.name, id: "u-1")?.passwordHash == "old")
            // Enabled again with another password: refused too; over the current credentials: written.
            disabled.enabled = true
            disabled.passwordHash = "admin's"
            #expect(try await store.updateUser(disabled))
            #expect(try await store.updateUser(mine, ifCredentialsOf: stored) == false)
            let current = try #require(try await store.user(tenant: tenant.name, id: "u-1"))
            #expect(try await store.updateUser(mine, ifCredentialsOf: current))
            #expect(try await store.user(tenant: tenant.name, id: "u-1")?.passwordHash == "mine")
            // A second factor added meanwhile also refuses it.
            var enrolled = try #require(try await store.user(tenant: tenant.name, id: "u-1"))
            let before = enrolled
            enrolled.sealedTOTPSecret = "sealed"
            #expect(try await store.updateUser(enrolled))
            #expect(try await store.updateUser(mine, ifCredentialsOf: before) == false)
        }
    }
}
