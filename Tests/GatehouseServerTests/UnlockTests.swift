import Foundation
import GatehouseCore
import GatehouseServer
import Testing

/// A locked user can be unlocked; a right password sent while the user was
/// disabled is not a failure; enabling a user starts their count again.
@Suite struct UnlockTests {
    static func attempt(_ harness: Harness, _ password: String) async -> Int? {
        do {
            _ = try await harness.gatehouse.passwords.verify(tenant: try TenantName("contoso"), username: "alice", password: password)
            return nil
        } catch let error as CatalogueError {
            return error.entry.number
        } catch {
            return -1
        }
    }

    @Test func aLockedUserIsUnlockedAndARightPasswordWhileDisabledIsNoFailure() async throws {
        let harness = try await Harness.make()
        let admin = harness.gatehouse.administration
        let tenant = try TenantName("contoso")
        let threshold = harness.gatehouse.configuration.signIn.lockoutThreshold
        for _ in 1..<threshold { #expect(await Self.attempt(harness, "wrong") == 50126) }
        #expect(await Self.attempt(harness, "wrong") == 50053, "the threshold's failure locks")
        #expect(await Self.attempt(harness, Harness.password) == 50053, "locked: the right password is not checked")
        _ = try await admin.unlockUser(tenant: tenant, user: "alice")
        #expect(await Self.attempt(harness, Harness.password) == nil, "unlocked")
        #expect(try await harness.store.auditEntries(AuditQuery(tenant: tenant, action: "user.unlock")).count == 1)

        // Failures, then disabled: the right password answers 50057 and counts as no failure.
        for _ in 1..<threshold { #expect(await Self.attempt(harness, "wrong") == 50126) }
        _ = try await admin.setEnabled(tenant: tenant, user: "alice", enabled: false)
        #expect(await Self.attempt(harness, Harness.password) == 50057)
        _ = try await admin.setEnabled(tenant: tenant, user: "alice", enabled: true)
        // Enabled again: a fresh count, so the threshold's number of failures is needed to lock.
        for _ in 1..<threshold { #expect(await Self.attempt(harness, "wrong") == 50126) }
        #expect(await Self.attempt(harness, Harness.password) == nil)
    }
}
