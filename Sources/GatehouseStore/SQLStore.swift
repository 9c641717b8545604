import Foundation
import GatehouseCore
import SQLKit

/// The Core store protocols over any SQLKit database: one SQL text for SQLite and PostgreSQL.
/// A change of several statements runs in one transaction (`transaction`).
public struct SQLStore: GatehouseStore, SchemaVersionStore {
    /// How transactions are kept apart from other requests' statements.
    enum Isolation: Sendable {
        /// One connection shared by every request (SQLite): a gate holds other statements back
        /// while a transaction runs on it.
        case sharedConnection(inner: any SQLDatabase, gate: StatementGate, metrics: DatabaseMetrics)
        /// A pool (PostgreSQL): a transaction takes a connection of its own.
        case pool
    }

    private let base: any SQLDatabase
    let isolation: Isolation
    /// Seals signing keys, settings and TOTP seeds at rest (`SQLStore+KEK.swift`); nil only in
    /// tests that look at plaintext rows, and for databases made before encryption at rest.
    public private(set) var kek: KeyEncryptionKey?

    /// The transaction's connection inside `transaction`, else the store's database.
    @TaskLocal static var session: (any SQLDatabase)?
    public var db: any SQLDatabase { Self.session ?? base }

    /// A store on one connection that every request shares (SQLite).
    public init(
        sharedConnection connection: any SQLDatabase, metrics: DatabaseMetrics = DatabaseMetrics(backend: "sqlite"),
        kek: KeyEncryptionKey? = nil
    ) {
        self.kek = kek
        let gate = StatementGate()
        self.base = GatedSQLDatabase(inner: connection, gate: gate, metrics: metrics)
        self.isolation = .sharedConnection(inner: connection, gate: gate, metrics: metrics)
    }

    /// A store on a pool of connections (PostgreSQL).
    public init(pool: any SQLDatabase, kek: KeyEncryptionKey? = nil) {
        self.kek = kek
        self.base = pool
        self.isolation = .pool
    }

    /// Which database this is, for the few places where they differ (`SQLFlavor`).
    public var flavor: SQLFlavor {
        switch isolation {
        case .sharedConnection: .sqlite
        case .pool: .postgres
        }
    }

    public func schemaVersion() async throws -> (applied: Int, expected: Int) {
        (try await Migrations.currentVersion(on: db), Migrations.all.map(\.version).max() ?? 0)
    }

    public func changeCounter() async throws -> Int {
        try await db.raw("SELECT value FROM change_counter WHERE id = 1").first()?.decode(column: "value", as: Int.self) ?? 0
    }

    /// Runs a change of cached data and moves the change counter on (`ChangeCounterStore`).
    func countingChange<T>(_ body: () async throws -> T) async throws -> T {
        let result = try await body()
        try await db.raw("UPDATE change_counter SET value = value + 1 WHERE id = 1").run()
        return result
    }

    /// Runs `body` in one transaction: all its statements take effect, or none. Nested calls
    /// join the outer transaction. On SQLite it begins `IMMEDIATE` (it takes the write lock at
    /// once, so it cannot fail half-way on a lock upgrade).
    public func transaction<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        if Self.session != nil { return try await body() }
        switch isolation {
        case .sharedConnection(let inner, let gate, let metrics):
            let asked = ContinuousClock.now
            await gate.enterTransaction()
            defer { gate.leaveTransaction() }
            do {
                return try await metrics.leased(since: asked) { try await Self.run(on: inner, begin: "BEGIN IMMEDIATE", body) }
            } catch {
                throw StoreFailure.classified(error)
            }
        case .pool:
            return try await base.withSession { connection in try await Self.run(on: connection, begin: "BEGIN", body) }
        }
    }

    private static func run<T: Sendable>(on connection: any SQLDatabase, begin: String, _ body: @Sendable () async throws -> T)
        async throws -> T
    {
        try await connection.raw(SQLQueryString(begin)).run()
        do {
            let result = try await $session.withValue(connection) { try await body() }
            try await connection.raw("COMMIT").run()
            return result
        } catch {
            try? await connection.raw("ROLLBACK").run()
            throw error
        }
    }
}
