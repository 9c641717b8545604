import Foundation
import GatehouseCore
import SQLKit

/// The outbox (`OutboxStore`) and changes of several statements (`TransactionStore`).
extension SQLStore {
    public func atomically<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await transaction(body)
    }

    public func enqueue(_ message: OutboxMessage) async throws {
        try await db.raw(
            """
            INSERT INTO outbox (id, kind, tenant, payload, attempts, next_attempt_at, last_error, created_at)
            VALUES (\(bind: message.id), \(bind: message.kind), \(bind: message.tenant), \(bind: message.payload), \(bind: message.attempts),
                    \(bind: message.nextAttemptAt), \(bind: message.lastError), \(bind: message.createdAt))
            """
        ).run()
    }

    public func dueMessages(now: Date, limit: Int, kind: String?) async throws -> [OutboxMessage] {
        if let kind {
            return try await db.raw(
                """
                SELECT * FROM outbox WHERE next_attempt_at <= \(bind: now) AND kind = \(bind: kind)
                ORDER BY next_attempt_at, id LIMIT \(bind: max(0, limit))
                """
            ).all().map(Self.outboxMessage)
        }
        return try await db.raw(
            """
            SELECT * FROM outbox WHERE next_attempt_at <= \(bind: now) AND kind <> \(bind: OutboxKind.none)
            ORDER BY next_attempt_at, id LIMIT \(bind: max(0, limit))
            """
        ).all().map(Self.outboxMessage)
    }

    public func discardDue(kind: String, now: Date) async throws -> Int {
        try await db.raw("DELETE FROM outbox WHERE kind = \(bind: kind) AND next_attempt_at <= \(bind: now) RETURNING id").all().count
    }

    public func completeMessage(id: String) async throws -> Bool {
        !(try await db.raw("DELETE FROM outbox WHERE id = \(bind: id) RETURNING id").all()).isEmpty
    }

    public func deferMessage(id: String, attempts: Int, nextAttemptAt: Date?, lastError: String) async throws {
        try await db.raw(
            """
            UPDATE outbox SET attempts = \(bind: attempts), next_attempt_at = \(bind: nextAttemptAt), last_error = \(bind: lastError),
                payload = CASE WHEN \(bind: nextAttemptAt == nil) THEN '' ELSE payload END
            WHERE id = \(bind: id)
            """
        ).run()
    }

    public func outboxMessages(tenant: String?, limit: Int) async throws -> [OutboxMessage] {
        let rows: [any SQLRow]
        if let tenant {
            rows = try await db.raw(
                "SELECT * FROM outbox WHERE tenant = \(bind: tenant) ORDER BY created_at DESC, id DESC LIMIT \(bind: max(0, limit))"
            ).all()
        } else {
            rows = try await db.raw("SELECT * FROM outbox ORDER BY created_at DESC, id DESC LIMIT \(bind: max(0, limit))").all()
        }
        return try rows.map(Self.outboxMessage)
    }

    public func outboxDepth() async throws -> (pending: Int, abandoned: Int) {
        let row = try await db.raw(
            """
            SELECT COUNT(next_attempt_at) AS pending, COUNT(*) - COUNT(next_attempt_at) AS abandoned FROM outbox
            """
        ).first()
        return (
            try row?.decode(column: "pending", as: Int.self) ?? 0,
            try row?.decode(column: "abandoned", as: Int.self) ?? 0
        )
    }

    public func purgeOutbox(createdBefore cutoff: Date, limit: Int) async throws -> Int {
        try await db.raw(
            """
            DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE created_at < \(bind: cutoff) LIMIT \(bind: max(0, limit)))
            RETURNING id
            """
        ).all().count
    }

    static func outboxMessage(_ row: any SQLRow) throws -> OutboxMessage {
        OutboxMessage(
            id: try row.decode(column: "id", as: String.self),
            kind: try row.decode(column: "kind", as: String.self),
            tenant: try row.decode(column: "tenant", as: String.self),
            payload: try row.decode(column: "payload", as: String.self),
            attempts: try row.decode(column: "attempts", as: Int.self),
            nextAttemptAt: try row.decode(column: "next_attempt_at", as: Date?.self),
            lastError: try row.decode(column: "last_error", as: String?.self),
            createdAt: try row.decode(column: "created_at", as: Date.self))
    }
}
