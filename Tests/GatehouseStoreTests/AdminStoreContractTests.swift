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
}
