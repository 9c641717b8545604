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
