import Foundation
import GatehouseCore
import Logging
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
    var flavor: SQLFlavor {
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

    // MARK: Tenants

    public func createTenant(_ tenant: Tenant) async throws {
        try await countingChange {
            let rows = try await db.raw(
                """
                INSERT INTO tenants (name, id, display_name, signing_algorithm, access_token_lifetime, created_at, sign_in_log)
                VALUES (\(bind: tenant.name.value), \(bind: tenant.id.uuidString.lowercased()), \(bind: tenant.displayName),
                        \(bind: tenant.signingAlgorithm.rawValue), \(bind: tenant.accessTokenLifetime), \(bind: tenant.createdAt),
                        \(bind: tenant.signInLog.rawValue))
                ON CONFLICT DO NOTHING RETURNING name
                """
            ).all()
            if rows.isEmpty { throw StoreError.conflict("tenant \(tenant.name)") }
        }
    }

    public func tenant(named name: TenantName) async throws -> Tenant? {
        try await db.raw("SELECT * FROM tenants WHERE name = \(bind: name.value)").first().map(Self.tenant)
    }

    public func tenant(id: UUID) async throws -> Tenant? {
        try await db.raw("SELECT * FROM tenants WHERE id = \(bind: id.uuidString.lowercased())").first().map(Self.tenant)
    }

    public func tenantsWithClient(id: ClientID) async throws -> [TenantName] {
        try await db.raw("SELECT tenant FROM clients WHERE client_id = \(bind: id.value) ORDER BY tenant").all()
            .map { try TenantName(try $0.decode(column: "tenant", as: String.self)) }
    }

    public func tenants() async throws -> [Tenant] {
        try await db.raw("SELECT * FROM tenants ORDER BY name").all().map(Self.tenant)
    }

    static func tenant(_ row: any SQLRow) throws -> Tenant {
        let name = try row.decode(column: "name", as: String.self)
        return Tenant(
            name: try TenantName(name),
            id: try parse(row, "id", table: "tenants", key: name, UUID.init(uuidString:)),
            displayName: try row.decode(column: "display_name", as: String.self),
            signingAlgorithm: try parse(row, "signing_algorithm", table: "tenants", key: name, SigningAlgorithm.init(rawValue:)),
            accessTokenLifetime: try row.decode(column: "access_token_lifetime", as: Int.self),
            createdAt: try row.decode(column: "created_at", as: Date.self),
            signInLog: try parse(row, "sign_in_log", table: "tenants", key: name, SignInLogMode.init(rawValue:)),
            keyRotationInterval: try row.decode(column: "key_rotation_seconds", as: Int?.self).map(TimeInterval.init))
    }

    public func setKeyRotation(_ interval: TimeInterval?, tenant: TenantName) async throws -> Bool {
        try await countingChange {
            !(try await db.raw(
                """
                UPDATE tenants SET key_rotation_seconds = \(bind: interval.map { Int($0) }) WHERE name = \(bind: tenant.value) RETURNING name
                """
            ).all()).isEmpty
        }
    }

    // MARK: Leases

    public func acquireLease(_ name: String, holder: String, until: Date, now: Date) async throws -> Bool {
        // One statement: inserted, or taken over only from the same holder or an expired one.
        !(try await db.raw(
            """
            INSERT INTO leases (name, holder, expires_at) VALUES (\(bind: name), \(bind: holder), \(bind: until))
            ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
            WHERE leases.holder = excluded.holder OR leases.expires_at < \(bind: now)
            RETURNING name
            """
        ).all()).isEmpty
    }

    public func setSignInLogMode(_ mode: SignInLogMode, tenant: TenantName) async throws -> Bool {
        try await countingChange {
            !(try await db.raw(
                "UPDATE tenants SET sign_in_log = \(bind: mode.rawValue) WHERE name = \(bind: tenant.value) RETURNING name"
            ).all()).isEmpty
        }
    }

    // MARK: Clients

    public func createClient(_ client: Client) async throws {
        try await countingChange {
            let rows = try await db.raw(
                """
                INSERT INTO clients (tenant, client_id, name, client_type, auth_methods, grant_types, allowed_scopes, default_scopes, allowed_resources, jwks, redirect_uris, post_logout_redirect_uris, certificates, created_at)
                VALUES (\(bind: client.tenant.value), \(bind: client.id.value), \(bind: client.name), \(bind: client.type.rawValue),
                        \(bind: client.authMethods.map(\.rawValue).sorted().joined(separator: " ")),
                        \(bind: client.grantTypes.map(\.rawValue).sorted().joined(separator: " ")),
                        \(bind: client.allowedScopes.description), \(bind: client.defaultScopes.description),
                        \(bind: client.allowedResources.map(\.value).joined(separator: " ")), \(bind: client.jwks),
                        \(bind: client.redirectURIs.joined(separator: " ")), \(bind: client.postLogoutRedirectURIs.joined(separator: " ")),
                        \(bind: client.certificates.joined(separator: "\n")), \(bind: client.createdAt))
                ON CONFLICT DO NOTHING RETURNING client_id
                """
            ).all()
            if rows.isEmpty { throw StoreError.conflict("client \(client.id)") }
        }
    }

    public func client(tenant: TenantName, id: ClientID) async throws -> Client? {
        try await db.raw("SELECT * FROM clients WHERE tenant = \(bind: tenant.value) AND client_id = \(bind: id.value)").first().map(
            Self.client)
    }

    public func clients(tenant: TenantName) async throws -> [Client] {
        try await db.raw("SELECT * FROM clients WHERE tenant = \(bind: tenant.value) ORDER BY client_id").all().map(Self.client)
    }

    /// A column read into a value type; a value that does not parse is `StoreError.corrupt`
    /// naming the table, the row's key and the column, never a silent default.
    static func parse<T>(_ row: any SQLRow, _ column: String, table: String, key: String, _ make: (String) -> T?) throws -> T {
        let raw = try row.decode(column: column, as: String.self)
        guard let value = make(raw) else {
            throw StoreError.corrupt("\(table) \(key): \(column) '\(raw.prefix(64))'")
        }
        return value
    }

    static func words(_ value: String) -> [String] { value.split(separator: " ").map(String.init) }

    static func client(_ row: any SQLRow) throws -> Client {
        let tenant = try row.decode(column: "tenant", as: String.self)
        let id = try row.decode(column: "client_id", as: String.self)
        return Client(
            tenant: try TenantName(tenant),
            id: try ClientID(id),
            name: try row.decode(column: "name", as: String.self),
            type: try parse(row, "client_type", table: "clients", key: "\(tenant)/\(id)", ClientType.init(rawValue:)),
            authMethods: Set(words(try row.decode(column: "auth_methods", as: String.self)).compactMap(ClientAuthMethod.init(rawValue:))),
            grantTypes: Set(words(try row.decode(column: "grant_types", as: String.self)).map(GrantType.init(rawValue:))),
            allowedScopes: Scope(tokens: words(try row.decode(column: "allowed_scopes", as: String.self))),
            defaultScopes: Scope(tokens: words(try row.decode(column: "default_scopes", as: String.self))),
            allowedResources: words(try row.decode(column: "allowed_resources", as: String.self)).compactMap { try? ResourceIndicator($0) },
            jwks: try row.decode(column: "jwks", as: String?.self),
            redirectURIs: words(try row.decode(column: "redirect_uris", as: String.self)),
            postLogoutRedirectURIs: words(try row.decode(column: "post_logout_redirect_uris", as: String.self)),
            certificates: ClientCertificate.pemBlocks(try row.decode(column: "certificates", as: String.self)),
            createdAt: try row.decode(column: "created_at", as: Date.self))
    }

    public func setCertificates(tenant: TenantName, id: ClientID, certificates: [String]) async throws -> Bool {
        try await countingChange {
            try await db.raw(
                """
                UPDATE clients SET certificates = \(bind: certificates.joined(separator: "\n"))
                WHERE tenant = \(bind: tenant.value) AND client_id = \(bind: id.value) RETURNING client_id
                """
            ).first() != nil
        }
    }

    public func removeClient(tenant: TenantName, id: ClientID) async throws -> Bool {
        try await countingChange {
            try await transaction {
                try await db.raw("DELETE FROM client_secrets WHERE tenant = \(bind: tenant.value) AND client_id = \(bind: id.value)").run()
                let rows = try await db.raw(
                    "DELETE FROM clients WHERE tenant = \(bind: tenant.value) AND client_id = \(bind: id.value) RETURNING client_id"
                ).all()
                return !rows.isEmpty
            }
        }
    }

    public func addSecret(_ secret: ClientSecretRecord) async throws {
        try await countingChange {
            let rows = try await db.raw(
                """
                INSERT INTO client_secrets (tenant, client_id, secret_id, hash, hint, created_at, expires_at)
                VALUES (\(bind: secret.tenant.value), \(bind: secret.clientID.value), \(bind: secret.secretID), \(bind: secret.hash),
                        \(bind: secret.hint), \(bind: secret.createdAt), \(bind: secret.expiresAt))
                ON CONFLICT DO NOTHING RETURNING secret_id
                """
            ).all()
            if rows.isEmpty { throw StoreError.conflict("secret \(secret.secretID)") }
        }
    }

    public func secrets(tenant: TenantName, clientID: ClientID) async throws -> [ClientSecretRecord] {
        try await db.raw(
            """
            SELECT * FROM client_secrets WHERE tenant = \(bind: tenant.value) AND client_id = \(bind: clientID.value) ORDER BY created_at, secret_id
            """
        ).all().map { row in
            ClientSecretRecord(
                tenant: try TenantName(try row.decode(column: "tenant", as: String.self)),
                clientID: try ClientID(try row.decode(column: "client_id", as: String.self)),
                secretID: try row.decode(column: "secret_id", as: String.self),
                hash: try row.decode(column: "hash", as: String.self),
                hint: try row.decode(column: "hint", as: String.self),
                createdAt: try row.decode(column: "created_at", as: Date.self),
                expiresAt: try row.decode(column: "expires_at", as: Date?.self))
        }
    }

    public func removeSecret(tenant: TenantName, clientID: ClientID, secretID: String) async throws -> Bool {
        try await countingChange {
            !(try await db.raw(
                """
                DELETE FROM client_secrets WHERE tenant = \(bind: tenant.value) AND client_id = \(bind: clientID.value) AND secret_id = \(bind: secretID)
                RETURNING secret_id
                """
            ).all()).isEmpty
        }
    }

    // MARK: Keys

    public func addKey(_ key: SigningKeyRecord) async throws {
        try await countingChange {
            let rows = try await db.raw(
                """
                INSERT INTO signing_keys (tenant, kid, algorithm, private_key, status, created_at)
                VALUES (\(bind: key.tenant.value), \(bind: key.kid), \(bind: key.algorithm.rawValue),
                        \(bind: try sealed(key.privateKey, Self.keyContext(key.tenant.value, key.kid))),
                        \(bind: key.status.rawValue), \(bind: key.createdAt))
                ON CONFLICT DO NOTHING RETURNING kid
                """
            ).all()
            if rows.isEmpty { throw StoreError.conflict("key \(key.kid)") }
        }
    }

    /// A tenant's keys. A key stored unencrypted in a database whose secrets are encrypted at rest
    /// is left out (never signs, never published) and reported at every load (`KEKError.unsealed`).
    public func keys(tenant: TenantName) async throws -> [SigningKeyRecord] {
        try await db.raw("SELECT * FROM signing_keys WHERE tenant = \(bind: tenant.value) ORDER BY created_at, kid").all().compactMap {
            row in
            let kid = try row.decode(column: "kid", as: String.self)
            let privateKey: String
            do {
                privateKey = try opened(try row.decode(column: "private_key", as: String.self), Self.keyContext(tenant.value, kid))
            } catch let refused as KEKError {
                guard case .unsealed = refused else { throw refused }
                Self.refusalLog.error("\(refused)")
                return nil
            }
            return SigningKeyRecord(
                tenant: tenant,
                kid: kid,
                algorithm: try Self.parse(
                    row, "algorithm", table: "signing_keys", key: "\(tenant)/\(kid)", SigningAlgorithm.init(rawValue:)),
                privateKey: privateKey,
                status: try Self.parse(row, "status", table: "signing_keys", key: "\(tenant)/\(kid)", KeyStatus.init(rawValue:)),
                createdAt: try row.decode(column: "created_at", as: Date.self),
                retiredAt: try row.decode(column: "retired_at", as: Date?.self))
        }
    }

    public func setKeyStatus(tenant: TenantName, kid: String, status: KeyStatus) async throws -> Bool {
        try await countingChange {
            !(try await db.raw(
                """
                UPDATE signing_keys SET status = \(bind: status.rawValue) WHERE tenant = \(bind: tenant.value) AND kid = \(bind: kid) RETURNING kid
                """
            ).all()).isEmpty
        }
    }

    public func rotateKeys(tenant: TenantName, promote kid: String, newNext: SigningKeyRecord) async throws -> Bool {
        try await countingChange {
            try await transaction {
                let promoted = try await db.raw(
                    """
                    UPDATE signing_keys SET status = 'active' WHERE tenant = \(bind: tenant.value) AND kid = \(bind: kid) AND status = 'next'
                    RETURNING kid
                    """
                ).all()
                guard !promoted.isEmpty else { return false }
                try await db.raw(
                    """
                    UPDATE signing_keys SET status = 'retired', retired_at = \(bind: newNext.createdAt)
                    WHERE tenant = \(bind: tenant.value) AND status = 'active' AND kid <> \(bind: kid)
                    """
                ).run()
                try await addKey(newNext)
                return true
            }
        }
    }

    public func removeKey(tenant: TenantName, kid: String) async throws -> Bool {
        try await countingChange {
            !(try await db.raw("DELETE FROM signing_keys WHERE tenant = \(bind: tenant.value) AND kid = \(bind: kid) RETURNING kid").all())
                .isEmpty
        }
    }

    // MARK: One-time values

    public func consumeOnce(key: String, expiresAt: Date, now: Date) async throws -> Bool {
        // One conditional statement: inserts, or takes over an expired row; a live row returns nothing.
        let rows = try await db.raw(
            """
            INSERT INTO one_time_values (value_key, expires_at) VALUES (\(bind: key), \(bind: expiresAt))
            ON CONFLICT (value_key) DO UPDATE SET expires_at = excluded.expires_at
            WHERE one_time_values.expires_at < \(bind: now)
            RETURNING value_key
            """
        ).all()
        return !rows.isEmpty
    }

    public func purgeExpired(now: Date, limit: Int) async throws -> Int {
        try await db.raw(
            """
            DELETE FROM one_time_values WHERE value_key IN (
                SELECT value_key FROM one_time_values WHERE expires_at < \(bind: now) LIMIT \(bind: max(0, limit)))
            RETURNING value_key
            """
        ).all().count
    }

    // MARK: Sign-in log

    public func append(_ events: [SignInEvent]) async throws {
        for chunk in stride(from: 0, to: events.count, by: 500).map({ events[$0..<min($0 + 500, events.count)] }) {
            let insert = db.insert(into: "sign_ins").columns(
                "time", "tenant", "client_id", "grant_type", "scopes", "result", "error_code", "error", "detail",
                "trace_id", "correlation_id", "client_ip", "user_agent", "latency_us", "aggregated")
            for event in chunk {
                insert.values([
                    SQLBind(event.time), SQLBind(event.tenant), SQLBind(event.clientID), SQLBind(event.grantType),
                    SQLBind(event.scopes), SQLBind(event.result.rawValue), SQLBind(event.errorCode), SQLBind(event.error),
                    SQLBind(event.detail),
                    SQLBind(event.traceID), SQLBind(event.correlationID), SQLBind(event.clientIP), SQLBind(event.userAgent),
                    SQLBind(event.latencyMicros), SQLBind(event.countedInAggregate),
                ])
            }
            try await insert.run()
        }
    }

    public func signIns(_ query: SignInQuery) async throws -> [SignInEvent] {
        let select = db.select().column("*").from("sign_ins")
        if let traceID = query.traceID { select.where("trace_id", .equal, traceID) }
        if let correlationID = query.correlationID { select.where("correlation_id", .equal, correlationID) }
        if let tenant = query.tenant { select.where("tenant", .equal, tenant) }
        if let clientID = query.clientID { select.where("client_id", .equal, clientID) }
        if let errorCode = query.errorCode { select.where("error_code", .equal, errorCode) }
        if let result = query.result { select.where("result", .equal, result.rawValue) }
        if let since = query.since { select.where("time", .greaterThanOrEqual, since) }
        if let until = query.until { select.where("time", .lessThanOrEqual, until) }
        return try await select.orderBy("time", .descending).limit(query.limit).all().map { row in
            let traceID = try row.decode(column: "trace_id", as: String.self)
            return SignInEvent(
                time: try row.decode(column: "time", as: Date.self),
                tenant: try row.decode(column: "tenant", as: String.self),
                clientID: try row.decode(column: "client_id", as: String?.self),
                grantType: try row.decode(column: "grant_type", as: String?.self),
                scopes: try row.decode(column: "scopes", as: String?.self),
                result: try Self.parse(row, "result", table: "sign_ins", key: traceID, SignInEvent.Result.init(rawValue:)),
                errorCode: try row.decode(column: "error_code", as: Int?.self),
                error: try row.decode(column: "error", as: String?.self),
                detail: try row.decode(column: "detail", as: String?.self),
                traceID: traceID,
                correlationID: try row.decode(column: "correlation_id", as: String.self),
                clientIP: try row.decode(column: "client_ip", as: String?.self),
                userAgent: try row.decode(column: "user_agent", as: String?.self),
                latencyMicros: try row.decode(column: "latency_us", as: Int.self),
                countedInAggregate: try row.decode(column: "aggregated", as: Bool.self))
        }
    }

    /// One bounded batch: the rows older than `cutoff` up to the time of the `limit`-th oldest.
    public func purgeSignIns(before cutoff: Date, limit: Int) async throws -> Int {
        let cut = cutoff
        return try await db.raw(
            """
            DELETE FROM sign_ins WHERE time < \(bind: cut) AND time <= COALESCE(
                (SELECT time FROM sign_ins WHERE time < \(bind: cut) ORDER BY time LIMIT 1 OFFSET \(bind: max(0, limit - 1))), \(bind: cut))
            RETURNING aggregated
            """
        ).all().count
    }

    static let bucketColumns = (0..<LatencyBuckets.count).map { "b\($0)" }

    public func addSignInAggregates(_ aggregates: [SignInAggregate]) async throws {
        let buckets = Self.bucketColumns
        let sums = buckets.map { "\($0) = sign_in_aggregates.\($0) + excluded.\($0)" }.joined(separator: ", ")
        for aggregate in aggregates {
            let key = aggregate.key
            var values: [any Encodable & Sendable] = [
                key.tenant, key.clientID, key.step, key.result.rawValue, key.errorCode, key.minute, aggregate.count,
            ]
            values += buckets.indices.map { aggregate.buckets.indices.contains($0) ? aggregate.buckets[$0] : 0 }
            values += [
                aggregate.latencySumMicros, aggregate.firstTime, aggregate.lastTime,
                aggregate.firstTraceID, aggregate.lastTraceID,
            ]
            let columns =
                ["tenant", "client_id", "step", "result", "error_code", "minute", "count"] + buckets
                + ["latency_sum_us", "first_time", "last_time", "first_trace_id", "last_trace_id"]
            // One statement per key: SET expressions read the row as it was, so concurrent
            // writers (other flushes, other nodes) add up.
            try await db.raw(
                """
                INSERT INTO sign_in_aggregates (\(unsafeRaw: columns.joined(separator: ", ")))
                VALUES (\(SQLList(values.map { SQLBind($0) })))
                ON CONFLICT (tenant, client_id, step, result, error_code, minute) DO UPDATE SET
                    count = sign_in_aggregates.count + excluded.count, \(unsafeRaw: sums),
                    latency_sum_us = sign_in_aggregates.latency_sum_us + excluded.latency_sum_us,
                    first_trace_id = CASE WHEN excluded.first_trace_id < sign_in_aggregates.first_trace_id
                        THEN excluded.first_trace_id ELSE sign_in_aggregates.first_trace_id END,
                    first_time = CASE WHEN excluded.first_time < sign_in_aggregates.first_time
                        THEN excluded.first_time ELSE sign_in_aggregates.first_time END,
                    last_trace_id = CASE WHEN excluded.last_trace_id > sign_in_aggregates.last_trace_id
                        THEN excluded.last_trace_id ELSE sign_in_aggregates.last_trace_id END,
                    last_time = CASE WHEN excluded.last_time > sign_in_aggregates.last_time
                        THEN excluded.last_time ELSE sign_in_aggregates.last_time END
                """
            ).run()
        }
    }

    public func signInAggregates(_ query: SignInAggregateQuery) async throws -> [SignInAggregate] {
        let select = db.select().column("*").from("sign_in_aggregates")
        if let tenant = query.tenant { select.where("tenant", .equal, tenant) }
        if let clientID = query.clientID { select.where("client_id", .equal, clientID) }
        if let from = query.fromMinute { select.where("minute", .greaterThanOrEqual, from) }
        if let to = query.toMinute { select.where("minute", .lessThanOrEqual, to) }
        return try await select.orderBy("minute", .descending).orderBy("last_time", .descending).limit(query.limit).all().map { row in
            let minute = try row.decode(column: "minute", as: Int.self)
            let parsed = try Self.parse(
                row, "result", table: "sign_in_aggregates", key: "minute \(minute)", SignInEvent.Result.init(rawValue:))
            return SignInAggregate(
                key: SignInAggregate.Key(
                    tenant: try row.decode(column: "tenant", as: String.self),
                    clientID: try row.decode(column: "client_id", as: String.self),
                    step: try row.decode(column: "step", as: String.self), result: parsed,
                    errorCode: try row.decode(column: "error_code", as: Int.self), minute: try row.decode(column: "minute", as: Int.self)),
                count: try row.decode(column: "count", as: Int.self),
                buckets: try Self.bucketColumns.map { try row.decode(column: $0, as: Int.self) },
                latencySumMicros: try row.decode(column: "latency_sum_us", as: Int.self),
                firstTime: try row.decode(column: "first_time", as: Date.self),
                lastTime: try row.decode(column: "last_time", as: Date.self),
                firstTraceID: try row.decode(column: "first_trace_id", as: String.self),
                lastTraceID: try row.decode(column: "last_trace_id", as: String.self))
        }
    }

    /// One bounded batch, like `purgeSignIns`: whole minutes, oldest first.
    public func purgeSignInAggregates(before cutoff: Date, limit: Int) async throws -> Int {
        let minute = Int((cutoff.timeIntervalSince1970 / 60).rounded(.down))
        return try await db.raw(
            """
            DELETE FROM sign_in_aggregates WHERE minute < \(bind: minute) AND minute <= COALESCE(
                (SELECT minute FROM sign_in_aggregates WHERE minute < \(bind: minute) ORDER BY minute LIMIT 1 OFFSET \(bind: max(0, limit - 1))),
                \(bind: minute))
            RETURNING count
            """
        ).all().count
    }

    /// Where a refused secret is reported (`KEKError.unsealed`).
    static let refusalLog = Logger(label: "gatehouse.store")

    // MARK: Settings

    public func setting(_ key: String, insertingIfAbsent proposed: String) async throws -> String {
        let stored = try sealed(proposed, Self.settingContext(key))
        try await db.raw("INSERT INTO settings (setting_key, value) VALUES (\(bind: key), \(bind: stored)) ON CONFLICT DO NOTHING").run()
        guard let row = try await db.raw("SELECT value FROM settings WHERE setting_key = \(bind: key)").first() else { return proposed }
        return try opened(try row.decode(column: "value", as: String.self), Self.settingContext(key))
    }
}
