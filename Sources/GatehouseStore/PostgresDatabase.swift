import Foundation
import GatehouseCore
import Logging
import NIOCore
import NIOPosix
import PostgresKit
import PostgresNIO
import SQLKit

/// PostgreSQL through PostgresNIO's connection pool (`PostgresClient`, a Service that must run
/// while the store is used) and sql-kit's PostgreSQL dialect: the same SQL text as SQLite.
/// Migrations run in one transaction under an advisory lock, so nodes started at once migrate once.
public final class PostgresDatabase: Sendable {
    public let client: PostgresClient
    public let store: SQLStore
    private let runner: Task<Void, Never>?

    /// The advisory lock key the migrations take ("gatehouse" as digits, any constant would do).
    static let migrationLock = 4_728_307_287

    private init(client: PostgresClient, runner: Task<Void, Never>?) {
        self.client = client
        self.runner = runner
        self.store = SQLStore(pool: PostgresClientSQLDatabase(client: client, logger: Logger(label: "gatehouse.postgres")))
    }

    /// A `postgres://user:password@host:port/database` URL (`?sslmode=require` or
    /// `tlsmode=require|prefer|disable`) as a pool configuration; an error names what is wrong.
    public static func configuration(url: String, poolSize: Int, searchPath: String? = nil) throws -> PostgresClient.Configuration {
        guard let parsed = try? SQLPostgresConfiguration(url: url) else {
            throw PostgresURLError(description: "cannot read the PostgreSQL URL (expected postgres://user[:password]@host[:port]/database)")
        }
        let core = parsed.coreConfiguration
        let tls: PostgresClient.Configuration.TLS
        switch (core.tls.isEnforced, core.tls.isAllowed, core.tls.sslContext?.configuration) {
        case (true, _, let configuration?): tls = .require(configuration)
        case (false, true, let configuration?): tls = .prefer(configuration)
        default: tls = .disable
        }
        guard let host = core.host else {
            throw PostgresURLError(description: "the PostgreSQL URL names no host")
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: core.port ?? 5432, username: core.username, password: core.password, database: core.database, tls: tls)
        configuration.options.maximumConnections = max(1, poolSize)
        configuration.options.connectTimeout = .seconds(5)
        if let searchPath { configuration.options.additionalStartupParameters = [("search_path", searchPath)] }
        return configuration
    }

    /// Connects, checks the database answers, and migrates it. With `runPool`, the pool runs in a
    /// task of its own until `close()` (the CLI and tests); `serve` runs `client` in its service
    /// group instead.
    public static func open(
        url: String, poolSize: Int = 10, searchPath: String? = nil, runPool: Bool = true,
        logger: Logger = Logger(label: "gatehouse.postgres")
    ) async throws -> PostgresDatabase {
        let configuration = try configuration(url: url, poolSize: poolSize, searchPath: searchPath)
        let client = PostgresClient(configuration: configuration)
        let runner = Task { await client.run() }
        let database = PostgresDatabase(client: client, runner: runner)
        let place = "\(configuration.host ?? "?"):\(configuration.port ?? 5432)"
        do {
            try await withDeadline(.seconds(10), failing: PostgresURLError(description: "cannot reach PostgreSQL at \(place) within 10 s"))
            {
                try await database.store.db.withSession { session in
                    if let searchPath {
                        // A schema of its own (the tests give each store one).
                        try await session.raw("CREATE SCHEMA IF NOT EXISTS \(ident: searchPath)").run()
                    }
                    try await Migrations.run(on: session, begin: "BEGIN", lock: "SELECT pg_advisory_xact_lock(\(migrationLock))")
                }
            }
        } catch let error as PSQLError {
            runner.cancel()
            throw PostgresURLError(
                description: "PostgreSQL at \(place) refused: \(error.serverInfo?[.message] ?? String(describing: error.code))")
        } catch {
            runner.cancel()
            throw error
        }
        return database
    }

    public func close() async {
        runner?.cancel()
    }
}

/// Runs `operation`, or throws `failure` when it has not finished after `limit` (and cancels it).
func withDeadline<T: Sendable>(_ limit: Duration, failing failure: any Error, _ operation: @escaping @Sendable () async throws -> T)
    async throws -> T
{
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw failure }
        return value
    }
}

public struct PostgresURLError: Error, CustomStringConvertible {
    public let description: String
}

/// sql-kit over the pool: every statement leases a connection; `withSession` keeps one for a
/// transaction (`SQLStore.transaction`).
struct PostgresClientSQLDatabase: SQLDatabase {
    let client: PostgresClient
    let logger: Logger

    var eventLoop: any EventLoop { MultiThreadedEventLoopGroup.singleton.any() }
    var version: (any SQLDatabaseReportedVersion)? { nil }
    var dialect: any SQLDialect { PostgresDialect() }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) -> EventLoopFuture<Void> {
        eventLoop.makeFutureWithTask { try await self.execute(sql: query, onRow) }
    }

    /// How long a statement may wait for a connection and its answer before the request is
    /// answered 503 (`StoreUnavailable`).
    static let deadline: Duration = .seconds(5)

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        try await Self.bounded {
            try await client.withConnection { connection in
                try await connection.sql(queryLogLevel: nil).execute(sql: query, onRow)
            }
        }
    }

    func withSession<R>(_ closure: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await client.withConnection { connection in try await closure(connection.sql(queryLogLevel: nil)) }
    }

    /// A statement that cannot get a connection or an answer within `deadline`, or whose
    /// connection fails (a `PSQLError` without a server's answer), is `StoreUnavailable`.
    static func bounded(_ operation: @escaping @Sendable () async throws -> Void) async throws {
        do {
            try await withDeadline(deadline, failing: StoreUnavailable("no answer from PostgreSQL within 5 s"), operation)
        } catch let error as PSQLError where error.serverInfo == nil {
            throw StoreUnavailable("PostgreSQL connection failed: \(error.code)")
        }
    }
}
