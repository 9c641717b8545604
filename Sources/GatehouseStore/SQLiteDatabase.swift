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

    private init(connection: SQLiteConnection) {
        self.connection = connection
        self.store = SQLStore(db: connection.sql())
    }

    /// Opens (creating if needed) the database at `path`, or in memory for `":memory:"`.
    public static func open(path: String, logger: Logger = Logger(label: "gatehouse.sqlite")) async throws -> SQLiteDatabase {
        let storage: SQLiteConnection.Storage = path == ":memory:" ? .memory : .file(path: path)
        if case .file(let file) = storage {
            let folder = URL(fileURLWithPath: file).deletingLastPathComponent().path
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        let connection = try await SQLiteConnection.open(storage: storage, threadPool: .singleton, logger: logger, on: MultiThreadedEventLoopGroup.singleton.any())
        let database = SQLiteDatabase(connection: connection)
        let sql = connection.sql()
        try await sql.raw("PRAGMA busy_timeout = 5000").run()
        if storage != .memory {
            _ = try await sql.raw("PRAGMA journal_mode = WAL").all()
            try await sql.raw("PRAGMA synchronous = NORMAL").run()
        }
        try await Migrations.run(on: sql)
        return database
    }

    public func close() async throws {
        try await connection.close()
    }
}
