import Foundation
import GatehouseCore
import SQLKit

/// Which clients took part in which browser sessions (back-channel logout).
extension SQLStore {
    public func noteParticipant(_ participant: SessionParticipant) async throws {
        try await db.raw(
            """
            INSERT INTO session_participants (tenant, sid, client_id, user_id, issuer, logout_uri, client_source, expires_at)
            VALUES (\(bind: participant.tenant), \(bind: participant.sid), \(bind: participant.clientID), \(bind: participant.userID),
                    \(bind: participant.issuer), \(bind: participant.logoutURI), \(bind: participant.source.rawValue),
                    \(bind: participant.expiresAt))
            ON CONFLICT DO NOTHING
            """
        ).run()
    }

    public func takeParticipants(tenant: String, userID: String, sid: String?) async throws -> [SessionParticipant] {
        let rows: [any SQLRow]
        if let sid {
            rows = try await db.raw(
                """
                DELETE FROM session_participants WHERE tenant = \(bind: tenant) AND user_id = \(bind: userID) AND sid = \(bind: sid)
                RETURNING *
                """
            ).all()
        } else {
            rows = try await db.raw(
                "DELETE FROM session_participants WHERE tenant = \(bind: tenant) AND user_id = \(bind: userID) RETURNING *"
            ).all()
        }
        return try rows.map { row in
            let key = "\(tenant)/\(userID)"
            return SessionParticipant(
                tenant: try row.decode(column: "tenant", as: String.self), sid: try row.decode(column: "sid", as: String.self),
                clientID: try row.decode(column: "client_id", as: String.self), userID: try row.decode(column: "user_id", as: String.self),
                issuer: try row.decode(column: "issuer", as: String.self),
                logoutURI: try row.decode(column: "logout_uri", as: String.self),
                source: try Self.parse(row, "client_source", table: "session_participants", key: key, ClientSource.init(rawValue:)),
                expiresAt: try row.decode(column: "expires_at", as: Date.self))
        }.sorted { ($0.sid, $0.clientID) < ($1.sid, $1.clientID) }
    }

    public func purgeParticipants(now: Date, limit: Int) async throws -> Int {
        try await db.raw(
            """
            DELETE FROM session_participants WHERE (tenant, sid, client_id) IN (
                SELECT tenant, sid, client_id FROM session_participants WHERE expires_at < \(bind: now) LIMIT \(bind: max(0, limit)))
            RETURNING sid
            """
        ).all().count
    }
}
