import Foundation
import GatehouseCore
import GatehouseStore
import SQLKit
import Testing

/// Migration 13 moves the sessions and consents that the state store kept (a JSON session under
/// its cookie hash; a scope under "tenant user client") into their tables, dropping expired ones,
/// on SQLite and on PostgreSQL.
@Suite struct SessionMigrationTests {
    static func open(_ postgres: Bool, _ place: String, through version: Int = .max) async throws -> (
        SQLStore, @Sendable () async throws -> Void
    ) {
        if postgres {
            let database = try await PostgresDatabase.open(
                url: Backend.postgresURL ?? "", poolSize: 2, searchPath: place, migrateThrough: version)
            return (database.store, { await database.close() })
        }
        let database = try await SQLiteDatabase.open(path: place, migrateThrough: version)
        return (database.store, { try await database.close() })
    }

    static var backends: [Bool] { Backend.postgresURL == nil ? [false] : [false, true] }

    @Test(arguments: backends)
    func stateValuesBecomeSessionAndConsentRows(postgres: Bool) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-sessionmigration-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let place =
            postgres
            ? "test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            : folder.appendingPathComponent("db.sqlite").path
        let now = Date()
        let live = BrowserSession(
            tenant: "contoso", userID: "u1", sid: "sid-1", authTime: now.addingTimeInterval(-60), amr: ["pwd"],
            expiresAt: now.addingTimeInterval(3600))
        let expired = BrowserSession(
            tenant: "contoso", userID: "u1", sid: "sid-0", authTime: now.addingTimeInterval(-7200), amr: ["pwd"],
            expiresAt: now.addingTimeInterval(-60))
        do {
            let (store, close) = try await Self.open(postgres, place, through: 12)
            for (key, session) in [("hash-live", live), ("hash-old", expired)] {
                try await store.putState(
                    kind: "session", key: key, value: String(decoding: try JSONEncoder().encode(session), as: UTF8.self),
                    expiresAt: session.expiresAt)
            }
            try await store.putState(
                kind: "consent", key: "contoso u1 web", value: "openid profile", expiresAt: now.addingTimeInterval(86_400))
            try await store.putState(kind: "consent", key: "contoso u1 gone", value: "openid", expiresAt: now.addingTimeInterval(-1))
            try await store.putState(kind: "interaction", key: "i1", value: "{}", expiresAt: now.addingTimeInterval(600))
            try await close()
        }
        let (store, close) = try await Self.open(postgres, place)
        do {
            #expect(try await store.session(cookieHash: "hash-live", now: now)?.sid == "sid-1")
            #expect(try await store.sessions(tenant: "contoso", userID: "u1", now: now.addingTimeInterval(-3600)).map(\.sid) == ["sid-1"])
            let consent = try #require(try await store.consent(tenant: "contoso", userID: "u1", clientID: "web", now: now))
            #expect(consent.scope.tokens == ["openid", "profile"])
            #expect(
                try await store.consents(tenant: "contoso", userID: "u1", now: now.addingTimeInterval(-3600)).map(\.clientID) == ["web"])
            #expect(try await store.state(kind: "session", key: "hash-live", now: now) == nil, "the state rows are gone")
            #expect(try await store.state(kind: "interaction", key: "i1", now: now) == "{}", "other state stays")
            if postgres { try await store.db.raw("DROP SCHEMA \(ident: place) CASCADE").run() }
        } catch {
            try await close()
            throw error
        }
        try await close()
    }
}
