import Foundation
import GatehouseCore
import GatehouseServer
import GatehouseStore
import HTTPTypes
import HummingbirdTesting
import Testing

/// Migration 11 turns what `clients create --resource --scope` stored on clients before APIs were
/// objects into APIs and grants. The database is made by migrations 1-10 with clients written as
/// that version wrote them; after the upgrade, every token request those clients could make
/// answers as the version before answered it (the expected answers below are that version's:
/// status, catalogue code, `scope`, `aud`, roles), except one change made on purpose: a v2.0
/// (Entra) token's `aud` is now the API's application ID, as on the Microsoft identity platform.
@Suite struct APIMigrationTests {
    enum Backend: String, CaseIterable, Sendable {
        case sqlite, postgres
        static var allCases: [Backend] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }
        static var postgresURL: String? { ProcessInfo.processInfo.environment["GATEHOUSE_TEST_POSTGRES_URL"] }
    }

    /// Opens the database of `backend` at `place` (a file, or a schema), migrated through `version`.
    static func open(_ backend: Backend, _ place: String, through version: Int = .max) async throws -> (
        any GatehouseStore & ClientStore, SQLStore, @Sendable () async throws -> Void
    ) {
        switch backend {
        case .sqlite:
            let database = try await SQLiteDatabase.open(path: place, migrateThrough: version)
            return (database.store, database.store, { try await database.close() })
        case .postgres:
            let database = try await PostgresDatabase.open(
                url: Backend.postgresURL ?? "", poolSize: 2, searchPath: place, migrateThrough: version)
            return (database.store, database.store, { await database.close() })
        }
    }

    static func gatehouse(_ store: any GatehouseStore) -> Gatehouse {
        var configuration = ServerConfiguration(baseURL: Harness.baseURL)
        configuration.cacheTTL = 0
        configuration.passwordHashCost = 4
        configuration.throttling = .off
        return Gatehouse(configuration: configuration, store: store, hasher: SecretHasher(key: Data("test-hash-key".utf8)))
    }

    /// Clients as the version before APIs wrote them: `allowed_resources` on the client.
    static let oldClients: [(id: String, type: String, grants: String, scopes: String, defaults: String, resources: String)] = [
        ("daemon", "confidential", "client_credentials", "read write", "read", "https://api.example.com urn:example:other"),
        ("daemon2", "confidential", "client_credentials", "read", "read", "https://api.example.com"),
        ("plain", "confidential", "client_credentials", "plain.read", "plain.read", ""),
        (
            "entra", "confidential", "client_credentials", "api://orders/Orders.Read api://orders/Orders.Write",
            "api://orders/Orders.Read", "api://orders"
        ),
        // A middle tier, and a client of its API named `api://{its client ID}`.
        ("middle", "confidential", "client_credentials", "x", "x", ""),
        ("front", "public", "password", "api://middle/access_as_user", "api://middle/access_as_user", "api://middle"),
        // The README's MSAL recipe: a public client with the password grant.
        (
            "msal", "public", "password refresh_token", "api://orders/Orders.Read", "api://orders/Orders.Read",
            "api://orders"
        ),
    ]

    @Test(arguments: Backend.allCases)
    func everyTokenRequestAnswersAsBeforeTheMigration(backend: Backend) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-apimigration-\(UUID().uuidString)")
        let place =
            backend == .sqlite
            ? folder.appendingPathComponent("db.sqlite").path
            : "test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let tenant = try TenantName(Harness.tenant)
        var secrets: [String: String] = [:]
        // The old database: tenant, keys, a user, and the clients as that version stored them.
        do {
            let (store, sql, close) = try await Self.open(backend, place, through: 10)
            // The tenant, its keys and a user, written at the store as that version had them (today's
            // administration service writes rows and columns that version did not have).
            let now = Date()
            try await sql.db.raw(
                """
                INSERT INTO tenants (name, id, display_name, signing_algorithm, access_token_lifetime, created_at, sign_in_log)
                VALUES (\(bind: tenant.value), \(bind: UUID().uuidString.lowercased()), \(bind: tenant.value), 'ES256', 3600, \(bind: now),
                        'aggregate')
                """
            ).run()
            for status in [KeyStatus.active, .next] {
                try await store.addKey(
                    try SigningKeyMaterial.generate(tenant: tenant, algorithm: .es256, kid: UUID().uuidString, status: status, now: now))
            }
            try await sql.db.raw(
                """
                INSERT INTO users (tenant, user_id, username, email, display_name, password_hash, enabled, created_at, updated_at)
                VALUES (\(bind: tenant.value), \(bind: UUID().uuidString.lowercased()), 'alice', NULL, 'Alice',
                        \(bind: try await Self.gatehouse(store).passwordHasher.hash(Harness.password)), \(bind: true), \(bind: now), \(bind: now))
                """
            ).run()
            for client in Self.oldClients {
                let methods = client.type == "public" ? "none" : "client_secret_basic client_secret_post"
                let grants = client.grants.split(separator: " ").compactMap { GrantType.named(String($0))?.rawValue }.sorted()
                try await sql.db.raw(
                    """
                    INSERT INTO clients (tenant, client_id, name, client_type, auth_methods, grant_types, allowed_scopes, default_scopes, allowed_resources, created_at)
                    VALUES (\(bind: tenant.value), \(bind: client.id), \(bind: client.id), \(bind: client.type), \(bind: methods),
                            \(bind: grants.joined(separator: " ")), \(bind: client.scopes), \(bind: client.defaults), \(bind: client.resources),
                            \(bind: Date()))
                    """
                ).run()
                if client.type == "confidential" {
                    let value = UUID().uuidString
                    try await store.addSecret(
                        ClientSecretRecord(
                            tenant: tenant, clientID: try ClientID(client.id), secretID: "s-" + client.id,
                            hash: Self.gatehouse(store).hasher.hash(value), hint: String(value.prefix(3)), createdAt: now, expiresAt: nil))
                    secrets[client.id] = value
                }
            }
            // Made with the version that had APIs but not yet this migration: an API for one of the
            // old resources, and a grant on it. The migration uses that API and adds to the grant.
            try await sql.db.raw(
                """
                INSERT INTO clients (tenant, client_id, name, client_type, auth_methods, grant_types, allowed_scopes, default_scopes, allowed_resources, created_at)
                VALUES (\(bind: tenant.value), 'example-api', 'Example', 'confidential', 'client_secret_basic client_secret_post', '', '', '', '',
                        \(bind: now))
                """
            ).run()
            try await store.createAPI(
                API(
                    tenant: tenant, applicationID: try ClientID("example-api"), displayName: "Example",
                    identifiers: [try ResourceIndicator("https://api.example.com")], permissions: [APIPermission(name: "extra")],
                    createdAt: now))
            try await sql.db.raw(
                """
                INSERT INTO api_access (tenant, client_id, application_id, permissions, roles)
                VALUES (\(bind: tenant.value), 'daemon2', 'example-api', 'extra', '')
                """
            ).run()
            // Another tenant with its own middle tier of the same client ID: its names stay its own.
            let other = try TenantName("fabrikam")
            try await sql.db.raw(
                """
                INSERT INTO tenants (name, id, display_name, signing_algorithm, access_token_lifetime, created_at, sign_in_log)
                VALUES ('fabrikam', \(bind: UUID().uuidString.lowercased()), 'fabrikam', 'ES256', 3600, \(bind: now), 'aggregate')
                """
            ).run()
            for status in [KeyStatus.active, .next] {
                try await store.addKey(
                    try SigningKeyMaterial.generate(tenant: other, algorithm: .es256, kid: UUID().uuidString, status: status, now: now))
            }
            for (id, type, scopes, resources) in [
                ("middle", "confidential", "x", ""), ("front", "public", "api://middle/fabrikam_only", "api://middle"),
            ] {
                try await sql.db.raw(
                    """
                    INSERT INTO clients (tenant, client_id, name, client_type, auth_methods, grant_types, allowed_scopes, default_scopes, allowed_resources, created_at)
                    VALUES ('fabrikam', \(bind: id), \(bind: id), \(bind: type), \(bind: type == "public" ? "none" : "client_secret_basic"),
                            'password', \(bind: scopes), \(bind: scopes), \(bind: resources), \(bind: Date()))
                    """
                ).run()
            }
            try await close()
        }
        let (store, sql, close) = try await Self.open(backend, place)
        do {
            #expect(try await Migrations.currentVersion(on: sql.db) >= 11)
            // What the migration made: one API per distinct resource, each backed by a client
            // without a secret; grants in the order of the client's resources.
            let apis = try await store.apis(tenant: tenant).filter { !BuiltInAdminAPI.isBuiltIn($0.applicationID) }
            #expect(
                Set(apis.flatMap { $0.identifiers.map(\.value) }) == [
                    "https://api.example.com", "urn:example:other", "api://orders", "api://middle",
                ])
            // `api://middle` names the middle tier's own API (its credentials are the API's), in
            // each tenant, each with its own names.
            let middle = try await store.api(tenant: tenant, applicationID: try ClientID("middle"))
            #expect(middle?.identifiers.map(\.value) == ["api://middle"] && middle?.permissions.map(\.name) == ["access_as_user"])
            let otherMiddle = try await store.api(tenant: try TenantName("fabrikam"), applicationID: try ClientID("middle"))
            #expect(otherMiddle?.permissions.map(\.name) == ["fabrikam_only"])
            // The API made before the migration was used, and the grant made before it kept and added to.
            let example = try #require(apis.first { $0.applicationID.value == "example-api" })
            #expect(example.permissions.map(\.name) == ["extra", "read", "write"] && example.roles.map(\.name) == ["read", "write"])
            let daemon2 = try await store.access(tenant: tenant, clientID: try ClientID("daemon2"))
            #expect(daemon2.count == 1 && daemon2.first?.permissions == ["extra", "read"] && daemon2.first?.roles == ["read"])
            for api in apis where !["middle", "example-api"].contains(api.applicationID.value) {
                #expect(try await store.client(tenant: tenant, id: api.applicationID)?.type == .confidential)
                #expect(try await store.secrets(tenant: tenant, clientID: api.applicationID).isEmpty)
            }
            let orders = try #require(apis.first { $0.identifiers.first?.value == "api://orders" })
            #expect(
                orders.permissions.map(\.name) == ["Orders.Read", "Orders.Write"]
                    && orders.roles.map(\.name) == ["Orders.Read", "Orders.Write"])
            let daemon = try await store.access(tenant: tenant, clientID: try ClientID("daemon"))
            #expect(
                daemon.map(\.api)
                    == ["https://api.example.com", "urn:example:other"].compactMap { id in apis.first { $0.isNamed(by: id) }?.applicationID
                    })
            #expect(daemon.first?.permissions == ["read", "write"] && daemon.first?.roles == ["read", "write"])
            #expect(try await store.access(tenant: tenant, clientID: try ClientID("plain")).isEmpty)
            let migrated = try #require(try await store.client(tenant: tenant, id: try ClientID("daemon")))
            #expect(migrated.allowedScopes.isEmpty && migrated.defaultScopes.description == "read")
            #expect(try await store.client(tenant: tenant, id: try ClientID("plain"))?.allowedScopes.description == "plain.read")

            let harness = Harness(
                gatehouse: Self.gatehouse(store), store: store, secrets: secrets, clientKey: .init(), strangerKey: .init(), totpSecret: "")
            let issuer = Harness.baseURL + "/" + Harness.tenant
            let secrets = secrets
            try await harness.withClient { client in
                func request(_ id: String, _ pairs: [(String, String)], entra: Bool = false) async throws -> TestResponse {
                    var form = pairs
                    var headers: HTTPFields = [:]
                    if let secret = secrets[id] { headers[.authorization] = basic(id, secret) } else { form.append(("client_id", id)) }
                    return try await harness.token(
                        client, form, headers: headers, path: entra ? "/contoso/oauth2/v2.0/token" : Harness.tokenPath)
                }
                func expectToken(
                    _ response: TestResponse, scope: String?, aud: [String], roles: [String]? = nil, scp: String? = nil,
                    _ label: String, sourceLocation: SourceLocation = #_sourceLocation
                ) {
                    let body = json(response)
                    #expect(response.status == .ok, "\(label): \(body)", sourceLocation: sourceLocation)
                    #expect(body["scope"] as? String == scope, "\(label)", sourceLocation: sourceLocation)
                    let token = claims(body["access_token"] as? String ?? "")
                    let audience = (token["aud"] as? [String]) ?? (token["aud"] as? String).map { [$0] } ?? []
                    #expect(audience == aud, "\(label): aud \(audience)", sourceLocation: sourceLocation)
                    #expect(token["roles"] as? [String] == roles, "\(label)", sourceLocation: sourceLocation)
                    #expect(token["scp"] as? String == scp, "\(label)", sourceLocation: sourceLocation)
                }
                func expectFailure(_ response: TestResponse, code: Int, _ label: String, sourceLocation: SourceLocation = #_sourceLocation)
                {
                    #expect(response.status == .badRequest, "\(label)", sourceLocation: sourceLocation)
                    #expect(
                        json(response)["error_codes"] as? [Int] == [code], "\(label): \(json(response))", sourceLocation: sourceLocation)
                }
                let cc = ("grant_type", "client_credentials")
                expectToken(try await request("daemon", [cc]), scope: "read", aud: ["https://api.example.com"], "daemon defaults")
                expectToken(
                    try await request("daemon", [cc, ("scope", "write")]), scope: "write", aud: ["https://api.example.com"], "write")
                expectToken(
                    try await request("daemon", [cc, ("scope", "read write"), ("resource", "urn:example:other")]), scope: "read write",
                    aud: ["urn:example:other"], "second resource")
                expectToken(
                    try await request("daemon", [cc, ("resource", "https://api.example.com"), ("resource", "urn:example:other")]),
                    scope: "read", aud: ["https://api.example.com", "urn:example:other"], "both resources")
                expectFailure(try await request("daemon", [cc, ("scope", "admin")]), code: 9_900_121, "scope never allowed")
                expectFailure(
                    try await request("daemon", [cc, ("resource", "https://unknown.example")]), code: 500_011, "unknown resource")
                expectToken(try await request("daemon2", [cc]), scope: "read", aud: ["https://api.example.com"], "daemon2")
                expectFailure(
                    try await request("daemon2", [cc, ("resource", "urn:example:other")]), code: 500_011, "daemon2 never had the other")
                expectToken(try await request("plain", [cc]), scope: "plain.read", aud: [issuer], "plain: the issuer")
                expectFailure(try await request("plain", [cc, ("resource", "https://api.example.com")]), code: 500_011, "plain has no API")
                // Entra dialect: `.default` carries the registered permissions as roles.
                let entra = try await request("entra", [cc, ("scope", "api://orders/.default")], entra: true)
                expectToken(entra, scope: nil, aud: [orders.applicationID.value], roles: ["Orders.Read", "Orders.Write"], "entra .default")
                expectToken(
                    try await request("entra", [cc, ("scope", "api://orders/Orders.Read")]), scope: "api://orders/Orders.Read",
                    aud: ["api://orders"], "entra client, native endpoint")
                // The MSAL recipe: password grant as MSAL sends it, on both endpoints.
                let password: [(String, String)] = [
                    ("grant_type", "password"), ("username", "alice"), ("password", Harness.password),
                    ("scope", "api://orders/Orders.Read openid profile offline_access"),
                ]
                let native = try await request("msal", password)
                expectToken(
                    native, scope: "api://orders/Orders.Read openid profile offline_access", aud: ["api://orders"], "msal native")
                #expect(json(native)["refresh_token"] is String && json(native)["id_token"] is String)
                let v2 = try await request("msal", password, entra: true)
                expectToken(
                    v2, scope: "api://orders/Orders.Read openid profile offline_access", aud: [orders.applicationID.value],
                    scp: "Orders.Read",
                    "msal v2.0")
                let front: [(String, String)] = [
                    ("grant_type", "password"), ("username", "alice"), ("password", Harness.password),
                    ("scope", "api://middle/access_as_user"),
                ]
                expectToken(try await request("front", front), scope: "api://middle/access_as_user", aud: ["api://middle"], "front native")
                expectToken(
                    try await request("front", front, entra: true), scope: "api://middle/access_as_user", aud: ["middle"],
                    scp: "access_as_user", "front v2.0: the middle tier's client ID, which on-behalf-of accepts")
            }
        } catch {
            try await close()
            throw error
        }
        if backend == .postgres { try await sql.db.raw("DROP SCHEMA \(ident: place) CASCADE").run() }
        try await close()
        try? FileManager.default.removeItem(at: folder)
    }
}
