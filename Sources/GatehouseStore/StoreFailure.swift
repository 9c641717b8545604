import GatehouseCore
import NIOCore
import PostgresNIO
import SQLiteKit

/// Which database errors mean the database went away (answered 503 with `Retry-After` as
/// `StoreUnavailable`, on every endpoint and page) rather than a bug (500): a connection that
/// fails, resets or is refused, a server that is shutting down, starting up or in recovery, a
/// read-only standby answering after a switchover, exhausted resources, and transient conflicts
/// that a retry resolves.
enum StoreFailure {
    /// SQLSTATE classes and codes (PostgreSQL, Appendix A) that stand for losing the database.
    static let unavailableClasses: Set<Substring> = [
        "08",  // connection exception
        "53",  // insufficient resources (too many connections, disk full, out of memory)
        "57",  // operator intervention (admin/crash shutdown, cannot connect now, query canceled)
        "58",  // system error (I/O)
    ]
    static let unavailableCodes: Set<String> = [
        "25006",  // read_only_sql_transaction: a standby that was the primary, or is not yet
        "40001",  // serialization_failure
        "40P01",  // deadlock_detected
        "55P03",  // lock_not_available
    ]

    /// `error` as `StoreUnavailable` when it stands for losing the database; else `error` itself.
    static func classified(_ error: any Error) -> any Error {
        unavailability(of: error) ?? error
    }

    static func unavailability(of error: any Error) -> StoreUnavailable? {
        switch error {
        case let error as StoreUnavailable:
            return error
        case let error as PSQLError:
            guard let state = error.serverInfo?[.sqlState] else {
                return StoreUnavailable("PostgreSQL connection failed: \(error.code)")
            }
            guard unavailableClasses.contains(state.prefix(2)) || unavailableCodes.contains(state) else { return nil }
            return StoreUnavailable("PostgreSQL answered SQLSTATE \(state): \(error.serverInfo?[.message] ?? "")")
        case let error as SQLiteError:
            return sqliteUnavailable(error.reason) ? StoreUnavailable("SQLite: \(error.reason)") : nil
        case is ChannelError, is IOError, is NIOConnectionError:
            return StoreUnavailable("database connection failed: \(error)")
        default:
            return nil
        }
    }

    /// SQLite's busy and locked answers (after the busy timeout), I/O errors, a full disk, a file
    /// it cannot open and memory exhaustion.
    static func sqliteUnavailable(_ reason: SQLiteError.Reason) -> Bool {
        switch reason {
        case .busy, .locked, .full, .cantOpen, .noMemory, .ioError: return true
        default:
            let name = String(describing: reason)
            return ["busy", "locked", "ioError", "cantOpen"].contains { name.hasPrefix($0) }
        }
    }
}
