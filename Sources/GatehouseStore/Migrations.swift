import Foundation
import SQLKit

/// A versioned schema change. One SQL text for SQLite and PostgreSQL: types and syntax that both
/// dialects accept (TEXT, INTEGER, BIGINT, DOUBLE PRECISION, ON CONFLICT, RETURNING); where they
/// differ, the statements come from `SQLFlavor`.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    /// The statements, the same on both databases unless `flavored` gives them per database.
    let flavored: @Sendable (SQLFlavor) -> [String]
    /// A data change that SQL alone cannot express, run after the statements in the same transaction.
    let step: (@Sendable (any SQLDatabase, Date) async throws -> Void)?

    init(version: Int, name: String, statements: [String], step: (@Sendable (any SQLDatabase, Date) async throws -> Void)? = nil) {
        self.init(version: version, name: name, flavored: { _ in statements }, step: step)
    }

    init(
        version: Int, name: String, flavored: @escaping @Sendable (SQLFlavor) -> [String],
        step: (@Sendable (any SQLDatabase, Date) async throws -> Void)? = nil
    ) {
        self.version = version
        self.name = name
        self.flavored = flavored
        self.step = step
    }

    public func statements(for flavor: SQLFlavor) -> [String] { flavored(flavor) }
}

public enum Migrations {
    public static let all: [Migration] = [
        Migration(
            version: 1, name: "initial schema",
            statements: [
                """
                CREATE TABLE IF NOT EXISTS tenants (
                    name TEXT PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    display_name TEXT NOT NULL,
                    signing_algorithm TEXT NOT NULL,
                    access_token_lifetime INTEGER NOT NULL,
                    created_at DOUBLE PRECISION NOT NULL
                )
                """,
                """
                CREATE TABLE IF NOT EXISTS clients (
                    tenant TEXT NOT NULL REFERENCES tenants(name),
                    client_id TEXT NOT NULL,
                    name TEXT NOT NULL,
                    client_type TEXT NOT NULL,
                    auth_methods TEXT NOT NULL,
                    grant_types TEXT NOT NULL,
                    allowed_scopes TEXT NOT NULL,
                    default_scopes TEXT NOT NULL,
                    allowed_resources TEXT NOT NULL,
                    jwks TEXT,
                    created_at DOUBLE PRECISION NOT NULL,
                    PRIMARY KEY (tenant, client_id)
                )
                """,
                """
                CREATE TABLE IF NOT EXISTS client_secrets (
                    tenant TEXT NOT NULL,
                    client_id TEXT NOT NULL,
                    secret_id TEXT NOT NULL,
                    hash TEXT NOT NULL,
                    hint TEXT NOT NULL,
                    created_at DOUBLE PRECISION NOT NULL,
                    expires_at DOUBLE PRECISION,
                    PRIMARY KEY (tenant, client_id, secret_id)
                )
                """,
                """
                CREATE TABLE IF NOT EXISTS signing_keys (
                    tenant TEXT NOT NULL REFERENCES tenants(name),
                    kid TEXT NOT NULL,
                    algorithm TEXT NOT NULL,
                    private_key TEXT NOT NULL,
                    status TEXT NOT NULL,
                    created_at DOUBLE PRECISION NOT NULL,
                    PRIMARY KEY (tenant, kid)
                )
                """,
                """
                CREATE TABLE IF NOT EXISTS one_time_values (
                    value_key TEXT PRIMARY KEY,
                    expires_at DOUBLE PRECISION NOT NULL
                )
                """,
                """
                CREATE TABLE IF NOT EXISTS sign_ins (
                    time DOUBLE PRECISION NOT NULL,
                    tenant TEXT NOT NULL,
                    client_id TEXT,
                    grant_type TEXT,
                    scopes TEXT,
                    result TEXT NOT NULL,
                    error_code INTEGER,
                    error TEXT,
                    detail TEXT,
                    trace_id TEXT NOT NULL,
                    correlation_id TEXT NOT NULL,
                    client_ip TEXT,
                    user_agent TEXT,
                    latency_us BIGINT NOT NULL
                )
                """,
                "CREATE INDEX IF NOT EXISTS sign_ins_trace ON sign_ins (trace_id)",
                "CREATE INDEX IF NOT EXISTS sign_ins_time ON sign_ins (time)",
                "CREATE INDEX IF NOT EXISTS sign_ins_client ON sign_ins (tenant, client_id, time)",
                """
                CREATE TABLE IF NOT EXISTS settings (
                    setting_key TEXT PRIMARY KEY,
                    value TEXT NOT NULL
                )
                """,
            ]),
        Migration(
            version: 2, name: "user sign-in",
            statements: [
                "ALTER TABLE clients ADD COLUMN redirect_uris TEXT NOT NULL DEFAULT ''",
                "ALTER TABLE clients ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT ''",
                """
                CREATE TABLE IF NOT EXISTS users (
                    tenant TEXT NOT NULL REFERENCES tenants(name),
                    user_id TEXT NOT NULL,
                    username TEXT NOT NULL,
                    email TEXT,
                    display_name TEXT NOT NULL,
                    password_hash TEXT NOT NULL,
                    enabled INTEGER NOT NULL,
                    totp_secret TEXT,
                    created_at DOUBLE PRECISION NOT NULL,
                    updated_at DOUBLE PRECISION NOT NULL,
                    PRIMARY KEY (tenant, user_id),
                    UNIQUE (tenant, username)
                )
                """,
                """
                CREATE TABLE IF NOT EXISTS sign_in_failures (
                    failure_key TEXT PRIMARY KEY,
                    failures INTEGER NOT NULL,
                    last_failure_at DOUBLE PRECISION NOT NULL
                )
                """,
                """
                CREATE TABLE IF NOT EXISTS state_values (
                    kind TEXT NOT NULL,
                    state_key TEXT NOT NULL,
                    value TEXT NOT NULL,
                    expires_at DOUBLE PRECISION NOT NULL,
                    PRIMARY KEY (kind, state_key)
                )
                """,
                """
                CREATE TABLE IF NOT EXISTS grants (
                    grant_id TEXT PRIMARY KEY,
                    tenant TEXT NOT NULL,
                    client_id TEXT NOT NULL,
                    user_id TEXT NOT NULL,
                    scope TEXT NOT NULL,
                    audience TEXT NOT NULL,
                    nonce TEXT,
                    auth_time DOUBLE PRECISION NOT NULL,
                    session_id TEXT,
                    amr TEXT NOT NULL,
                    code_hash TEXT NOT NULL UNIQUE,
                    code_challenge TEXT,
                    redirect_uri TEXT,
                    code_expires_at DOUBLE PRECISION NOT NULL,
                    code_redeemed_at DOUBLE PRECISION,
                    created_at DOUBLE PRECISION NOT NULL,
                    offline INTEGER NOT NULL,
                    generation INTEGER NOT NULL,
                    rotated_at DOUBLE PRECISION,
                    last_used_at DOUBLE PRECISION,
                    revoked_at DOUBLE PRECISION
                )
                """,
                """
                CREATE TABLE IF NOT EXISTS refresh_tokens (
                    token_hash TEXT PRIMARY KEY,
                    grant_id TEXT NOT NULL,
                    generation INTEGER NOT NULL,
                    created_at DOUBLE PRECISION NOT NULL
                )
                """,
                "CREATE INDEX IF NOT EXISTS refresh_tokens_grant ON refresh_tokens (grant_id)",
            ]),
        Migration(
            version: 3, name: "client certificates",
            statements: [
                "ALTER TABLE clients ADD COLUMN certificates TEXT NOT NULL DEFAULT ''"
            ]),
        Migration(
            version: 4, name: "user sessions valid after",
            statements: [
                // Sessions that began before this instant are no longer honoured (password set, user
                // disabled, second factor removed).
                "ALTER TABLE users ADD COLUMN sessions_valid_after DOUBLE PRECISION"
            ]),
        Migration(
            version: 5, name: "sign-in aggregates",
            statements: [
                // A whole row that is also counted in an aggregate (the first of its kind in its minute).
                "ALTER TABLE sign_ins ADD COLUMN aggregated INTEGER NOT NULL DEFAULT 0",
                "ALTER TABLE tenants ADD COLUMN sign_in_log TEXT NOT NULL DEFAULT 'aggregate'",
                """
                CREATE TABLE IF NOT EXISTS sign_in_aggregates (
                    tenant TEXT NOT NULL,
                    client_id TEXT NOT NULL,
                    step TEXT NOT NULL,
                    result TEXT NOT NULL,
                    error_code INTEGER NOT NULL,
                    minute BIGINT NOT NULL,
                    count BIGINT NOT NULL,
                    b0 BIGINT NOT NULL,
                    b1 BIGINT NOT NULL,
                    b2 BIGINT NOT NULL,
                    b3 BIGINT NOT NULL,
                    b4 BIGINT NOT NULL,
                    b5 BIGINT NOT NULL,
                    b6 BIGINT NOT NULL,
                    b7 BIGINT NOT NULL,
                    b8 BIGINT NOT NULL,
                    b9 BIGINT NOT NULL,
                    b10 BIGINT NOT NULL,
                    b11 BIGINT NOT NULL,
                    latency_sum_us BIGINT NOT NULL,
                    first_time DOUBLE PRECISION NOT NULL,
                    last_time DOUBLE PRECISION NOT NULL,
                    first_trace_id TEXT NOT NULL,
                    last_trace_id TEXT NOT NULL,
                    PRIMARY KEY (tenant, client_id, step, result, error_code, minute)
                )
                """,
                "CREATE INDEX IF NOT EXISTS sign_in_aggregates_minute ON sign_in_aggregates (minute)",
            ]),
        Migration(
            version: 6, name: "change counter",
            statements: [
                // Moved on by every change of cached data; nodes poll it (ChangeWatcher).
                "CREATE TABLE IF NOT EXISTS change_counter (id INTEGER PRIMARY KEY, value BIGINT NOT NULL)",
                "INSERT INTO change_counter (id, value) VALUES (1, 0) ON CONFLICT DO NOTHING",
            ]),
        // Instants and flags as TIMESTAMPTZ and BOOLEAN on PostgreSQL (SQLFlavor).
        Migration(version: 7, name: "native types", flavored: { $0.nativeTypeStatements }),
        Migration(
            version: 8, name: "key rotation policy and leases",
            flavored: { flavor in
                [
                    "ALTER TABLE tenants ADD COLUMN key_rotation_seconds BIGINT",
                    "ALTER TABLE signing_keys ADD COLUMN retired_at \(flavor.instantType)",
                    // Which node does a periodic chore (janitor, key rotation) until when.
                    """
                    CREATE TABLE IF NOT EXISTS leases (
                        name TEXT PRIMARY KEY,
                        holder TEXT NOT NULL,
                        expires_at \(flavor.instantType) NOT NULL
                    )
                    """,
                ]
            }),
        Migration(
            version: 9, name: "refresh token origin",
            statements: [
                // Who rotated to the token (a keyed hash of address and user agent): a public
                // client's retry of the replaced token from elsewhere is reuse.
                "ALTER TABLE refresh_tokens ADD COLUMN origin TEXT"
            ]),
        Migration(
            version: 10, name: "APIs",
            flavored: { flavor in
                [
                    // An API (resource server); permissions and roles as JSON arrays of
                    // {name, descriptions}.
                    """
                    CREATE TABLE IF NOT EXISTS apis (
                        tenant TEXT NOT NULL REFERENCES tenants(name),
                        application_id TEXT NOT NULL,
                        display_name TEXT NOT NULL,
                        permissions TEXT NOT NULL,
                        roles TEXT NOT NULL,
                        access_token_lifetime BIGINT,
                        created_at \(flavor.instantType) NOT NULL,
                        PRIMARY KEY (tenant, application_id)
                    )
                    """,
                    // Each identifier names one API in its tenant; `position` keeps their order.
                    """
                    CREATE TABLE IF NOT EXISTS api_identifiers (
                        tenant TEXT NOT NULL,
                        identifier TEXT NOT NULL,
                        application_id TEXT NOT NULL,
                        position INTEGER NOT NULL,
                        PRIMARY KEY (tenant, identifier)
                    )
                    """,
                    "CREATE INDEX IF NOT EXISTS api_identifiers_api ON api_identifiers (tenant, application_id)",
                    // What a client may ask of an API: space-separated permission and role names.
                    """
                    CREATE TABLE IF NOT EXISTS api_access (
                        tenant TEXT NOT NULL,
                        client_id TEXT NOT NULL,
                        application_id TEXT NOT NULL,
                        permissions TEXT NOT NULL,
                        roles TEXT NOT NULL,
                        PRIMARY KEY (tenant, client_id, application_id)
                    )
                    """,
                ]
            }),
        Migration(
            version: 11, name: "clients' resources become APIs",
            statements: [
                // The order of a client's grants: the first is the audience of a token whose
                // request names no API.
                "ALTER TABLE api_access ADD COLUMN position INTEGER NOT NULL DEFAULT 0"
            ],
            step: { db, now in try await ResourcesBecomeAPIs.run(on: db, now: now) }),
        Migration(
            version: 12, name: "audit log and role assignments",
            flavored: { flavor in
                [
                    // Every change made through the administration service (CLI or admin API);
                    // `id` sorts by time (a version 7 trace ID) and is the page cursor.
                    """
                    CREATE TABLE IF NOT EXISTS audit_log (
                        id TEXT PRIMARY KEY,
                        at \(flavor.instantType) NOT NULL,
                        tenant TEXT NOT NULL,
                        actor TEXT NOT NULL,
                        action TEXT NOT NULL,
                        target TEXT NOT NULL,
                        before_value TEXT,
                        after_value TEXT,
                        trace_id TEXT,
                        source TEXT
                    )
                    """,
                    "CREATE INDEX IF NOT EXISTS audit_log_tenant ON audit_log (tenant, id)",
                    // A user holding an API's application role.
                    """
                    CREATE TABLE IF NOT EXISTS role_assignments (
                        tenant TEXT NOT NULL,
                        user_id TEXT NOT NULL,
                        application_id TEXT NOT NULL,
                        role TEXT NOT NULL,
                        assigned_at \(flavor.instantType) NOT NULL,
                        PRIMARY KEY (tenant, user_id, application_id, role)
                    )
                    """,
                ]
            }),
        Migration(
            version: 13, name: "sessions and consents as rows",
            flavored: { flavor in
                [
                    // Browser sessions under their cookie's hash, indexed by user (an administrator
                    // lists and ends a user's sessions).
                    """
                    CREATE TABLE IF NOT EXISTS sessions (
                        cookie_hash TEXT PRIMARY KEY,
                        tenant TEXT NOT NULL,
                        user_id TEXT NOT NULL,
                        sid TEXT NOT NULL,
                        auth_time \(flavor.instantType) NOT NULL,
                        amr TEXT NOT NULL,
                        expires_at \(flavor.instantType) NOT NULL,
                        client_ip TEXT,
                        user_agent TEXT,
                        last_used_at \(flavor.instantType)
                    )
                    """,
                    "CREATE INDEX IF NOT EXISTS sessions_user ON sessions (tenant, user_id)",
                    "CREATE INDEX IF NOT EXISTS sessions_expiry ON sessions (expires_at)",
                    // What a user agreed that a client may do.
                    """
                    CREATE TABLE IF NOT EXISTS consents (
                        tenant TEXT NOT NULL,
                        user_id TEXT NOT NULL,
                        client_id TEXT NOT NULL,
                        scope TEXT NOT NULL,
                        granted_at \(flavor.instantType) NOT NULL,
                        expires_at \(flavor.instantType) NOT NULL,
                        PRIMARY KEY (tenant, user_id, client_id)
                    )
                    """,
                    "CREATE INDEX IF NOT EXISTS consents_expiry ON consents (expires_at)",
                ]
            },
            step: { db, now in try await SessionsBecomeRows.run(on: db, now: now) }),
        Migration(
            version: 14, name: "sign-ins by user",
            statements: [
                // The user a logged request was for, once known: the admin API queries by it.
                "ALTER TABLE sign_ins ADD COLUMN user_id TEXT",
                "CREATE INDEX IF NOT EXISTS sign_ins_user ON sign_ins (tenant, user_id, time)",
            ]),
        Migration(
            version: 15, name: "clients can be disabled",
            flavored: { flavor in
                [
                    "ALTER TABLE clients ADD COLUMN enabled "
                        + (flavor == .postgres ? "BOOLEAN NOT NULL DEFAULT TRUE" : "INTEGER NOT NULL DEFAULT 1")
                ]
            }),
        Migration(
            version: 16, name: "sign-in by email, first-party clients, credentials used",
            flavored: { flavor in
                [
                    "ALTER TABLE tenants ADD COLUMN email_sign_in "
                        + (flavor == .postgres ? "BOOLEAN NOT NULL DEFAULT TRUE" : "INTEGER NOT NULL DEFAULT 1"),
                    // A user's address as a sign-in name (`User.signInEmail`), kept only while the
                    // tenant has email sign-in on: the index makes it one user's.
                    "ALTER TABLE users ADD COLUMN sign_in_email TEXT",
                    "CREATE UNIQUE INDEX IF NOT EXISTS users_sign_in_email ON users (tenant, sign_in_email)",
                    "ALTER TABLE clients ADD COLUMN first_party "
                        + (flavor == .postgres ? "BOOLEAN NOT NULL DEFAULT FALSE" : "INTEGER NOT NULL DEFAULT 0"),
                    // Which credential authenticated a logged request; when each secret was last used.
                    "ALTER TABLE sign_ins ADD COLUMN credential TEXT",
                    "ALTER TABLE client_secrets ADD COLUMN last_used_at \(flavor.instantType)",
                ]
            },
            step: { db, now in try await EmailSignInBegins.run(on: db, now: now) }),
        Migration(
            version: 17, name: "outbox, verified email addresses",
            flavored: { flavor in
                let boolean = flavor == .postgres ? "BOOLEAN NOT NULL DEFAULT FALSE" : "INTEGER NOT NULL DEFAULT 0"
                return [
                    """
                    CREATE TABLE IF NOT EXISTS outbox (
                        id TEXT PRIMARY KEY,
                        kind TEXT NOT NULL,
                        tenant TEXT NOT NULL,
                        payload TEXT NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at \(flavor.instantType),
                        last_error TEXT,
                        created_at \(flavor.instantType) NOT NULL
                    )
                    """,
                    "CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_attempt_at)",
                    "CREATE INDEX IF NOT EXISTS outbox_tenant ON outbox (tenant, created_at)",
                    // Existing users' addresses were never verified.
                    "ALTER TABLE users ADD COLUMN email_verified \(boolean)",
                    "ALTER TABLE users ADD COLUMN language TEXT",
                    "ALTER TABLE tenants ADD COLUMN verify_email \(boolean)",
                ]
            }),
        Migration(
            version: 18, name: "recovery codes",
            flavored: { flavor in
                [
                    """
                    CREATE TABLE IF NOT EXISTS recovery_codes (
                        tenant TEXT NOT NULL,
                        user_id TEXT NOT NULL,
                        code_hash TEXT NOT NULL,
                        created_at \(flavor.instantType) NOT NULL,
                        PRIMARY KEY (tenant, user_id, code_hash)
                    )
                    """
                ]
            }),
        Migration(
            version: 19, name: "self-registration and branding",
            flavored: { flavor in
                [
                    "ALTER TABLE tenants ADD COLUMN registration TEXT NOT NULL DEFAULT 'off'",
                    "ALTER TABLE tenants ADD COLUMN registration_domains TEXT",
                    "ALTER TABLE tenants ADD COLUMN brand_color TEXT",
                    "ALTER TABLE tenants ADD COLUMN support_contact TEXT",
                    "ALTER TABLE tenants ADD COLUMN logo_digest TEXT",
                    "ALTER TABLE users ADD COLUMN self_registered "
                        + (flavor == .postgres ? "BOOLEAN NOT NULL DEFAULT FALSE" : "INTEGER NOT NULL DEFAULT 0"),
                    // The logo's bytes as base64: small (at most 100 KiB), read once per node and cached.
                    """
                    CREATE TABLE IF NOT EXISTS tenant_logos (
                        tenant TEXT PRIMARY KEY,
                        content_type TEXT NOT NULL,
                        data TEXT NOT NULL
                    )
                    """,
                ]
            }),
        Migration(
            version: 20, name: "passkeys",
            flavored: { flavor in
                let boolean = flavor == .postgres ? "BOOLEAN NOT NULL DEFAULT FALSE" : "INTEGER NOT NULL DEFAULT 0"
                return [
                    // The public key as base64url of its COSE bytes; transports space-separated.
                    """
                    CREATE TABLE IF NOT EXISTS passkeys (
                        tenant TEXT NOT NULL,
                        credential_id TEXT NOT NULL,
                        user_id TEXT NOT NULL,
                        public_key TEXT NOT NULL,
                        sign_count BIGINT NOT NULL,
                        transports TEXT NOT NULL,
                        aaguid TEXT NOT NULL,
                        backup_eligible \(boolean),
                        backed_up \(boolean),
                        attestation_format TEXT NOT NULL,
                        name TEXT NOT NULL,
                        created_at \(flavor.instantType) NOT NULL,
                        last_used_at \(flavor.instantType),
                        counter_regressed \(boolean),
                        PRIMARY KEY (tenant, credential_id)
                    )
                    """,
                    "CREATE INDEX IF NOT EXISTS passkeys_user ON passkeys (tenant, user_id)",
                    "ALTER TABLE tenants ADD COLUMN passkey_policy TEXT",
                ]
            }),
        Migration(
            version: 21, name: "client registration policy",
            flavored: { flavor in
                [
                    "ALTER TABLE tenants ADD COLUMN client_registration TEXT NOT NULL DEFAULT 'off'",
                    "ALTER TABLE tenants ADD COLUMN registration_apis TEXT",
                    "ALTER TABLE tenants ADD COLUMN allow_local_fetches "
                        + (flavor == .postgres ? "BOOLEAN NOT NULL DEFAULT FALSE" : "INTEGER NOT NULL DEFAULT 0"),
                ]
            }),
        Migration(
            version: 22, name: "self-registered clients and initial access tokens",
            flavored: { flavor in
                [
                    // Token hashes only (keyed HMAC-SHA256, as client secrets).
                    """
                    CREATE TABLE IF NOT EXISTS client_registrations (
                        tenant TEXT NOT NULL,
                        client_id TEXT NOT NULL,
                        policy TEXT NOT NULL,
                        token_hash TEXT NOT NULL,
                        metadata TEXT NOT NULL,
                        initial_token_id TEXT,
                        created_at \(flavor.instantType) NOT NULL,
                        updated_at \(flavor.instantType) NOT NULL,
                        PRIMARY KEY (tenant, client_id)
                    )
                    """,
                    """
                    CREATE TABLE IF NOT EXISTS initial_access_tokens (
                        tenant TEXT NOT NULL,
                        token_id TEXT NOT NULL,
                        hash TEXT NOT NULL,
                        label TEXT NOT NULL,
                        created_at \(flavor.instantType) NOT NULL,
                        expires_at \(flavor.instantType) NOT NULL,
                        uses_left INTEGER NOT NULL,
                        PRIMARY KEY (tenant, token_id)
                    )
                    """,
                    "CREATE UNIQUE INDEX IF NOT EXISTS initial_access_tokens_hash ON initial_access_tokens (hash)",
                    "ALTER TABLE tenants ADD COLUMN client_id_metadata_documents "
                        + (flavor == .postgres ? "BOOLEAN NOT NULL DEFAULT FALSE" : "INTEGER NOT NULL DEFAULT 0"),
                ]
            }),
        Migration(
            version: 23, name: "pushed and signed authorization requests, back-channel logout",
            flavored: { flavor in
                let off = flavor == .postgres ? "BOOLEAN NOT NULL DEFAULT FALSE" : "INTEGER NOT NULL DEFAULT 0"
                return [
                    "ALTER TABLE clients ADD COLUMN backchannel_logout_uri TEXT",
                    "ALTER TABLE clients ADD COLUMN backchannel_logout_session_required \(off)",
                    "ALTER TABLE clients ADD COLUMN require_par \(off)",
                    "ALTER TABLE clients ADD COLUMN require_signed_request_object \(off)",
                    "ALTER TABLE tenants ADD COLUMN require_par \(off)",
                    // Which clients took part in which browser session (a code issued for it), for
                    // back-channel logout; only clients with a logout URI are noted.
                    """
                    CREATE TABLE IF NOT EXISTS session_participants (
                        tenant TEXT NOT NULL,
                        sid TEXT NOT NULL,
                        client_id TEXT NOT NULL,
                        user_id TEXT NOT NULL,
                        issuer TEXT NOT NULL,
                        logout_uri TEXT NOT NULL,
                        client_source TEXT NOT NULL,
                        expires_at \(flavor.instantType) NOT NULL,
                        PRIMARY KEY (tenant, sid, client_id)
                    )
                    """,
                    "CREATE INDEX IF NOT EXISTS session_participants_user ON session_participants (tenant, user_id)",
                    "CREATE INDEX IF NOT EXISTS session_participants_expiry ON session_participants (expires_at)",
                ]
            }),
        Migration(
            version: 24, name: "DPoP: bound grants, clients that require DPoP, tenants that require nonces",
            flavored: { flavor in
                let off = flavor == .postgres ? "BOOLEAN NOT NULL DEFAULT FALSE" : "INTEGER NOT NULL DEFAULT 0"
                return [
                    // The key a grant is bound to (`TokenBinding.stored`): its code, and a public
                    // client's refresh tokens, need a proof by that key.
                    "ALTER TABLE grants ADD COLUMN binding TEXT",
                    "ALTER TABLE clients ADD COLUMN require_dpop \(off)",
                    "ALTER TABLE tenants ADD COLUMN require_dpop_nonce \(off)",
                ]
            }),
    ]

    /// Applies the migrations not yet recorded in `schema_migrations`, in version order, in one
    /// transaction under a lock, so that servers started at once migrate once: the first takes
    /// the lock (SQLite's `BEGIN IMMEDIATE` takes the write lock; on PostgreSQL an advisory
    /// lock), the others wait and then find nothing left to apply. Returns the versions applied.
    @discardableResult
    /// `through` stops at a version (the tests build an old database to upgrade).
    public static func run(on db: any SQLDatabase, flavor: SQLFlavor = .sqlite, through: Int = .max, now: Date = Date()) async throws
        -> [Int]
    {
        try await db.raw(SQLQueryString(flavor.migrationBegin)).run()
        do {
            if let lock = flavor.migrationLockStatement { try await db.raw(SQLQueryString(lock)).run() }
            let ran = try await apply(on: db, flavor: flavor, through: through, now: now)
            try await db.raw("COMMIT").run()
            return ran
        } catch {
            try? await db.raw("ROLLBACK").run()
            throw error
        }
    }

    private static func apply(on db: any SQLDatabase, flavor: SQLFlavor, through: Int, now: Date) async throws -> [Int] {
        try await db.raw(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                applied_at DOUBLE PRECISION NOT NULL
            )
            """
        ).run()
        let applied = Set(
            try await db.raw("SELECT version FROM schema_migrations").all().map { try $0.decode(column: "version", as: Int.self) })
        var ran: [Int] = []
        for migration in all.sorted(by: { $0.version < $1.version })
        where !applied.contains(migration.version) && migration.version <= through {
            for statement in migration.statements(for: flavor) {
                try await db.raw(SQLQueryString(statement)).run()
            }
            try await migration.step?(db, now)
            try await db.raw(
                """
                INSERT INTO schema_migrations (version, name, applied_at)
                VALUES (\(bind: migration.version), \(bind: migration.name), \(bind: now.timeIntervalSince1970))
                ON CONFLICT (version) DO NOTHING
                """
            ).run()
            ran.append(migration.version)
        }
        return ran
    }

    /// The highest applied version.
    public static func currentVersion(on db: any SQLDatabase) async throws -> Int {
        let row = try await db.raw("SELECT MAX(version) AS v FROM schema_migrations").first()
        return try row?.decode(column: "v", as: Int?.self) ?? 0
    }
}
