import Foundation
import GatehouseCore
import GatehouseStore
import SQLKit
import Testing

/// Sign-in by email address, first-party clients and secrets' last use, on every backend; and
/// migration 16, which turns email sign-in on where each address is one user's.
@Suite struct EmailSignInContractTests {
    static func user(_ tenant: TenantName, _ name: String, email: String?) throws -> User {
        User(
            tenant: tenant, id: UUID().uuidString.lowercased(), username: try Username(name), email: email, displayName: name,
            passwordHash: "x", createdAt: epoch, updatedAt: epoch)
    }

    @Test(arguments: Backend.allCases)
    func anAddressIsOneUsersWhileEmailSignInIsOn(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            let tenant = try sampleTenant()
            try await store.createTenant(tenant)
            #expect(try await store.tenant(named: tenant.name)?.emailSignIn == true, "on by default")
            let ann = try Self.user(tenant.name, "ann", email: "Ann@Example.com")
            try await store.createUser(ann)
            // The address, in any case, names the user; the username still does.
            #expect(try await store.user(tenant: tenant.name, signInName: " ANN@example.COM ")?.id == ann.id)
            #expect(try await store.user(tenant: tenant.name, signInName: "ann")?.id == ann.id)
            #expect(try await store.user(tenant: tenant.name, signInName: "nobody@example.com") == nil)
            // A second user with the address is refused, by create and by update.
            await #expect(throws: StoreError.conflict(StoreError.emailTaken)) {
                try await store.createUser(try Self.user(tenant.name, "ann2", email: "ann@example.com"))
            }
            var bob = try Self.user(tenant.name, "bob", email: "bob@example.com")
            try await store.createUser(bob)
            bob.email = "ANN@example.com"
            await #expect(throws: StoreError.conflict(StoreError.emailTaken)) { _ = try await store.updateUser(bob) }
            #expect(try await store.user(tenant: tenant.name, id: bob.id)?.email == "bob@example.com", "nothing changed")
            // A username taken is still a username conflict.
            await #expect(throws: StoreError.conflict("user ann")) {
                try await store.createUser(try Self.user(tenant.name, "ann", email: nil))
            }
            // Another tenant may have the address.
            let other = try sampleTenant("fabrikam")
            try await store.createTenant(other)
            try await store.createUser(try Self.user(other.name, "ann", email: "ann@example.com"))

            // Off: addresses sign nobody in and may be shared; on again is refused while they are.
            #expect(try await store.setEmailSignIn(false, tenant: tenant.name) == .done)
            #expect(try await store.user(tenant: tenant.name, signInName: "ann@example.com") == nil)
            try await store.createUser(try Self.user(tenant.name, "ann2", email: "ann@example.com"))
            #expect(try await store.setEmailSignIn(true, tenant: tenant.name) == .duplicates(["ann@example.com"]))
            #expect(try await store.tenant(named: tenant.name)?.emailSignIn == false)
            #expect(try await store.user(tenant: tenant.name, signInName: "ann@example.com") == nil)
            var ann2 = try #require(try await store.user(tenant: tenant.name, username: try Username("ann2")))
            ann2.email = "ann.two@example.com"
            #expect(try await store.updateUser(ann2))
            #expect(try await store.setEmailSignIn(true, tenant: tenant.name) == .done)
            #expect(try await store.user(tenant: tenant.name, signInName: "ann.two@example.com")?.id == ann2.id)
            #expect(try await store.setEmailSignIn(true, tenant: try TenantName("nobody")) == .noSuchTenant)
        }
    }

    /// A burst of creates with one address: exactly one user gets it.
    @Test(arguments: Backend.allCases)
    func parallelCreatesWithOneAddressLeaveOneOwner(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            let tenant = try sampleTenant()
            try await store.createTenant(tenant)
            let created = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<8 {
                    group.addTask {
                        do {
                            try await store.createUser(try Self.user(tenant.name, "user\(index)", email: "shared@example.com"))
                            return true
                        } catch StoreError.conflict { return false }
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(created == 1)
        }
    }

    @Test(arguments: Backend.allCases)
    func firstPartyAndSecretsLastUseAreKept(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            let tenant = try sampleTenant()
            try await store.createTenant(tenant)
            var client = try sampleClient()
            try await store.createClient(client)
            #expect(try await store.client(tenant: tenant.name, id: client.id)?.firstParty == false)
            client.firstParty = true
            #expect(try await store.updateClient(client))
            #expect(try await store.client(tenant: tenant.name, id: client.id)?.firstParty == true)
            var other = try sampleClient("first")
            other.firstParty = true
            try await store.createClient(other)
            #expect(try await store.client(tenant: tenant.name, id: other.id)?.firstParty == true)

            try await store.addSecret(
                ClientSecretRecord(
                    tenant: tenant.name, clientID: client.id, secretID: "s1", hash: "h", hint: "abc", createdAt: epoch, expiresAt: nil))
            #expect(try await store.secrets(tenant: tenant.name, clientID: client.id).first?.lastUsedAt == nil)
            let later = epoch.addingTimeInterval(120)
            try await store.noteSecretUse([SecretUse(tenant: tenant.name, clientID: client.id, secretID: "s1", at: later)])
            // An older note (another node's, late) does not move it back.
            try await store.noteSecretUse([SecretUse(tenant: tenant.name, clientID: client.id, secretID: "s1", at: epoch)])
            #expect(try await store.secrets(tenant: tenant.name, clientID: client.id).first?.lastUsedAt == later)
            // A secret that is gone is no error.
            try await store.noteSecretUse([SecretUse(tenant: tenant.name, clientID: client.id, secretID: "gone", at: later)])
        }
    }

    /// Migration 16: email sign-in on for a tenant whose addresses are each one user's; off for
    /// one where an address is shared, with an audit entry naming it.
    @Test(arguments: SessionMigrationTests.backends)
    func theMigrationTurnsEmailSignInOnWhereAddressesAreUnique(postgres: Bool) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-emailmigration-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let place =
            postgres
            ? "test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            : folder.appendingPathComponent("db.sqlite").path
        do {
            let (store, close) = try await SessionMigrationTests.open(postgres, place, through: 15)
            do {
                for tenant in ["unique", "shared"] {
                    try await store.db.raw(
                        """
                        INSERT INTO tenants (name, id, display_name, signing_algorithm, access_token_lifetime, created_at, sign_in_log)
                        VALUES (\(bind: tenant), \(bind: UUID().uuidString.lowercased()), \(bind: tenant), 'ES256', 3600, \(bind: epoch), 'aggregate')
                        """
                    ).run()
                }
                for (tenant, user, email) in [
                    ("unique", "a", "A@x.org"), ("unique", "b", "b@x.org"), ("unique", "c", nil), ("shared", "a", "same@x.org"),
                    ("shared", "b", "SAME@x.org"), ("shared", "c", "c@x.org"),
                ] {
                    try await store.db.raw(
                        """
                        INSERT INTO users (tenant, user_id, username, email, display_name, password_hash, enabled, created_at, updated_at)
                        VALUES (\(bind: tenant), \(bind: tenant + "-" + user), \(bind: user), \(bind: email), \(bind: user), 'x', \(bind: true),
                                \(bind: epoch), \(bind: epoch))
                        """
                    ).run()
                }
            } catch {
                try await close()
                throw error
            }
            try await close()
        }
        let (store, close) = try await SessionMigrationTests.open(postgres, place)
        do {
            let unique = try TenantName("unique")
            let shared = try TenantName("shared")
            #expect(try await store.tenant(named: unique)?.emailSignIn == true)
            #expect(try await store.user(tenant: unique, signInName: "a@x.org")?.id == "unique-a")
            #expect(try await store.tenant(named: shared)?.emailSignIn == false)
            #expect(try await store.user(tenant: shared, signInName: "c@x.org") == nil)
            let report = try await store.auditEntries(AuditQuery(tenant: shared, limit: 10))
            #expect(report.count == 1)
            #expect(report.first?.action == "tenant.email_sign_in.withheld")
            #expect(report.first?.after?.contains("same@x.org") == true)
            #expect(try await store.auditEntries(AuditQuery(tenant: unique, limit: 10)).isEmpty)
            #expect(try await store.setEmailSignIn(true, tenant: shared) == .duplicates(["same@x.org"]))
            if postgres { try await store.db.raw("DROP SCHEMA \(ident: place) CASCADE").run() }
        } catch {
            try await close()
            throw error
        }
        try await close()
    }
}
