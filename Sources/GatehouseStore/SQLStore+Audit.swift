import Foundation
import GatehouseCore
import SQLKit

/// The audit log and users' role assignments.
extension SQLStore {
    public func appendAudit(_ entry: AuditEntry) async throws {
        try await db.raw(
            """
            INSERT INTO audit_log (id, at, tenant, actor, action, target, before_value, after_value, trace_id, source)
            VALUES (\(bind: entry.id), \(bind: entry.at), \(bind: entry.tenant.value), \(bind: entry.actor), \(bind: entry.action),
                    \(bind: entry.target), \(bind: entry.before), \(bind: entry.after), \(bind: entry.traceID), \(bind: entry.source))
            """
        ).run()
    }

    public func auditEntries(_ query: AuditQuery) async throws -> [AuditEntry] {
        var sql = SQLQueryString("SELECT * FROM audit_log WHERE 1 = 1")
        if let tenant = query.tenant {
            sql.appendInterpolation(unsafeRaw: " AND tenant = ")
            sql.appendInterpolation(bind: tenant.value)
        }
        if let action = query.action {
            sql.appendInterpolation(unsafeRaw: " AND action = ")
            sql.appendInterpolation(bind: action)
        }
        if let target = query.target {
            sql.appendInterpolation(unsafeRaw: " AND target = ")
            sql.appendInterpolation(bind: target)
        }
        if let before = query.before {
            sql.appendInterpolation(unsafeRaw: " AND id < ")
            sql.appendInterpolation(bind: before)
        }
        sql.appendInterpolation(unsafeRaw: " ORDER BY id DESC LIMIT ")
        sql.appendInterpolation(bind: max(1, query.limit))
        return try await db.raw(sql).all().map { row in
            AuditEntry(
                id: try row.decode(column: "id", as: String.self), at: try row.decode(column: "at", as: Date.self),
                tenant: try TenantName(try row.decode(column: "tenant", as: String.self)),
                actor: try row.decode(column: "actor", as: String.self), action: try row.decode(column: "action", as: String.self),
                target: try row.decode(column: "target", as: String.self),
                before: try row.decode(column: "before_value", as: String?.self),
                after: try row.decode(column: "after_value", as: String?.self),
                traceID: try row.decode(column: "trace_id", as: String?.self), source: try row.decode(column: "source", as: String?.self))
        }
    }

    public func assignRole(_ assignment: RoleAssignment) async throws -> Bool {
        let rows = try await db.raw(
            """
            INSERT INTO role_assignments (tenant, user_id, application_id, role, assigned_at)
            VALUES (\(bind: assignment.tenant.value), \(bind: assignment.userID), \(bind: assignment.api.value), \(bind: assignment.role),
                    \(bind: Date()))
            ON CONFLICT DO NOTHING RETURNING role
            """
        ).all()
        return !rows.isEmpty
    }

    public func unassignRole(_ assignment: RoleAssignment) async throws -> Bool {
        let rows = try await db.raw(
            """
            DELETE FROM role_assignments WHERE tenant = \(bind: assignment.tenant.value) AND user_id = \(bind: assignment.userID)
            AND application_id = \(bind: assignment.api.value) AND role = \(bind: assignment.role) RETURNING role
            """
        ).all()
        return !rows.isEmpty
    }

    public func roleAssignments(tenant: TenantName, userID: String) async throws -> [RoleAssignment] {
        try await db.raw(
            """
            SELECT application_id, role FROM role_assignments WHERE tenant = \(bind: tenant.value) AND user_id = \(bind: userID)
            ORDER BY assigned_at, application_id, role
            """
        ).all().map { row in
            RoleAssignment(
                tenant: tenant, userID: userID, api: try ClientID(try row.decode(column: "application_id", as: String.self)),
                role: try row.decode(column: "role", as: String.self))
        }
    }
}
