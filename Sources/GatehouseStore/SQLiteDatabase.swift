import CoreMetrics
import Foundation
import GatehouseCore
import Logging
import NIOCore
import NIOPosix
import SQLKit
import SQLiteKit

/// The embedded SQLite database: one connection (SQLite serialises writers anyway; opened
/// FULLMUTEX by SQLiteNIO), WAL journal, migrations run on open.
public final class SQLiteDatabase: Sendable {
    public let connection: SQLiteConnection
    public let store: SQLStore

    private init(connection: SQLiteConnection, metrics: DatabaseMetrics, kek: KeyEncryptionKey?) {
        self.connection = connection
        self.store = SQLStore(sharedConnection: connection.sql(), metrics: metrics, kek: kek)
    }

    /// Opens (creating if needed) the database at `path`, or in memory for `":memory:"`.
    ///
    /// The file holds signing private keys and the secret-hashing key, so a new data folder is
    /// made 0700 and a new database file 0600 before SQLite opens it (SQLite gives the `-wal`
    /// and `-shm` files the database file's mode). An existing folder or file that others may
    /// read is left as it is, with a warning naming it.
    public static func open(
        path: String, logger: Logger = Logger(label: "gatehouse.sqlite"), metrics: any MetricsFactory = NOOPMetricsHandler.instance,
        kek: KeyEncryptionKey? = nil, migrateThrough: Int = .max
    ) async throws -> SQLiteDatabase {
        let storage: SQLiteConnection.Storage = path == ":memory:" ? .memory : .file(path: path)
        if case .file(let file) = storage {
            try prepareFiles(file)
            for warning in permissionWarnings(file) { logger.warning("\(warning)") }
        }
        let connection = try await SQLiteConnection.open(
            storage: storage, threadPool: .singleton, logger: logger, on: MultiThreadedEventLoopGroup.singleton.any())
        let database = SQLiteDatabase(connection: connection, metrics: DatabaseMetrics(factory: metrics, backend: "sqlite"), kek: kek)
        do {
            let sql = connection.sql()
            try await sql.raw("PRAGMA busy_timeout = 5000").run()
            if storage != .memory {
                // Switching to WAL needs the file to itself; SQLite answers "busy" at once (no busy
                // handler) while another process opening the same file switches too: try again.
                try await retryingWhileBusy { _ = try await sql.raw("PRAGMA journal_mode = WAL").all() }
                try await sql.raw("PRAGMA synchronous = NORMAL").run()
            }
            try await Migrations.run(on: sql, through: migrateThrough)
            if migrateThrough < .max { return database }
            for refused in try await database.store.prepareKeyEncryption().refused { logger.error("\(KEKError.unsealed(refused))") }
        } catch {
            // Closed even when this task was cancelled (a connection must be closed before it goes).
            try? await Task { try await connection.close() }.value
            throw error
        }
        return database
    }

    /// Runs `body` again while SQLite says the database is busy, for at most about 5 s.
    static func retryingWhileBusy(_ body: () async throws -> Void) async throws {
        for attempt in 0..<100 {
            do {
                return try await body()
            } catch let error as SQLiteError where error.reason == .busy && attempt < 99 {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// Makes the folder (0700) and an empty database file (0600) when they do not exist yet.
    static func prepareFiles(_ file: String) throws {
        let manager = FileManager.default
        let folder = URL(fileURLWithPath: file).deletingLastPathComponent().path
        if !manager.fileExists(atPath: folder) {
            try manager.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        if !manager.fileExists(atPath: file) {
            guard manager.createFile(atPath: file, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: file])
            }
        }
    }

    /// One line for each of the folder, the database and its `-wal`/`-shm` files that group or
    /// others may read or write.
    public static func permissionWarnings(_ file: String) -> [String] {
        let folder = URL(fileURLWithPath: file).deletingLastPathComponent().path
        var warnings: [String] = []
        for (path, wanted) in [(folder, 0o700), (file, 0o600), (file + "-wal", 0o600), (file + "-shm", 0o600)] {
            guard let mode = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int, mode & 0o077 != 0 else {
                continue
            }
            warnings.append(
                "'\(path)' is mode \(String(mode, radix: 8)): other users of this machine can read the keys it holds; run chmod \(String(wanted, radix: 8)) '\(path)'"
            )
        }
        return warnings
    }

    public func close() async throws {
        try await connection.close()
    }
}
