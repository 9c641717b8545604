/// What differs between the two SQL databases, in one place. Everything else is one SQL text
/// (sql-kit's dialects handle placeholders and quoting).
///
/// - Types: SQLite is dynamically typed, and its columns keep what the first migrations declared
///   (`DOUBLE PRECISION` seconds since 1970 for instants, `INTEGER` 0/1 for flags), which is what
///   SQLiteNIO stores for a bound `Date` and `Bool`. PostgreSQL gets `TIMESTAMPTZ` and `BOOLEAN`
///   (migration 7 converts them), so that `psql`, reports and indexes see real types. Nothing is
///   binary today (hashes are hex text, keys PEM text), so nothing is `BYTEA`.
/// - Locking: migrations start with `BEGIN IMMEDIATE` on SQLite (the write lock at once); on
///   PostgreSQL with `BEGIN` and a transaction-scoped advisory lock.
/// - Refresh rotation: on PostgreSQL one statement (a data-modifying `WITH`); SQLite has no
///   data-modifying `WITH`, so two ordered statements on its single connection (`SQLStore.rotate`).
public enum SQLFlavor: Sendable {
    case sqlite
    case postgres

    /// The advisory lock key the migrations take on PostgreSQL ("gatehouse" as digits).
    /// The advisory lock class of migrations; the second key is the schema's, so nodes sharing a
    /// schema migrate one at a time while separate schemas (the tests give each store one) do not
    /// wait for one another.
    static let migrationLock = 472_830_728

    var migrationBegin: String {
        switch self {
        case .sqlite: "BEGIN IMMEDIATE"
        case .postgres: "BEGIN"
        }
    }

    var migrationLockStatement: String? {
        switch self {
        case .sqlite: nil
        case .postgres: "SELECT pg_advisory_xact_lock(\(Self.migrationLock), hashtext(current_schema()))"
        }
    }

    /// The column type of an instant in a migration after 7.
    var instantType: String {
        switch self {
        case .sqlite: "DOUBLE PRECISION"
        case .postgres: "TIMESTAMPTZ"
        }
    }

    /// Columns that hold an instant, by table (converted by migration 7; later columns are
    /// created with `instantType`).
    static let instantColumns: [(table: String, columns: [String])] = [
        ("tenants", ["created_at"]),
        ("clients", ["created_at"]),
        ("client_secrets", ["created_at", "expires_at"]),
        ("signing_keys", ["created_at"]),
        ("one_time_values", ["expires_at"]),
        ("sign_ins", ["time"]),
        ("users", ["created_at", "updated_at", "sessions_valid_after"]),
        ("sign_in_failures", ["last_failure_at"]),
        ("state_values", ["expires_at"]),
        (
            "grants",
            ["auth_time", "code_expires_at", "code_redeemed_at", "created_at", "rotated_at", "last_used_at", "revoked_at"]
        ),
        ("refresh_tokens", ["created_at"]),
        ("sign_in_aggregates", ["first_time", "last_time"]),
    ]

    /// Columns that hold a flag, by table, with their default if they have one.
    static let flagColumns: [(table: String, column: String, defaultValue: Bool?)] = [
        ("users", "enabled", nil),
        ("grants", "offline", nil),
        ("sign_ins", "aggregated", false),
    ]

    /// Migration 7: native types on PostgreSQL; nothing to do on SQLite.
    var nativeTypeStatements: [String] {
        switch self {
        case .sqlite:
            return []
        case .postgres:
            let instants = Self.instantColumns.map { table, columns in
                "ALTER TABLE \(table) "
                    + columns.map { "ALTER COLUMN \($0) TYPE TIMESTAMPTZ USING to_timestamp(\($0))" }.joined(separator: ", ")
            }
            let flags = Self.flagColumns.map { table, column, defaultValue in
                var parts = ["ALTER COLUMN \(column) TYPE BOOLEAN USING \(column) <> 0"]
                if let defaultValue {
                    parts.insert("ALTER COLUMN \(column) DROP DEFAULT", at: 0)
                    parts.append("ALTER COLUMN \(column) SET DEFAULT \(defaultValue)")
                }
                return "ALTER TABLE \(table) " + parts.joined(separator: ", ")
            }
            return instants + flags
        }
    }
}
