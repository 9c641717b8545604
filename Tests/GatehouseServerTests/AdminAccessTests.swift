import Foundation
import GatehouseCore
import GatehouseServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JWTKit
import NIOCore
import Testing

/// The admin API's door: Gatehouse's own access tokens for a tenant's admin API; a user's roles
/// carried in delegated tokens and limited by what the client was granted; the administrative
/// tenant reaching every tenant; revoked, foreign-audience and non-access tokens refused.
@Suite struct AdminAccessTests {
    struct Setup {
        let harness: Harness
        /// The bootstrap automation client's secret (administrative tenant `gatehouse`).
        let automationSecret: String
        /// A confidential client of contoso allowed the password grant, granted both admin permissions.
        let cliSecret: String
    }

    static func setUp() async throws -> Setup {
        let harness = try await Harness.make()
        let admin = harness.gatehouse.administration
        let contoso = try TenantName(Harness.tenant)
        let made = try await admin.bootstrap(
            tenant: try TenantName("gatehouse"), username: "root", password: Harness.password,
            passwords: harness.gatehouse.passwordHasher, clientID: try ClientID("automation"))
        var spec = Administration.ClientSpec(id: try ClientID("ops-cli"), name: "ops")
        spec.grantTypes = [.password]
        let (_, secret) = try await admin.createClient(tenant: contoso, spec: spec)
        _ = try await admin.grant(
            tenant: contoso, clientID: try ClientID("ops-cli"), api: BuiltInAdminAPI.identifier,
            permissions: [BuiltInAdminAPI.readRole, BuiltInAdminAPI.writeRole], roles: [])
        _ = try await admin.assignRole(tenant: contoso, user: "alice", api: BuiltInAdminAPI.applicationID, role: BuiltInAdminAPI.readRole)
        _ = try await admin.createUser(
            tenant: contoso, username: "dave", email: nil, displayName: "Dave", password: Harness.password,
            passwords: harness.gatehouse.passwordHasher)
        return Setup(harness: harness, automationSecret: made.secret?.value ?? "", cliSecret: secret?.value ?? "")
    }

    static func userToken(_ setup: Setup, _ client: any TestClientProtocol, user: String, scope: String) async throws -> String {
        let response = try await setup.harness.token(
            client,
            [
                ("grant_type", "password"), ("username", user), ("password", Harness.password), ("scope", scope),
                ("client_id", "ops-cli"), ("client_secret", setup.cliSecret),
            ])
        #expect(response.status == .ok, "\(String(buffer: response.body))")
        return json(response)["access_token"] as? String ?? ""
    }

    static func automationToken(_ setup: Setup, _ client: any TestClientProtocol) async throws -> String {
        let response = try await setup.harness.token(
            client,
            [
                ("grant_type", "client_credentials"), ("scope", "\(BuiltInAdminAPI.identifier)/\(BuiltInAdminAPI.writeRole)"),
                ("client_id", "automation"), ("client_secret", setup.automationSecret),
            ], path: "/gatehouse/oauth2/token")
        #expect(response.status == .ok, "\(String(buffer: response.body))")
        return json(response)["access_token"] as? String ?? ""
    }

    static func call(
        _ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ path: String, token: String?, body: String? = nil
    ) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        if body != nil { headers[.contentType] = "application/json" }
        return try await client.execute(
            uri: "/admin/v1" + path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
    }

    static func code(_ response: TestResponse) -> Int? { (json(response)["error_codes"] as? [Int])?.first }

    static func claims(_ token: String) -> [String: Any] {
        let parts = token.split(separator: ".")
        guard parts.count == 3, let data = Base64URL.decode(parts[1]) else { return [:] }
        return (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }

    @Test func aUsersRoleTravelsInDelegatedTokensAndIsLimitedByTheClientsPermission() async throws {
        let setup = try await Self.setUp()
        try await setup.harness.withClient { client in
            let read = try await Self.userToken(setup, client, user: "alice", scope: "\(BuiltInAdminAPI.identifier)/Admin.Read")
            #expect(Self.claims(read)["roles"] as? [String] == ["Admin.Read"])
            #expect(try await Self.call(client, .get, "/tenants/contoso/clients", token: read).status == .ok)
            // A reader does not write.
            let write = try await Self.call(client, .post, "/tenants/contoso/users", token: read, body: #"{"username":"x","password":"y"}"#)
            #expect(write.status == .forbidden && Self.code(write) == 9_900_203)
            // A user without the role reads nothing, whatever the client may ask for.
            let dave = try await Self.userToken(setup, client, user: "dave", scope: "\(BuiltInAdminAPI.identifier)/Admin.Read")
            #expect(Self.claims(dave)["roles"] == nil)
            let refused = try await Self.call(client, .get, "/tenants/contoso/clients", token: dave)
            #expect(refused.status == .forbidden && Self.code(refused) == 9_900_203)
        }
    }

    /// A body the document does not allow is refused naming the member, in words.
    @Test func aBodyThatBreaksTheDocumentIsRefusedNamingTheMember() async throws {
        let setup = try await Self.setUp()
        try await setup.harness.withClient { client in
            let token = try await Self.automationToken(setup, client)
            let wrongType = try await Self.call(client, .patch, "/tenants/contoso", token: token, body: #"{"email_sign_in":"yes"}"#)
            #expect(wrongType.status == .badRequest && Self.code(wrongType) == 9_900_200)
            let errors = json(wrongType)["field_errors"] as? [[String: Any]] ?? []
            #expect(errors.first?["field"] as? String == "email_sign_in", "\(String(buffer: wrongType.body))")
            #expect(!(json(wrongType)["error_description"] as? String ?? "").contains("DecodingError"))
            let changed = try await Self.call(
                client, .patch, "/tenants/contoso", token: token, body: #"{"signing_algorithm":"RS256","access_token_lifetime":900}"#)
            #expect(changed.status == .ok && json(changed)["access_token_lifetime"] as? Int == 900)
        }
    }

    @Test func aWriterWhoseTokenCarriesOnlyTheReadPermissionDoesNotWrite() async throws {
        let setup = try await Self.setUp()
        let admin = setup.harness.gatehouse.administration
        _ = try await admin.assignRole(
            tenant: try TenantName("contoso"), user: "alice", api: BuiltInAdminAPI.applicationID, role: BuiltInAdminAPI.writeRole)
        try await setup.harness.withClient { client in
            let narrow = try await Self.userToken(setup, client, user: "alice", scope: "\(BuiltInAdminAPI.identifier)/Admin.Read")
            let refused = try await Self.call(client, .post, "/tenants/contoso/keys/rotate", token: narrow)
            #expect(refused.status == .forbidden && Self.code(refused) == 9_900_203)
            let wide = try await Self.userToken(setup, client, user: "alice", scope: "\(BuiltInAdminAPI.identifier)/Admin.Write")
            let rotated = try await Self.call(client, .post, "/tenants/contoso/keys/rotate", token: wide)
            #expect(rotated.status == .ok, "\(String(buffer: rotated.body))")
            // The change is audited as the user, with the request's trace ID.
            let entries = try await setup.harness.store.auditEntries(AuditQuery(tenant: try TenantName("contoso"), action: "key.rotate"))
            let alice = try #require(try await setup.harness.store.user(tenant: try TenantName("contoso"), username: try Username("alice")))
            #expect(entries.first?.actor == "user:\(alice.id)@contoso")
            #expect(entries.first?.traceID == rotated.headers[HTTPField.Name("X-Trace-Id")!])
            // Taking the role away: the next token carries neither role's write.
            try await admin.unassignRole(
                tenant: try TenantName("contoso"), user: "alice", api: BuiltInAdminAPI.applicationID, role: BuiltInAdminAPI.writeRole)
            let after = try await Self.userToken(setup, client, user: "alice", scope: "\(BuiltInAdminAPI.identifier)/Admin.Write")
            #expect(try await Self.call(client, .post, "/tenants/contoso/keys/rotate", token: after).status == .forbidden)
        }
    }

    @Test func tenantsReachOnlyThemselvesAndTheAdministrativeTenantReachesAll() async throws {
        let setup = try await Self.setUp()
        try await setup.harness.withClient { client in
            let alice = try await Self.userToken(setup, client, user: "alice", scope: "\(BuiltInAdminAPI.identifier)/Admin.Read")
            let other = try await Self.call(client, .get, "/tenants/gatehouse/clients", token: alice)
            #expect(other.status == .forbidden && Self.code(other) == 9_900_204)
            let root = try await Self.automationToken(setup, client)
            #expect(try await Self.call(client, .get, "/tenants/contoso/clients", token: root).status == .ok)
            let listed = json(try await Self.call(client, .get, "/tenants", token: alice))["items"] as? [[String: Any]]
            #expect(listed?.compactMap { $0["name"] as? String } == ["contoso"])
        }
    }

    /// The admin API takes Bearer tokens only: a DPoP-bound admin token is refused, not accepted
    /// without its proof (a copy of it is useless to a thief there too).
    @Test func aDPoPBoundAdminTokenIsRefused() async throws {
        let setup = try await Self.setUp()
        try await setup.harness.withClient { client in
            let key = ProofKey.es256()
            let response = try await setup.harness.token(
                client,
                [
                    ("grant_type", "client_credentials"), ("scope", "\(BuiltInAdminAPI.identifier)/\(BuiltInAdminAPI.writeRole)"),
                    ("client_id", "automation"), ("client_secret", setup.automationSecret),
                ], headers: [.dpop: key.proof(htu: Harness.baseURL + "/gatehouse/oauth2/token")], path: "/gatehouse/oauth2/token")
            #expect(json(response)["token_type"] as? String == "DPoP", "\(String(buffer: response.body))")
            let bound = try #require(json(response)["access_token"] as? String)
            let refused = try await Self.call(client, .get, "/tenants/gatehouse", token: bound)
            #expect(refused.status == .unauthorized && Self.code(refused) == 9_900_258)
            #expect(
                try await Self.call(client, .get, "/tenants/gatehouse", token: try await Self.automationToken(setup, client)).status == .ok)
        }
    }

    @Test func revokedForeignAndNonAccessTokensAreRefused() async throws {
        let setup = try await Self.setUp()
        try await setup.harness.withClient { client in
            let root = try await Self.automationToken(setup, client)
            #expect(try await Self.call(client, .get, "/tenants/gatehouse", token: root).status == .ok)
            // Revoked at the revocation endpoint (RFC 7009): refused from then on.
            let revoked = try await client.execute(
                uri: "/gatehouse/oauth2/revoke", method: .post,
                headers: [.contentType: "application/x-www-form-urlencoded", .authorization: basic("automation", setup.automationSecret)],
                body: ByteBuffer(string: formEncode([("token", root)])))
            #expect(revoked.status == .ok)
            let after = try await Self.call(client, .get, "/tenants/gatehouse", token: root)
            #expect(after.status == .unauthorized && Self.code(after) == 9_900_161)
            #expect(after.headers[.wwwAuthenticate]?.hasPrefix("Bearer realm=\"gatehouse-admin\", error=\"invalid_token\"") == true)
            // A token for another audience.
            let svc = try await setup.harness.token(
                client, [("grant_type", "client_credentials"), ("client_id", "svc"), ("client_secret", setup.harness.secret("svc"))])
            let foreign = try await Self.call(client, .get, "/tenants/contoso", token: json(svc)["access_token"] as? String)
            #expect(foreign.status == .unauthorized && Self.code(foreign) == 9_900_205)
            // Signed by the tenant's own key but not typed as an access token (an ID token's `typ`).
            let now = Int(Date().timeIntervalSince1970)
            let claims = AccessTokenClaims(
                iss: Harness.baseURL + "/contoso", sub: "automation", aud: [BuiltInAdminAPI.identifier], exp: now + 300, iat: now,
                jti: UUID().uuidString, clientID: "automation", scope: "Admin.Write")
            let ring = try await setup.harness.gatehouse.keyRings.keyRing(for: try TenantName("contoso"))
            let untyped = try await ring.sign(claims, type: "JWT")
            let notAccess = try await Self.call(client, .get, "/tenants/contoso", token: untyped)
            #expect(notAccess.status == .unauthorized && Self.code(notAccess) == 9_900_161)
            // The same claims typed as an access token pass the token checks; the client it names holds no role.
            let typed = try await Self.call(client, .get, "/tenants/contoso", token: try await ring.sign(claims, type: "at+jwt"))
            #expect(typed.status == .forbidden && Self.code(typed) == 9_900_203)
            // Issued by a tenant that does not exist, or in a shape that is not a JWT.
            #expect(try await Self.call(client, .get, "/tenants/contoso", token: "abc").status == .unauthorized)
            let missing = try await Self.call(client, .get, "/tenants/contoso", token: nil)
            #expect(missing.status == .unauthorized && Self.code(missing) == 9_900_160)
            #expect(missing.headers[.wwwAuthenticate] == "Bearer realm=\"gatehouse-admin\"")
        }
    }

    @Test func aRoleOfTheSameNameOnAnotherAPIDoesNotAdminister() async throws {
        let setup = try await Self.setUp()
        let admin = setup.harness.gatehouse.administration
        let contoso = try TenantName("contoso")
        _ = try await admin.createAPI(
            tenant: contoso, applicationID: try ClientID("orders"), displayName: "Orders",
            identifiers: [try ResourceIndicator("api://orders")])
        _ = try await admin.addPermission(tenant: contoso, api: "orders", name: "Admin.Write", descriptions: [:], role: true)
        _ = try await admin.addPermission(tenant: contoso, api: "orders", name: "Admin.Write", descriptions: [:], role: false)
        _ = try await admin.assignRole(tenant: contoso, user: "alice", api: "orders", role: "Admin.Write")
        _ = try await admin.grant(
            tenant: contoso, clientID: try ClientID("ops-cli"), api: "orders", permissions: ["Admin.Write"], roles: [])
        try await setup.harness.withClient { client in
            // A token for both APIs carries Admin.Write from orders: refused as not the admin API's alone.
            let both = try await Self.userToken(
                setup, client, user: "alice", scope: "\(BuiltInAdminAPI.identifier)/Admin.Read api://orders/Admin.Write")
            let refused = try await Self.call(client, .post, "/tenants/contoso/keys/rotate", token: both)
            #expect(refused.status == .unauthorized && Self.code(refused) == 9_900_205)
            // For the admin API alone: Alice holds only Admin.Read there.
            let admin = try await Self.userToken(setup, client, user: "alice", scope: "\(BuiltInAdminAPI.identifier)/Admin.Write")
            let writes = try await Self.call(client, .post, "/tenants/contoso/keys/rotate", token: admin)
            #expect(writes.status == .forbidden && Self.code(writes) == 9_900_203)
        }
    }

    @Test func aConfiguredAdministrativeTenantThatWasNotBootstrappedReachesNoOtherTenant() async throws {
        let setup = try await Self.setUp()
        // A second node over the same database, configured with contoso as the administrative tenant.
        var configuration = setup.harness.gatehouse.configuration
        configuration.adminTenant = try TenantName("contoso")
        let first = setup.harness
        let harness = Harness(
            gatehouse: Gatehouse(
                configuration: configuration, store: first.store, hasher: first.gatehouse.hasher,
                passwordVerifier: first.gatehouse.passwordHasher),
            store: first.store, secrets: first.secrets, clientKey: first.clientKey, strangerKey: first.strangerKey,
            totpSecret: first.totpSecret)
        let node = Setup(harness: harness, automationSecret: setup.automationSecret, cliSecret: setup.cliSecret)
        try await harness.withClient { client in
            // The database records `gatehouse` (bootstrapped); contoso is only configured.
            let alice = try await Self.userToken(node, client, user: "alice", scope: "\(BuiltInAdminAPI.identifier)/Admin.Read")
            let other = try await Self.call(client, .get, "/tenants/gatehouse", token: alice)
            #expect(other.status == .forbidden && Self.code(other) == 9_900_204)
        }
    }

    @Test func withoutAnAdministrativeTenantNoTenantReachesAnother() async throws {
        let harness = try await Harness.make { $0.adminTenant = nil }
        let admin = harness.gatehouse.administration
        let made = try await admin.bootstrap(
            tenant: try TenantName("gatehouse"), username: nil, password: nil, passwords: harness.gatehouse.passwordHasher,
            clientID: try ClientID("automation"))
        let setup = Setup(harness: harness, automationSecret: made.secret?.value ?? "", cliSecret: "")
        try await harness.withClient { client in
            let root = try await Self.automationToken(setup, client)
            #expect(try await Self.call(client, .get, "/tenants/gatehouse", token: root).status == .ok)
            let other = try await Self.call(client, .get, "/tenants/contoso", token: root)
            #expect(other.status == .forbidden && Self.code(other) == 9_900_204)
        }
    }
}

extension AdminAccessTests {
    /// A logo through the admin API: the bytes decide, whatever the declared type; branding fields
    /// are checked like the CLI's.
    @Test func aLogoThatIsReallySVGIsRefusedThroughTheAPIAndBrandingIsValidated() async throws {
        let setup = try await Self.setUp()
        try await setup.harness.withClient { client in
            let token = try await Self.automationToken(setup, client)
            func put(_ bytes: [UInt8], type: String) async throws -> TestResponse {
                try await client.execute(
                    uri: "/admin/v1/tenants/contoso/logo", method: .put,
                    headers: [.authorization: "Bearer \(token)", .contentType: type], body: ByteBuffer(bytes: bytes))
            }
            let svg = Array(#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#.utf8)
            let refused = try await put(svg, type: "image/png")
            #expect(refused.status == .badRequest && Self.code(refused) == 9_900_200, "\(String(buffer: refused.body))")
            #expect(try await setup.harness.store.logo(tenant: try TenantName("contoso")) == nil)
            let png = TenantLogoSample.png
            let accepted = try await put(png, type: "image/jpeg")
            #expect(accepted.status == .ok, "\(String(buffer: accepted.body))")
            let digest = try #require(json(accepted)["logo_sha256"] as? String)
            let served = try await client.execute(uri: "/contoso/branding/logo/\(digest)", method: .get)
            #expect(served.status == .ok && served.headers[.contentType] == "image/png")
            #expect(served.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
            let badColour = try await Self.call(
                client, .patch, "/tenants/contoso", token: token, body: #"{"primary_color":"red;}body{x"}"#)
            #expect(badColour.status == .badRequest)
            let branded = try await Self.call(
                client, .patch, "/tenants/contoso", token: token,
                body:
                    ##"{"display_name":"Contoso Ltd","primary_color":"#0A5","support_contact":"help@contoso.example","registration":"open"}"##
            )
            #expect(branded.status == .ok, "\(String(buffer: branded.body))")
            #expect(json(branded)["primary_color"] as? String == "#00aa55" && json(branded)["display_name"] as? String == "Contoso Ltd")
            #expect(json(branded)["registration"] as? String == "open")
        }
    }
}

/// A real one-pixel PNG (its header read by `TenantLogo`).
enum TenantLogoSample {
    static let png: [UInt8] = [
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00,
        0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53, 0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x08,
        0xd7, 0x63, 0xf8, 0xcf, 0xc0, 0x00, 0x00, 0x03, 0x01, 0x01, 0x00, 0x18, 0xdd, 0x8d, 0xb0, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
        0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
    ]
}
