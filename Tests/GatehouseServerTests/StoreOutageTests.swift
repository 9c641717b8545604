import Foundation
import GatehouseCore
import GatehouseServer
import GatehouseStore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SQLKit
import Testing

/// A database that goes away is a 503 with `Retry-After` (9900190), never a 500: a database
/// locked by another writer past the busy timeout (SQLite), a read-only standby answering after a
/// switchover and a connection terminated under the server (PostgreSQL), on a refresh.
@Suite struct StoreOutageTests {
    static func expectUnavailable(_ response: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(response.status.code == 503, "\(json(response))", sourceLocation: sourceLocation)
        #expect(response.headers[.retryAfter] == "5", sourceLocation: sourceLocation)
        #expect((json(response)["error_codes"] as? [Int])?.first == 9_900_190, sourceLocation: sourceLocation)
        #expect(json(response)["error"] as? String == "temporarily_unavailable", sourceLocation: sourceLocation)
    }

    @Test func aRefreshWhileAnotherWriterHoldsTheSQLiteDatabaseIs503() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-outage-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("db.sqlite").path
        let database = try await SQLiteDatabase.open(path: path)
        let other = try await SQLiteDatabase.open(path: path)
        let harness = try await Harness.make(store: database.store)
        try await harness.withClient { client in
            let refresh = try #require(try await harness.tokens(client)["refresh_token"] as? String)
            // Another process takes the write lock and keeps it past the 5 s busy timeout.
            try await other.connection.sql().raw("BEGIN IMMEDIATE").run()
            Self.expectUnavailable(try await harness.refresh(client, refresh))
            try await other.connection.sql().raw("ROLLBACK").run()
            // Nothing moved: the same token rotates once the database is back.
            #expect(try await harness.refresh(client, refresh).status == .ok)
        }
        try await other.close()
        try await database.close()
    }

    static var postgresURL: String? { ProcessInfo.processInfo.environment["GATEHOUSE_TEST_POSTGRES_URL"] }

    /// A harness on its own schema with a pool of one connection (so a session setting holds for
    /// every statement), and a second database handle for the test's own statements.
    static func postgres() async throws -> (Harness, PostgresDatabase, PostgresDatabase, @Sendable () async -> Void) {
        let schema = "test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let database = try await PostgresDatabase.open(url: postgresURL ?? "", poolSize: 1, searchPath: schema)
        let other = try await PostgresDatabase.open(url: postgresURL ?? "", poolSize: 2, searchPath: schema)
        let harness = try await Harness.make(store: database.store)
        return (
            harness, database, other,
            {
                try? await other.store.db.raw("DROP SCHEMA \(ident: schema) CASCADE").run()
                await other.close()
                await database.close()
            }
        )
    }

    @Test(.enabled(if: postgresURL != nil)) func aReadOnlyStandbyAnsweringARefreshIs503() async throws {
        let (harness, database, _, close) = try await Self.postgres()
        defer { Task { await close() } }
        try await harness.withClient { client in
            let refresh = try #require(try await harness.tokens(client)["refresh_token"] as? String)
            // What a standby (or a demoted primary) answers to a write: SQLSTATE 25006.
            try await database.store.db.raw("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY").run()
            Self.expectUnavailable(try await harness.refresh(client, refresh))
            try await database.store.db.raw("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE").run()
            #expect(try await harness.refresh(client, refresh).status == .ok)
        }
    }

    /// The refresh's connection is terminated while its statement waits (what a failover does to
    /// every open connection): PostgreSQL answers 57P01 on it; before, that was a 500.
    @Test(.enabled(if: postgresURL != nil)) func aConnectionTerminatedUnderARefreshIs503() async throws {
        let (harness, database, other, close) = try await Self.postgres()
        defer { Task { await close() } }
        try await harness.withClient { client in
            let refresh = try #require(try await harness.tokens(client)["refresh_token"] as? String)
            let pid = try #require(
                try await database.store.db.raw("SELECT pg_backend_pid() AS pid").first()?.decode(column: "pid", as: Int.self))
            let (locked, lockedSignal) = AsyncStream<Void>.makeStream()
            let (release, releaseSignal) = AsyncStream<Void>.makeStream()
            // Another session holds the grants table, so the refresh's statement waits on its connection.
            let holder = Task {
                try await other.store.transaction {
                    try await other.store.db.raw("LOCK TABLE grants IN ACCESS EXCLUSIVE MODE").run()
                    lockedSignal.yield()
                    for await _ in release { break }
                }
            }
            for await _ in locked { break }
            let refreshing = Task { try await harness.refresh(client, refresh) }
            try await Task.sleep(for: .milliseconds(300))
            _ = try await other.store.db.raw("SELECT pg_terminate_backend(CAST(\(bind: pid) AS integer))").all()
            let response = try await refreshing.value
            releaseSignal.yield()
            try await holder.value
            Self.expectUnavailable(response)
            // Nothing moved: the pool opens another connection and the same token rotates.
            #expect(try await harness.refresh(client, refresh).status == .ok)
        }
    }
}
