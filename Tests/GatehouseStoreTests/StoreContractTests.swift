import Foundation
import GatehouseCore
import GatehouseStore
import Testing

/// One contract for every backend: memory, SQLite in memory, SQLite on
/// disk. PostgreSQL joins this list when it lands.
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case memory, sqliteMemory, sqliteFile, postgres
    var testDescription: String { rawValue }

    /// PostgreSQL when `GATEHOUSE_TEST_POSTGRES_URL` names a server (`.ci/run` starts one).
    static var allCases: [Backend] {
        postgresURL == nil ? [.memory, .sqliteMemory, .sqliteFile] : [.memory, .sqliteMemory, .sqliteFile, .postgres]
    }
    static var postgresURL: String? { ProcessInfo.processInfo.environment["GATEHOUSE_TEST_POSTGRES_URL"] }
    /// The CA file of the test cluster's TLS certificate (`.ci/run` sets it).
    static var postgresAuthority: String? { ProcessInfo.processInfo.environment["GATEHOUSE_TEST_POSTGRES_CA"] }

    func open() async throws -> (any GatehouseStore, @Sendable () async throws -> Void) {
        switch self {
        case .postgres:
            let schema = "test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            let database = try await PostgresDatabase.open(url: Backend.postgresURL ?? "", poolSize: 4, searchPath: schema)
            return (
                database.store,
                {
                    try await database.store.db.raw("DROP SCHEMA \(ident: schema) CASCADE").run()
                    await database.close()
                }
            )
        case .memory:
            return (InMemoryStore(), {})
        case .sqliteMemory:
            let database = try await SQLiteDatabase.open(path: ":memory:")
            return (database.store, { try await database.close() })
        case .sqliteFile:
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-contract-\(UUID().uuidString)")
            let database = try await SQLiteDatabase.open(path: folder.appendingPathComponent("db.sqlite").path)
            return (
                database.store,
                {
                    try await database.close()
                    try? FileManager.default.removeItem(at: folder)
                }
            )
        }
    }
}

func withStore(_ backend: Backend, _ body: (any GatehouseStore) async throws -> Void) async throws {
    let (store, close) = try await backend.open()
    do { try await body(store) } catch {
        try await close()
        throw error
    }
    try await close()
}

let epoch = Date(timeIntervalSince1970: 1_800_000_000)

func sampleTenant(_ name: String = "contoso") throws -> Tenant {
    Tenant(
        name: try TenantName(name), id: UUID(), displayName: "Contoso Ltd", signingAlgorithm: .rs256, accessTokenLifetime: 900,
        createdAt: epoch)
}

func sampleClient(_ id: String = "svc", tenant: String = "contoso") throws -> Client {
    Client(
        tenant: try TenantName(tenant), id: try ClientID(id), name: "Service", type: .confidential,
        authMethods: [.clientSecretBasic, .privateKeyJWT], grantTypes: [.clientCredentials],
        allowedScopes: Scope(tokens: ["a", "b"]), defaultScopes: Scope(tokens: ["a"]),
        jwks: #"{"keys":[]}"#, createdAt: epoch)
}

@Suite struct StoreContractTests {
    @Test(arguments: Backend.allCases)
    func tenantsRoundTripAndConflict(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            let tenant = try sampleTenant()
            try await store.createTenant(tenant)
            #expect(try await store.tenant(named: tenant.name) == tenant)
            #expect(try await store.tenant(named: try TenantName("missing")) == nil)
            await #expect(throws: StoreError.self) { try await store.createTenant(tenant) }
            try await store.createTenant(try sampleTenant("alpha"))
            #expect(try await store.tenants().map(\.name.value) == ["alpha", "contoso"])
        }
    }

    @Test(arguments: Backend.allCases)
    func clientsRoundTripListAndRemove(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            try await store.createTenant(try sampleTenant())
            let client = try sampleClient()
            try await store.createClient(client)
            #expect(try await store.client(tenant: client.tenant, id: client.id) == client)
            await #expect(throws: StoreError.self) { try await store.createClient(client) }
            try await store.createClient(try sampleClient("another"))
            #expect(try await store.clients(tenant: client.tenant).map(\.id.value) == ["another", "svc"])
            let secret = ClientSecretRecord(
                tenant: client.tenant, clientID: client.id, secretID: "s1", hash: "ab", hint: "xyz", createdAt: epoch, expiresAt: nil)
            try await store.addSecret(secret)
            #expect(try await store.removeClient(tenant: client.tenant, id: client.id))
            #expect(try await store.client(tenant: client.tenant, id: client.id) == nil)
            #expect(try await store.secrets(tenant: client.tenant, clientID: client.id).isEmpty)
            #expect(try await store.removeClient(tenant: client.tenant, id: client.id) == false)
        }
    }

    /// A client's registration changes in place; its type, creation time and secrets stay.
    @Test(arguments: Backend.allCases)
    func aClientIsUpdatedInPlace(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            let tenant = try sampleTenant()
            try await store.createTenant(tenant)
            let original = try sampleClient()
            try await store.createClient(original)
            try await store.addSecret(
                ClientSecretRecord(
                    tenant: tenant.name, clientID: original.id, secretID: "s1", hash: "h", hint: "abc", createdAt: epoch, expiresAt: nil))
            var changed = original
            changed.name = "Renamed"
            changed.authMethods = [.clientSecretPost]
            changed.grantTypes = [.clientCredentials, .authorizationCode, .refreshToken]
            changed.allowedScopes = Scope(tokens: ["c"])
            changed.defaultScopes = Scope(tokens: ["c"])
            changed.jwks = nil
            changed.redirectURIs = ["https://app.example/cb", "http://127.0.0.1/cb"]
            changed.postLogoutRedirectURIs = ["https://app.example/bye"]
            changed.certificates = ["-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----"]
            changed.type = .public
            #expect(try await store.updateClient(changed))
            let stored = try #require(try await store.client(tenant: tenant.name, id: original.id))
            #expect(stored.name == "Renamed" && stored.authMethods == [.clientSecretPost])
            #expect(stored.grantTypes == [.clientCredentials, .authorizationCode, .refreshToken])
            #expect(stored.allowedScopes.tokens == ["c"] && stored.defaultScopes.tokens == ["c"] && stored.jwks == nil)
            #expect(stored.redirectURIs == changed.redirectURIs && stored.postLogoutRedirectURIs == changed.postLogoutRedirectURIs)
            #expect(stored.certificates == changed.certificates)
            #expect(stored.type == .confidential && stored.createdAt == original.createdAt)
            #expect(try await store.secrets(tenant: tenant.name, clientID: original.id).map(\.secretID) == ["s1"])
            var missing = changed
            missing = Client(
                tenant: tenant.name, id: try ClientID("nobody"), name: "x", type: .confidential, authMethods: [.clientSecretBasic],
                grantTypes: [], allowedScopes: .empty, defaultScopes: .empty, createdAt: epoch)
            #expect(try await store.updateClient(missing) == false)
            #expect(try await store.client(tenant: tenant.name, id: try ClientID("nobody")) == nil)
        }
    }

    @Test(arguments: Backend.allCases)
    func secretsAddListRemove(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            try await store.createTenant(try sampleTenant())
            let client = try sampleClient()
            try await store.createClient(client)
            let first = ClientSecretRecord(
                tenant: client.tenant, clientID: client.id, secretID: "s1", hash: "h1", hint: "abc", createdAt: epoch, expiresAt: nil)
            let second = ClientSecretRecord(
                tenant: client.tenant, clientID: client.id, secretID: "s2", hash: "h2", hint: "def", createdAt: epoch.addingTimeInterval(1),
                expiresAt: epoch.addingTimeInterval(86400))
            try await store.addSecret(first)
            try await store.addSecret(second)
            await #expect(throws: StoreError.self) { try await store.addSecret(first) }
            #expect(try await store.secrets(tenant: client.tenant, clientID: client.id) == [first, second])
            #expect(try await store.removeSecret(tenant: client.tenant, clientID: client.id, secretID: "s1"))
            #expect(try await store.removeSecret(tenant: client.tenant, clientID: client.id, secretID: "s1") == false)
            #expect(try await store.secrets(tenant: client.tenant, clientID: client.id) == [second])
        }
    }

    @Test(arguments: Backend.allCases)
    func keysRoundTrip(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            let tenant = try sampleTenant()
            try await store.createTenant(tenant)
            let active = try SigningKeyMaterial.generate(tenant: tenant.name, algorithm: .es256, kid: "k1", status: .active, now: epoch)
            let next = try SigningKeyMaterial.generate(
                tenant: tenant.name, algorithm: .es256, kid: "k2", status: .next, now: epoch.addingTimeInterval(1))
            try await store.addKey(active)
            try await store.addKey(next)
            await #expect(throws: StoreError.self) { try await store.addKey(active) }
            #expect(try await store.keys(tenant: tenant.name) == [active, next])
            #expect(try await store.keys(tenant: try TenantName("other")).isEmpty)
            #expect(try await store.setKeyStatus(tenant: tenant.name, kid: "k1", status: .retired))
            #expect(try await store.setKeyStatus(tenant: tenant.name, kid: "missing", status: .retired) == false)
            #expect(try await store.keys(tenant: tenant.name).map(\.status) == [.retired, .next])
            #expect(try await store.removeKey(tenant: tenant.name, kid: "k1"))
            #expect(try await store.removeKey(tenant: tenant.name, kid: "k1") == false)
            #expect(try await store.keys(tenant: tenant.name).map(\.kid) == ["k2"])
        }
    }

    @Test(arguments: Backend.allCases)
    func oneTimeValuesAreConsumedOnce(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            let expiry = epoch.addingTimeInterval(60)
            #expect(try await store.consumeOnce(key: "jti-1", expiresAt: expiry, now: epoch))
            #expect(try await store.consumeOnce(key: "jti-1", expiresAt: expiry, now: epoch.addingTimeInterval(30)) == false)
            #expect(try await store.consumeOnce(key: "jti-2", expiresAt: expiry, now: epoch))
            // Once expired, the value may be recorded again.
            #expect(try await store.consumeOnce(key: "jti-1", expiresAt: expiry.addingTimeInterval(120), now: expiry.addingTimeInterval(1)))
            #expect(try await store.purgeExpired(now: expiry.addingTimeInterval(5)) == 1)
            #expect(try await store.consumeOnce(key: "jti-2", expiresAt: expiry, now: epoch) == true)
        }
    }

    @Test(arguments: Backend.allCases)
    func concurrentConsumptionSucceedsExactlyOnce(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            let results = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<50 {
                    group.addTask { try await store.consumeOnce(key: "race", expiresAt: epoch.addingTimeInterval(60), now: epoch) }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(results.filter { $0 }.count == 1)
        }
    }

    @Test(arguments: Backend.allCases)
    func signInsAppendAndQuery(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            var events: [SignInEvent] = []
            for index in 0..<1_200 {
                events.append(
                    SignInEvent(
                        time: epoch.addingTimeInterval(Double(index)), tenant: index % 2 == 0 ? "contoso" : "fabrikam",
                        clientID: "client-\(index % 3)",
                        grantType: "client_credentials", scopes: "a b", result: index % 4 == 0 ? .failure : .success,
                        errorCode: index % 4 == 0 ? 70011 : nil,
                        error: index % 4 == 0 ? "invalid_scope" : nil, detail: nil, traceID: "trace-\(index)",
                        correlationID: "corr-\(index % 10)",
                        clientIP: "127.0.0.1", userAgent: "ua", latencyMicros: index))
            }
            try await store.append(events)
            let one = try await store.signIns(SignInQuery(traceID: "trace-8"))
            #expect(one == [events[8]])
            let failures = try await store.signIns(SignInQuery(tenant: "contoso", errorCode: 70011, limit: 10_000))
            #expect(failures.count == 300)
            #expect(failures.first?.time == epoch.addingTimeInterval(1196))
            let window = try await store.signIns(
                SignInQuery(clientID: "client-0", since: epoch.addingTimeInterval(100), until: epoch.addingTimeInterval(200), limit: 10_000)
            )
            #expect(window.count == 33 && window.allSatisfy { $0.clientID == "client-0" })
            #expect(try await store.signIns(SignInQuery(limit: 5)).count == 5)
            #expect(try await store.signIns(SignInQuery(correlationID: "corr-3", result: .success, limit: 10_000)).count == 120)
            #expect(try await store.purgeSignIns(before: epoch.addingTimeInterval(1000)) == 1000)
            #expect(try await store.signIns(SignInQuery(limit: 10_000)).count == 200)
            #expect(try await store.signIns(SignInQuery(traceID: "trace-8")).isEmpty)
        }
    }

    @Test(arguments: Backend.allCases)
    func settingsInsertIfAbsent(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            #expect(try await store.setting("k", insertingIfAbsent: "first") == "first")
            #expect(try await store.setting("k", insertingIfAbsent: "second") == "first")
        }
    }
}

@Suite struct MigrationTests {
    @Test func migrationsAreVersionedAndRunOnce() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-migrate-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("db.sqlite").path
        let first = try await SQLiteDatabase.open(path: path)
        try await first.store.createTenant(try sampleTenant())
        #expect(try await Migrations.currentVersion(on: first.store.db) == Migrations.all.map(\.version).max())
        #expect(try await Migrations.run(on: first.store.db).isEmpty)
        try await first.close()
        // Reopening keeps the data and applies nothing twice.
        let second = try await SQLiteDatabase.open(path: path)
        #expect(try await second.store.tenants().count == 1)
        try await second.close()
    }
}

@Suite struct EntraStoreContractTests {
    @Test(arguments: Backend.allCases)
    func tenantsByGUIDClientsAcrossTenantsAndCertificates(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let contoso = try sampleTenant("contoso")
            let fabrikam = try sampleTenant("fabrikam.example")
            try await store.createTenant(contoso)
            try await store.createTenant(fabrikam)
            #expect(try await store.tenant(id: contoso.id)?.name == contoso.name)
            #expect(try await store.tenant(id: UUID()) == nil)
            for tenant in [contoso, fabrikam] {
                try await store.createClient(
                    Client(
                        tenant: tenant.name, id: try ClientID("shared"), name: "s", type: .confidential, authMethods: [.clientSecretPost],
                        grantTypes: [.clientCredentials], allowedScopes: .empty, defaultScopes: .empty,
                        createdAt: epoch))
            }
            try await store.createClient(
                Client(
                    tenant: contoso.name, id: try ClientID("solo"), name: "s", type: .confidential, authMethods: [.privateKeyJWT],
                    grantTypes: [.clientCredentials], allowedScopes: .empty, defaultScopes: .empty,
                    certificates: ["-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"], createdAt: epoch))
            #expect(try await store.tenantsWithClient(id: try ClientID("shared")).map(\.value) == ["contoso", "fabrikam.example"])
            #expect(try await store.tenantsWithClient(id: try ClientID("solo")).map(\.value) == ["contoso"])
            #expect(try await store.tenantsWithClient(id: try ClientID("none")).isEmpty)
            #expect(try await store.client(tenant: contoso.name, id: try ClientID("solo"))?.certificates.count == 1)
            let two = [
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
                "-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----",
            ]
            #expect(try await store.setCertificates(tenant: contoso.name, id: try ClientID("solo"), certificates: two))
            #expect(try await store.client(tenant: contoso.name, id: try ClientID("solo"))?.certificates == two)
            #expect(try await !store.setCertificates(tenant: contoso.name, id: try ClientID("none"), certificates: two))
        }
    }
}

/// PostgreSQL's native types (migration 7, `SQLFlavor`): a database written before them keeps
/// every instant and flag, and new rows round-trip.
@Suite(.enabled(if: Backend.postgresURL != nil)) struct PostgresNativeTypeTests {
    @Test func aVersion6DatabaseUpgradesItsInstantsAndFlags() async throws {
        let schema = "test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let old = try await PostgresDatabase.open(url: Backend.postgresURL ?? "", poolSize: 2, searchPath: schema, migrateThrough: 6)
        try await old.store.db.raw(
            """
            INSERT INTO tenants (name, id, display_name, signing_algorithm, access_token_lifetime, created_at)
            VALUES ('t', \(bind: UUID().uuidString), 'T', 'ES256', 3600, 1700000000.5)
            """
        ).run()
        try await old.store.db.raw(
            """
            INSERT INTO users (tenant, user_id, username, email, display_name, password_hash, enabled, totp_secret, created_at, updated_at)
            VALUES ('t', 'u1', 'ann', NULL, 'Ann', 'x', 1, NULL, 1700000000.25, 1700000001.5), ('t', 'u2', 'bob', NULL, 'Bob', 'x', 0, NULL, 1700000000, 1700000000)
            """
        ).run()
        await old.close()
        let new = try await PostgresDatabase.open(url: Backend.postgresURL ?? "", poolSize: 2, searchPath: schema)
        let types = try await new.store.db.raw(
            """
            SELECT table_name, column_name, data_type FROM information_schema.columns
            WHERE table_schema = \(bind: schema) AND column_name IN ('created_at', 'enabled', 'aggregated', 'revoked_at')
            """
        ).all().map {
            try
                "\($0.decode(column: "table_name", as: String.self)).\($0.decode(column: "column_name", as: String.self))=\($0.decode(column: "data_type", as: String.self))"
        }
        #expect(types.contains("users.enabled=boolean") && types.contains("sign_ins.aggregated=boolean"))
        #expect(
            types.contains("grants.revoked_at=timestamp with time zone") && types.contains("tenants.created_at=timestamp with time zone"))
        let tenant = try TenantName("t")
        let ann = try #require(try await new.store.user(tenant: tenant, username: try Username("ann")))
        #expect(ann.enabled && ann.createdAt == Date(timeIntervalSince1970: 1_700_000_000.25))
        #expect(ann.updatedAt == Date(timeIntervalSince1970: 1_700_000_001.5))
        #expect(try await new.store.user(tenant: tenant, username: try Username("bob"))?.enabled == false)
        #expect(try await new.store.tenant(named: tenant)?.createdAt == Date(timeIntervalSince1970: 1_700_000_000.5))
        try await new.store.db.raw("DROP SCHEMA \(ident: schema) CASCADE").run()
        await new.close()
    }
}

/// TLS to PostgreSQL: with `sslmode=verify-full&sslrootcert=CA` the connection is encrypted and
/// the server's certificate checked against that CA; without the CA, the same server is refused
/// (its certificate chains to no trusted root) with one line, not a stack trace.
@Suite(.enabled(if: Backend.postgresURL != nil && Backend.postgresAuthority != nil)) struct PostgresTLSTests {
    static var authority: String? { Backend.postgresAuthority }

    static func url(_ query: String) -> String {
        let base = Backend.postgresURL ?? ""
        return String(base[..<(base.firstIndex(of: "?") ?? base.endIndex)]) + "?" + query
    }

    @Test func theConnectionIsEncryptedAndTheCertificateVerified() async throws {
        let database = try await PostgresDatabase.open(
            url: Self.url("sslmode=verify-full&sslrootcert=\(Self.authority ?? "")"), poolSize: 1, searchPath: "test_tls")
        let row = try await database.store.db.raw("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").first()
        #expect(try row?.decode(column: "ssl", as: Bool.self) == true)
        try await database.store.db.raw("DROP SCHEMA test_tls CASCADE").run()
        await database.close()
    }

    @Test func aCertificateFromAnUnknownAuthorityIsRefused() async throws {
        let started = ContinuousClock.now
        do {
            let database = try await PostgresDatabase.open(url: Self.url("sslmode=require"), poolSize: 1)
            await database.close()
            Issue.record("connected to a server whose certificate no trusted root signs")
        } catch let error as PostgresURLError {
            // With the reason (not the 5 s deadline's "no answer"), on one line, and without
            // waiting out a retry loop (the margin is for a loaded machine: 5.7 s was seen at the
            // suite's start on two cores).
            #expect(ContinuousClock.now - started < .seconds(15))
            #expect(!error.description.contains("\n") && error.description.uppercased().contains("CERTIFICATE"), "\(error)")
        }
        await #expect(throws: PostgresURLError.self) {
            try await PostgresDatabase.open(url: Self.url("sslmode=require&sslrootcert=/nonexistent/ca.pem"), poolSize: 1)
        }
    }

    @Test func anUnknownDatabaseIsNamedAtOnce() async throws {
        let base = Backend.postgresURL ?? ""
        let url = base.replacingOccurrences(of: "/postgres?", with: "/no_such_database?")
        let started = ContinuousClock.now
        do {
            _ = try await PostgresDatabase.open(url: url, poolSize: 1)
            Issue.record("opened a database that does not exist")
        } catch let error as PostgresURLError {
            // Named (not the deadline's "no answer"); the margin is for a loaded machine.
            #expect(ContinuousClock.now - started < .seconds(15))
            #expect(error.description.contains("no_such_database") && error.description.contains("does not exist"), "\(error)")
        }
    }
}
