import CoreMetrics
import Foundation
import GatehouseCore
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresKit
import PostgresNIO
import SQLKit
import Synchronization

/// PostgreSQL through PostgresNIO's connection pool (`PostgresClient`, a Service that must run
/// while the store is used) and sql-kit's PostgreSQL dialect: the same SQL text as SQLite.
/// Migrations run in one transaction under an advisory lock, so nodes started at once migrate once.
public final class PostgresDatabase: Sendable {
    public let client: PostgresClient
    public let store: SQLStore
    private let runner: Task<Void, Never>

    private init(client: PostgresClient, runner: Task<Void, Never>, metrics: DatabaseMetrics, kek: KeyEncryptionKey?) {
        self.client = client
        self.runner = runner
        self.store = SQLStore(
            pool: PostgresClientSQLDatabase(client: client, logger: Logger(label: "gatehouse.postgres"), metrics: metrics), kek: kek)
    }

    /// A `postgres://user:password@host:port/database` URL (`?sslmode=require|prefer|disable`,
    /// `sslrootcert=/path/ca.pem`) as a pool configuration; an error names what is wrong.
    public static func configuration(url: String, poolSize: Int, searchPath: String? = nil) throws -> (
        pool: PostgresClient.Configuration, probe: PostgresConnection.Configuration
    ) {
        guard let parsed = try? SQLPostgresConfiguration(url: url) else {
            throw PostgresURLError(description: "cannot read the PostgreSQL URL (expected postgres://user[:password]@host[:port]/database)")
        }
        let core = parsed.coreConfiguration
        // libpq's `sslrootcert`: the CA file the server's certificate must chain to (else the
        // system's roots). The certificate is always verified, host name included.
        let rootCertificate = URLComponents(string: url)?.queryItems?.last(where: { $0.name == "sslrootcert" })?.value
        if let rootCertificate, !FileManager.default.isReadableFile(atPath: rootCertificate) {
            throw PostgresURLError(description: "cannot read the CA file that sslrootcert names: \(rootCertificate)")
        }
        let tls: PostgresClient.Configuration.TLS
        var probe = core
        switch (core.tls.isEnforced, core.tls.isAllowed, core.tls.sslContext?.configuration) {
        case (true, _, var configuration?):
            if let rootCertificate { configuration.trustRoots = .file(rootCertificate) }
            tls = .require(configuration)
            probe.tls = .require(try NIOSSLContext(configuration: configuration))
        case (false, true, var configuration?):
            if let rootCertificate { configuration.trustRoots = .file(rootCertificate) }
            tls = .prefer(configuration)
            probe.tls = .prefer(try NIOSSLContext(configuration: configuration))
        default: tls = .disable
        }
        guard let host = core.host else {
            throw PostgresURLError(description: "the PostgreSQL URL names no host")
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: core.port ?? 5432, username: core.username, password: core.password, database: core.database, tls: tls)
        configuration.options.maximumConnections = max(1, poolSize)
        configuration.options.connectTimeout = .seconds(5)
        probe.options.connectTimeout = .seconds(5)
        if let searchPath { configuration.options.additionalStartupParameters = [("search_path", searchPath)] }
        return (configuration, probe)
    }

    /// One connection of its own before the pool: the pool retries a failing connection quietly,
    /// while this one fails at once with the reason (refused, TLS, password, no such database).
    static func probe(_ configuration: PostgresConnection.Configuration, place: String, logger: Logger) async throws {
        do {
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
            // Closed in the background: awaiting the close was seen to hang for seconds when many
            // stores open at once (the test suite), and nothing here depends on it having finished.
            Task { try? await connection.close() }
        } catch let error as PSQLError {
            throw refusal(error, place: place)
        }
    }

    /// What the server (or the connection) said, on one line.
    static func refusal(_ error: PSQLError, place: String) -> PostgresURLError {
        let reason = error.serverInfo?[.message] ?? String(describing: error.code) + (error.underlying.map { ": \($0)" } ?? "")
        return PostgresURLError(description: "PostgreSQL at \(place) refused: \(reason)".replacingOccurrences(of: "\n", with: " "))
    }

    /// The database holds no Gatehouse tables, and the caller may not make them (`creating`).
    public struct NotInitialised: Error {}

    /// Connects, checks the database answers, and migrates it (through `migrateThrough`, for tests
    /// that upgrade an old database). The pool runs in a task of its own from here until `close()`:
    /// the migrations need it before any service group starts, and `serve` closes it only after its
    /// services (the sign-in log's last flush among them) have stopped.
    public static func open(
        url: String, poolSize: Int = 10, searchPath: String? = nil, migrateThrough: Int = .max,
        logger: Logger = Logger(label: "gatehouse.postgres"), metrics: any MetricsFactory = NOOPMetricsHandler.instance,
        kek: KeyEncryptionKey? = nil, creating: Bool = true
    ) async throws -> PostgresDatabase {
        let (configuration, probe) = try configuration(url: url, poolSize: poolSize, searchPath: searchPath)
        let place = "\(configuration.host ?? "?"):\(configuration.port ?? 5432)"
        try await withDeadline(.seconds(10), failing: PostgresURLError(description: "cannot reach PostgreSQL at \(place) within 10 s")) {
            try await Self.probe(probe, place: place, logger: logger)
        }
        let client = PostgresClient(configuration: configuration)
        let runner = Task { await client.run() }
        let database = PostgresDatabase(
            client: client, runner: runner, metrics: DatabaseMetrics(factory: metrics, backend: "postgresql"), kek: kek)
        do {
            // Reached (the probe above); migrations may wait for another node's, so they get longer.
            try await withDeadline(
                .seconds(60),
                failing: PostgresURLError(description: "PostgreSQL at \(place) did not finish preparing the database within 60 s")
            ) {
                try await database.store.db.withSession { session in
                    if let searchPath {
                        // A schema of its own (the tests give each store one).
                        try await session.raw("CREATE SCHEMA IF NOT EXISTS \(ident: searchPath)").run()
                    }
                    if !creating {
                        // Only `serve` and `init` make Gatehouse's tables in an empty database.
                        let found = try await session.raw("SELECT to_regclass('schema_migrations') IS NOT NULL AS found").first()
                        guard try found?.decode(column: "found", as: Bool.self) == true else { throw NotInitialised() }
                    }
                    try await Migrations.run(on: session, flavor: .postgres, through: migrateThrough)
                }
                if migrateThrough == .max {
                    for refused in try await database.store.prepareKeyEncryption().refused {
                        logger.error("\(KEKError.unsealed(refused))")
                    }
                }
            }
        } catch let error as PSQLError {
            runner.cancel()
            throw refusal(error, place: place)
        } catch {
            runner.cancel()
            throw error
        }
        return database
    }

    public func close() async {
        runner.cancel()
    }
}

/// Runs `operation`, or throws `failure` when it has not finished after `limit`, and then cancels
/// it without waiting for it: a statement stuck on a connection that never answers (a database
/// gone without closing its sockets) must not hold the request, or a shutdown, any longer. A
/// cancellation of the caller is passed on to `operation`.
func withDeadline<T: Sendable>(_ limit: Duration, failing failure: any Error, _ operation: @escaping @Sendable () async throws -> T)
    async throws -> T
{
    let race = DeadlineRace<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            race.waiting.withLock { $0 = continuation }
            let operationTask = Task {
                let result: Result<T, any Error>
                do { result = .success(try await operation()) } catch { result = .failure(error) }
                guard let continuation = race.waiting.withLock({ $0.take() }) else { return }
                race.work.withLock { $0.timer }?.cancel()
                continuation.resume(with: result)
            }
            let timer = Task {
                try? await Task.sleep(for: limit)
                guard !Task.isCancelled, let continuation = race.waiting.withLock({ $0.take() }) else { return }
                continuation.resume(throwing: failure)
                operationTask.cancel()
            }
            race.work.withLock { $0 = (operationTask, timer) }
        }
    } onCancel: {
        race.work.withLock { $0.operation }?.cancel()
    }
}

/// Who answers a `withDeadline` caller first: the operation or the timer (each takes the
/// continuation once), and the two tasks, to cancel the loser.
final class DeadlineRace<T: Sendable>: Sendable {
    let waiting = Mutex<CheckedContinuation<T, any Error>?>(nil)
    let work = Mutex<(operation: Task<Void, Never>?, timer: Task<Void, Never>?)>((nil, nil))
}

public struct PostgresURLError: Error, CustomStringConvertible {
    public let description: String
}

/// sql-kit over the pool: every statement leases a connection; `withSession` keeps one for a
/// transaction (`SQLStore.transaction`).
struct PostgresClientSQLDatabase: SQLDatabase {
    let client: PostgresClient
    let logger: Logger
    let metrics: DatabaseMetrics

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
        let asked = ContinuousClock.now
        try await Self.bounded {
            try await client.withConnection { connection in
                try await metrics.leased(since: asked) { try await connection.sql(queryLogLevel: nil).execute(sql: query, onRow) }
            }
        }
    }

    /// How long a transaction (a session of several statements) may take before it is abandoned
    /// as `StoreUnavailable`; PostgreSQL rolls back what the abandoned connection had begun.
    static let sessionDeadline: Duration = .seconds(15)

    func withSession<R>(_ closure: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        let (client, metrics, asked) = (client, metrics, ContinuousClock.now)
        return try await Self.boundedValue(Self.sessionDeadline, "no answer from PostgreSQL within 15 s") {
            Handed(
                value: try await client.withConnection { connection in
                    try await metrics.leased(since: asked) { try await closure(connection.sql(queryLogLevel: nil)) }
                })
        }.value
    }

    /// A session's result, handed from the task that ran it to the caller that waits for it (sql-kit's
    /// `withSession` does not require it to be `Sendable`; it is not used by both at once).
    struct Handed<Value>: @unchecked Sendable {
        let value: Value
    }

    /// A statement that cannot get a connection or an answer within `deadline`, whose connection
    /// fails, or that a server answers as one going away (`StoreFailure`), is `StoreUnavailable`.
    static func bounded(_ operation: @escaping @Sendable () async throws -> Void) async throws {
        try await boundedValue(deadline, "no answer from PostgreSQL within 5 s", operation)
    }

    static func boundedValue<T: Sendable>(_ limit: Duration, _ message: String, _ operation: @escaping @Sendable () async throws -> T)
        async throws -> T
    {
        do {
            return try await withDeadline(limit, failing: StoreUnavailable(message), operation)
        } catch {
            throw StoreFailure.classified(error)
        }
    }
}
