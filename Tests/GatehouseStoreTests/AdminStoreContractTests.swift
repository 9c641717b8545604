import Foundation
import GatehouseCore
import GatehouseStore
import Testing

/// What every backend does with the audit log (newest first, filtered, paged by ID) and with
/// users' role assignments (one of each, removed with their API).
@Suite struct AdminStoreContractTests {
    static func entry(_ id: String, tenant: TenantName, action: String = "client.update", target: String = "app") -> AuditEntry {
        AuditEntry(
            id: id, at: epoch, tenant: tenant, actor: "operator:ci", action: action, target: target, before: #"{"name":"a"}"#,
            after: #"{"name":"b"}"#, traceID: "trace-" + id, source: "127.0.0.1")
    }

    @Test(arguments: Backend.allCases)
    func auditEntriesReadNewestFirstFilteredAndPaged(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            let tenant = try sampleTenant()
            try await store.createTenant(tenant)
            let other = try TenantName("fabrikam")
            for (index, id) in ["01", "02", "03", "04"].enumerated() {
                try await store.appendAudit(Self.entry(id, tenant: tenant.name, action: index % 2 == 0 ? "client.update" : "user.create"))
            }
            try await store.appendAudit(Self.entry("05", tenant: other))
            let all = try await store.auditEntries(AuditQuery(tenant: tenant.name))
            #expect(all.map(\.id) == ["04", "03", "02", "01"])
            #expect(all.first == Self.entry("04", tenant: tenant.name, action: "user.create"), "every column comes back")
            #expect(try await store.auditEntries(AuditQuery()).map(\.id) == ["05", "04", "03", "02", "01"])
            #expect(try await store.auditEntries(AuditQuery(tenant: tenant.name, action: "user.create")).map(\.id) == ["04", "02"])
            #expect(try await store.auditEntries(AuditQuery(tenant: tenant.name, before: "03", limit: 1)).map(\.id) == ["02"])
            #expect(try await store.auditEntries(AuditQuery(tenant: other, target: "nothing")).isEmpty)
        }
    }

    @Test(arguments: Backend.allCases)
    func roleAssignmentsAreHeldOnceAndLeaveWithTheirAPI(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            let tenant = try sampleTenant()
            try await store.createTenant(tenant)
            let orders = try ResourceStoreContractTests.orders(tenant.name)
            try await store.createAPI(orders)
            let admin = RoleAssignment(tenant: tenant.name, userID: "u1", api: orders.applicationID, role: "Orders.Admin")
            let reader = RoleAssignment(tenant: tenant.name, userID: "u1", api: orders.applicationID, role: "Orders.Read")
            #expect(try await store.assignRole(admin))
            #expect(try await store.assignRole(admin) == false, "a role is held once")
            #expect(try await store.assignRole(reader))
            #expect(Set(try await store.roleAssignments(tenant: tenant.name, userID: "u1")) == [admin, reader])
            #expect(try await store.roleAssignments(tenant: tenant.name, userID: "u2").isEmpty)
            #expect(try await store.roleAssignments(tenant: try TenantName("fabrikam"), userID: "u1").isEmpty)
            #expect(try await store.unassignRole(reader))
            #expect(try await store.unassignRole(reader) == false)
            #expect(try await store.roleAssignments(tenant: tenant.name, userID: "u1") == [admin])
            #expect(try await store.removeAPI(tenant: tenant.name, applicationID: orders.applicationID))
            #expect(try await store.roleAssignments(tenant: tenant.name, userID: "u1").isEmpty, "an API's roles go with it")
        }
    }

    @Test(arguments: Backend.allCases)
    func grantsAreRevokedPerClientAndSignInsFoundByUser(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            let tenant = try sampleTenant()
            try await store.createTenant(tenant)
            let contract = SignInStoreContractTests()
            try await store.createGrant(try contract.grant("g1", code: "h1"))
            let other = try contract.grant("g2", code: "h2")
            try await store.createGrant(
                AuthorizationGrant(
                    id: "g2", tenant: other.tenant, clientID: try ClientID("app"), userID: other.userID, scope: other.scope,
                    audience: other.audience, nonce: nil, authTime: epoch, sessionID: nil, amr: [], codeHash: "h2", codeChallenge: nil,
                    redirectURI: nil, codeExpiresAt: epoch, createdAt: epoch, offline: true))
            #expect(try await store.revokeGrants(tenant: tenant.name, userID: "u1", clientID: try ClientID("web"), now: epoch) == 1)
            #expect(try await store.grant(id: "g1")?.revokedAt == epoch)
            #expect(try await store.grant(id: "g2")?.revokedAt == nil, "another client's grant stays")
            let event = { (trace: String, user: String?) in
                SignInEvent(
                    time: epoch, tenant: "contoso", clientID: "web", grantType: "authorization_code", scopes: "openid", result: .success,
                    errorCode: nil, error: nil, detail: nil, traceID: trace, correlationID: "c-" + trace, clientIP: nil, userAgent: nil,
                    latencyMicros: 10, userID: user)
            }
            try await store.append([event("t1", "u1"), event("t2", nil), event("t3", "u2")])
            let found = try await store.signIns(SignInQuery(tenant: "contoso", userID: "u1"))
            #expect(found.map(\.traceID) == ["t1"] && found.first?.userID == "u1")
            #expect(try await store.signIns(SignInQuery(traceID: "t2")).first?.userID == nil)
        }
    }
}
