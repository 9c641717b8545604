import Foundation

extension InMemoryStore {
    public func appendAudit(_ entry: AuditEntry) async throws {
        state.withLock { $0.audit.append(entry) }
    }

    public func auditEntries(_ query: AuditQuery) async throws -> [AuditEntry] {
        state.withLock { state in
            Array(
                state.audit.filter { entry in
                    (query.tenant.map { entry.tenant == $0 } ?? true) && (query.action.map { entry.action == $0 } ?? true)
                        && (query.target.map { entry.target == $0 } ?? true) && (query.before.map { entry.id < $0 } ?? true)
                }
                .sorted { $0.id > $1.id }.prefix(max(1, query.limit)))
        }
    }

    public func assignRole(_ assignment: RoleAssignment) async throws -> Bool {
        state.withLock { state in
            guard !state.roleAssignments.contains(assignment) else { return false }
            state.roleAssignments.append(assignment)
            return true
        }
    }

    public func unassignRole(_ assignment: RoleAssignment) async throws -> Bool {
        state.withLock { state in
            guard let index = state.roleAssignments.firstIndex(of: assignment) else { return false }
            state.roleAssignments.remove(at: index)
            return true
        }
    }

    public func roleAssignments(tenant: TenantName, userID: String) async throws -> [RoleAssignment] {
        state.withLock { state in state.roleAssignments.filter { $0.tenant == tenant && $0.userID == userID } }
    }
}
