import Foundation
import GatehouseCore
import GatehouseServer
import HTTPTypes
import HummingbirdTesting
import JWTKit
import NIOCore
import Synchronization
import Testing

/// Documents a test serves instead of the network (`OutboundFetcher`); counts fetches.
final class FakeFetcher: OutboundFetcher {
    let documents: Mutex<[String: Result<FetchedDocument, CatalogueError>]>
    let count = Mutex(0)

    init(_ documents: [String: Result<FetchedDocument, CatalogueError>] = [:]) { self.documents = Mutex(documents) }

    func fetch(_ url: String, policy: OutboundPolicy, accept: String) async throws -> FetchedDocument {
        count.withLock { $0 += 1 }
        _ = try OutboundGuard.target(url)
        guard let result = documents.withLock({ $0[url] }) else {
            throw CatalogueError(Catalogue.outboundFailed, ["url": url, "reason": "it answered HTTP 404"])
        }
        return try result.get()
    }

    static func json(_ object: [String: Any], cacheControl: String? = nil) -> Result<FetchedDocument, CatalogueError> {
        .success(
            FetchedDocument(
                body: Array((try? JSONSerialization.data(withJSONObject: object)) ?? Data()), contentType: "application/json",
                cacheControl: cacheControl))
    }
}

/// RFC 7591 registration, RFC 7592 management and client ID metadata documents, through the
/// real router: each policy, each refusal the issue lists, and a self-registered client's
/// sign-in to the API it came for.
@Suite struct ClientRegistrationTests {
    static let registerPath = "/contoso/oauth2/register"
    static let mcpResource = "https://mcp.example.com/mcp"

    /// A harness whose tenant has `policy`, an API (the MCP server) with a permission, and that
    /// API open to self-registered clients.
    static func harness(_ policy: ClientRegistrationPolicy, fetcher: FakeFetcher? = nil, documents: Bool = false) async throws -> Harness {
        let harness = try await Harness.make(fetcher: fetcher)
        let admin = harness.gatehouse.administration
        let tenant = try TenantName("contoso")
        _ = try await admin.createAPI(
            tenant: tenant, applicationID: try ClientID("mcp-server"), displayName: "MCP server",
            identifiers: [try ResourceIndicator(mcpResource)], withSecret: false)
        _ = try await admin.addPermission(
            tenant: tenant, api: mcpResource, name: "tools.call", descriptions: ["en": "Call tools"], role: false)
        _ = try await admin.setClientRegistration(
            tenant: tenant, policy: policy, apis: [mcpResource], metadataDocuments: documents)
        return harness
    }

    static func register(
        _ client: any TestClientProtocol, _ object: [String: Any], bearer: String? = nil, contentType: String = "application/json"
    ) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: contentType]
        if let bearer { headers[.authorization] = "Bearer \(bearer)" }
        return try await client.execute(
            uri: registerPath, method: .post, headers: headers,
            body: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: object)))
    }

    /// Alice's password on the sign-in page `page`: the next page (consent, for these clients).
    static func signIn(_ browser: Browser, _ page: TestResponse) async throws -> TestResponse {
        try await browser.post(
            "/contoso/oauth2/login",
            [
                ("interaction", field("interaction", in: page) ?? ""), ("csrf", field("csrf", in: page) ?? ""),
                ("username", "alice"), ("password", Harness.password),
            ])
    }

    /// "Allow" on the consent page `page`: the redirect with the code.
    static func allow(_ browser: Browser, _ page: TestResponse) async throws -> TestResponse {
        try await browser.post(
            "/contoso/oauth2/consent",
            [("interaction", field("interaction", in: page) ?? ""), ("csrf", field("csrf", in: page) ?? ""), ("decision", "allow")])
    }

    nonisolated(unsafe) static let mcpClient: [String: Any] = [
        "client_name": "Inspector", "redirect_uris": ["http://localhost:6274/oauth/callback"],
        "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"], "unknown_member": ["ignored"],
    ]

    static func expectCode(_ response: TestResponse, _ status: HTTPResponse.Status, _ error: String, _ code: Int) {
        #expect(response.status == status, "\(String(buffer: response.body))")
        let body = json(response)
        #expect(body["error"] as? String == error, "\(body)")
        #expect(body["error_codes"] as? [Int] == [code], "\(body)")
        #expect(body["trace_id"] as? String != nil)
    }

    @Test func openRegistrationSignsAUserInForTheAPIItCameFor() async throws {
        let harness = try await Self.harness(.open)
        try await harness.withClient { client in
            let response = try await Self.register(client, Self.mcpClient)
            #expect(response.status == .created, "\(String(buffer: response.body))")
            #expect(response.headers[.cacheControl] == "no-store")
            let registered = json(response)
            let id = try #require(registered["client_id"] as? String)
            #expect(registered["token_endpoint_auth_method"] as? String == "none", "omitted means none under the open policy")
            #expect(registered["client_secret"] == nil)
            #expect(registered["unknown_member"] == nil)
            #expect(registered["registration_client_uri"] as? String == "https://login.test/contoso/oauth2/register/\(id)")
            #expect((registered["registration_access_token"] as? String)?.count ?? 0 >= 40)
            // Marked self-registered; the token is stored only as a hash.
            let record = try #require(try await harness.store.clientRegistration(tenant: TenantName("contoso"), clientID: ClientID(id)))
            #expect(record.tokenHash != registered["registration_access_token"] as? String)
            #expect(record.tokenHash.count == 64)
            // Sign-in from another loopback port, to the MCP server's resource.
            let pkce = PKCEPair()
            let browser = Browser(client)
            let uri = harness.authorizeURI(
                client: id, redirect: "http://localhost:51234/oauth/callback", scope: "tools.call offline_access", pkce: pkce,
                extra: [("resource", Self.mcpResource)])
            let page = try await browser.get(uri)
            #expect(page.status == .ok, "\(String(buffer: page.body))")
            let signedIn = try await Self.signIn(browser, page)
            // The consent page names the host, and the self-chosen name only beside it.
            let consent = String(buffer: signedIn.body)
            #expect(consent.contains("localhost wants to access your account"), "\(consent)")
            #expect(consent.contains("It calls itself “Inspector”"))
            let reply = try await Self.allow(browser, signedIn)
            let code = try #require(redirectParameters(reply)["code"])
            let tokens = json(
                try await harness.token(
                    client,
                    [
                        ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", "http://localhost:51234/oauth/callback"),
                        ("code_verifier", pkce.verifier), ("client_id", id), ("resource", Self.mcpResource),
                    ]))
            let access = try #require(tokens["access_token"] as? String, "\(tokens)")
            #expect(claims(access)["aud"] as? String == Self.mcpResource)
            #expect(claims(access)["scope"] as? String == "tools.call offline_access", "\(claims(access))")
            #expect(tokens["refresh_token"] != nil)
        }
    }

    @Test func registrationIsRefusedWhereThePolicyForbidsIt() async throws {
        let harness = try await Self.harness(.open)
        try await harness.withClient { client in
            // An unregistered (private-use) scheme, http to a host that is not loopback.
            var object = Self.mcpClient
            object["redirect_uris"] = ["com.example.app:/callback"]
            Self.expectCode(try await Self.register(client, object), .badRequest, "invalid_redirect_uri", 9_900_214)
            object["redirect_uris"] = ["http://app.example.com/callback"]
            Self.expectCode(try await Self.register(client, object), .badRequest, "invalid_redirect_uri", 9_900_214)
            // A confidential method under the open policy.
            object = Self.mcpClient
            object["token_endpoint_auth_method"] = "client_secret_basic"
            Self.expectCode(try await Self.register(client, object), .badRequest, "invalid_client_metadata", 9_900_215)
            // The device grant: nothing but its chosen name would name such a client to its users.
            object = Self.mcpClient
            object["grant_types"] = ["urn:ietf:params:oauth:grant-type:device_code"]
            object["response_types"] = []
            object["redirect_uris"] = []
            Self.expectCode(try await Self.register(client, object), .badRequest, "invalid_client_metadata", 9_900_215)
            // A bad jwks_uri (not https).
            object = Self.mcpClient
            object["jwks_uri"] = "http://keys.example.com/jwks.json"
            Self.expectCode(try await Self.register(client, object), .badRequest, "invalid_client_metadata", 9_900_215)
            // Not JSON.
            let form = try await client.execute(
                uri: Self.registerPath, method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "redirect_uris=x"))
            Self.expectCode(form, .badRequest, "invalid_client_metadata", 9_900_215)
            // Larger than 16 KiB.
            object = Self.mcpClient
            object["client_name"] = String(repeating: "x", count: 20_000)
            Self.expectCode(try await Self.register(client, object), .badRequest, "invalid_client_metadata", 9_900_215)
        }
        #expect(try await harness.store.clientRegistrations(tenant: TenantName("contoso")).isEmpty, "nothing registered")
    }

    @Test func offByDefaultAndAbsentFromDiscovery() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            Self.expectCode(try await Self.register(client, Self.mcpClient), .notFound, "not_found", 9_900_216)
            let metadata = json(try await client.execute(uri: "/.well-known/oauth-authorization-server/contoso", method: .get))
            #expect(metadata["registration_endpoint"] == nil)
            #expect(metadata["client_id_metadata_document_supported"] == nil)
        }
    }

    @Test func discoveryListsWhatTheTenantEnabled() async throws {
        let harness = try await Self.harness(.open, documents: true)
        try await harness.withClient { client in
            for path in ["/.well-known/oauth-authorization-server/contoso", "/contoso/.well-known/openid-configuration"] {
                let metadata = json(try await client.execute(uri: path, method: .get))
                #expect(metadata["registration_endpoint"] as? String == "https://login.test/contoso/oauth2/register")
                #expect(metadata["client_id_metadata_document_supported"] as? Bool == true)
            }
            // The Entra dialect offers neither.
            let entra = json(try await client.execute(uri: "/contoso/v2.0/.well-known/openid-configuration", method: .get))
            #expect(entra["registration_endpoint"] == nil)
        }
    }

    @Test func initialAccessTokensAreCountedAndABurstCannotOutspendThem() async throws {
        let harness = try await Self.harness(.initialAccessToken)
        let admin = harness.gatehouse.administration
        let token = try await admin.createInitialAccessToken(tenant: TenantName("contoso"), label: "CLI team", uses: 2)
        try await harness.withClient { client in
            Self.expectCode(try await Self.register(client, Self.mcpClient), .unauthorized, "invalid_token", 9_900_217)
            let wrong = try await Self.register(client, Self.mcpClient, bearer: "not-the-token")
            Self.expectCode(wrong, .unauthorized, "invalid_token", 9_900_217)
            #expect(wrong.headers[.wwwAuthenticate]?.hasPrefix("Bearer realm=\"contoso\", error=\"invalid_token\"") == true)
            // A malformed request spends nothing.
            var bad = Self.mcpClient
            bad["redirect_uris"] = "not a list"
            Self.expectCode(
                try await Self.register(client, bad, bearer: token.value), .badRequest, "invalid_client_metadata", 9_900_215)
            // Under the token policy a confidential client gets a secret, shown once.
            var confidential = Self.mcpClient
            confidential["token_endpoint_auth_method"] = "client_secret_basic"
            confidential["redirect_uris"] = ["com.example.app:/callback"]
            let body = try JSONSerialization.data(withJSONObject: confidential)
            let statuses = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for _ in 0..<6 {
                    group.addTask {
                        let response = try await client.execute(
                            uri: Self.registerPath, method: .post,
                            headers: [.contentType: "application/json", .authorization: "Bearer \(token.value)"],
                            body: ByteBuffer(bytes: body))
                        return (Int(response.status.code), String(buffer: response.body))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let created = statuses.filter { $0.0 == 201 }.map {
                (try? JSONSerialization.jsonObject(with: Data($0.1.utf8))) as? [String: Any] ?? [:]
            }
            #expect(created.count == 2, "\(statuses.map(\.0))")
            #expect(statuses.filter { $0.0 == 401 }.count == 4)
            let secret = try #require(created.first?["client_secret"] as? String)
            #expect(created.first?["client_secret_expires_at"] as? Int == 0)
            // The secret authenticates at the token endpoint.
            let id = try #require(created.first?["client_id"] as? String)
            let refused = try await harness.token(
                client, [("grant_type", "client_credentials")], headers: [.authorization: basic(id, secret)])
            #expect(json(refused)["error"] as? String == "unauthorized_client", "authenticated, but no client_credentials grant")
        }
        #expect(try await admin.initialAccessTokens(tenant: TenantName("contoso")).first?.usesLeft == 0)
    }

    @Test func managementNeedsTheCurrentRegistrationAccessToken() async throws {
        let harness = try await Self.harness(.open)
        try await harness.withClient { client in
            let registered = json(try await Self.register(client, Self.mcpClient))
            let id = try #require(registered["client_id"] as? String)
            let first = try #require(registered["registration_access_token"] as? String)
            let path = "/contoso/oauth2/register/\(id)"
            func call(_ method: HTTPRequest.Method, _ token: String?, _ body: [String: Any]? = nil) async throws -> TestResponse {
                var headers: HTTPFields = [.contentType: "application/json"]
                if let token { headers[.authorization] = "Bearer \(token)" }
                return try await client.execute(
                    uri: path, method: method, headers: headers,
                    body: try body.map { ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: $0)) })
            }
            let read = try await call(.get, first)
            #expect(read.status == .ok)
            #expect(json(read)["client_id"] as? String == id)
            #expect(json(read)["registration_access_token"] == nil, "shown only when issued")
            Self.expectCode(try await call(.get, nil), .unauthorized, "invalid_token", 9_900_218)
            Self.expectCode(try await call(.get, "wrong"), .unauthorized, "invalid_token", 9_900_218)
            // Another client's token does not reach this one.
            let other = json(try await Self.register(client, Self.mcpClient))
            Self.expectCode(
                try await call(.get, other["registration_access_token"] as? String), .unauthorized, "invalid_token", 9_900_218)
            // An update must name the client, and replaces the token.
            var change = Self.mcpClient
            change["client_name"] = "Inspector 2"
            Self.expectCode(try await call(.put, first, change), .badRequest, "invalid_client_metadata", 9_900_215)
            change["client_id"] = id
            let updated = try await call(.put, first, change)
            #expect(updated.status == .ok, "\(String(buffer: updated.body))")
            #expect(json(updated)["client_name"] as? String == "Inspector 2")
            let second = try #require(json(updated)["registration_access_token"] as? String)
            #expect(second != first)
            // The old token no longer works, for any method.
            Self.expectCode(try await call(.get, first), .unauthorized, "invalid_token", 9_900_218)
            Self.expectCode(try await call(.put, first, change), .unauthorized, "invalid_token", 9_900_218)
            Self.expectCode(try await call(.delete, first), .unauthorized, "invalid_token", 9_900_218)
            // A public client stays public.
            change["token_endpoint_auth_method"] = "client_secret_basic"
            Self.expectCode(try await call(.put, second, change), .badRequest, "invalid_client_metadata", 9_900_215)
            let deleted = try await call(.delete, second)
            #expect(deleted.status == .noContent)
            Self.expectCode(try await call(.get, second), .unauthorized, "invalid_token", 9_900_218)
            #expect(try await harness.store.client(tenant: TenantName("contoso"), id: ClientID(id)) == nil)
            // An administrator's client has no registration access token.
            let web = try await client.execute(
                uri: "/contoso/oauth2/register/web", method: .get, headers: [.authorization: "Bearer \(second)"])
            Self.expectCode(web, .unauthorized, "invalid_token", 9_900_218)
        }
        let actions = try await harness.store.auditEntries(AuditQuery(tenant: TenantName("contoso"), limit: 100)).map(\.action)
        #expect(actions.contains("client.create") && actions.contains("client.update") && actions.contains("client.remove"))
    }

    @Test func aBurstOfOpenRegistrationsFromOneAddressIsThrottled() async throws {
        let harness = try await Harness.make { configuration in
            configuration.throttling = .off
            configuration.throttling.clientRegistration = FailureThrottle.Limit(failures: 3, window: 3600)
        }
        _ = try await harness.gatehouse.administration.setClientRegistration(tenant: TenantName("contoso"), policy: .open)
        try await harness.withClient { client in
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<8 { group.addTask { Int(try await Self.register(client, Self.mcpClient).status.code) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 201 }.count == 3, "\(statuses)")
            #expect(statuses.filter { $0 == 429 }.count == 5)
            // The tenant's other endpoints go on for everyone.
            let tokens = try await harness.token(
                client, [("grant_type", "client_credentials")], headers: [.authorization: basic("svc", harness.secret("svc"))])
            #expect(tokens.status == .ok)
        }
    }

    @Test func aJWKSURIIsFetchedThroughTheGuardForPrivateKeyJWTOnly() async throws {
        let keys = "https://keys.example.com/jwks.json"
        let jwks = try #require(
            try JSONSerialization.jsonObject(with: Data(Harness.jwks(for: ES256PrivateKey(), kid: "k1").utf8)) as? [String: Any])
        let fetcher = FakeFetcher([
            keys: FakeFetcher.json(jwks),
            "https://inside.example.com/jwks.json": .failure(
                CatalogueError(Catalogue.outboundAddressRefused, ["host": "inside.example.com", "address": "10.0.0.7"])),
        ])
        let harness = try await Self.harness(.initialAccessToken, fetcher: fetcher)
        let token = try await harness.gatehouse.administration.createInitialAccessToken(
            tenant: TenantName("contoso"), label: "", uses: 10)
        try await harness.withClient { client in
            var object: [String: Any] = [
                "client_name": "Key client", "grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt",
                "jwks_uri": "https://inside.example.com/jwks.json",
            ]
            // A key set on a private address: refused, naming the guard's code.
            let refused = try await Self.register(client, object, bearer: token.value)
            Self.expectCode(refused, .badRequest, "invalid_client_metadata", 9_900_215)
            #expect((json(refused)["error_description"] as? String)?.contains("9900221") == true, "\(json(refused))")
            object["jwks_uri"] = keys
            let registered = try await Self.register(client, object, bearer: token.value)
            #expect(registered.status == .created, "\(String(buffer: registered.body))")
            #expect(json(registered)["jwks_uri"] as? String == keys)
            let id = try #require(json(registered)["client_id"] as? String)
            #expect(try await harness.store.client(tenant: TenantName("contoso"), id: ClientID(id))?.jwks?.contains("\"k1\"") == true)
            // A client that does not use private_key_jwt: its jwks_uri is not fetched.
            let before = fetcher.count.withLock { $0 }
            let publicClient = try await Self.register(
                client, ["redirect_uris": ["http://127.0.0.1/cb"], "token_endpoint_auth_method": "none", "jwks_uri": keys],
                bearer: token.value)
            #expect(publicClient.status == .created)
            #expect(fetcher.count.withLock { $0 } == before)
        }
    }

    @Test func theConsentPageNamesTheHostTheRedirectGoesTo() async throws {
        let harness = try await Self.harness(.open)
        try await harness.withClient { client in
            var object = Self.mcpClient
            object["client_name"] = "Google Accounts"
            object["redirect_uris"] = ["https://accounts.example.com/", "https://evil.example/cb"]
            let id = try #require(json(try await Self.register(client, object))["client_id"] as? String)
            let browser = Browser(client)
            let page = try await browser.get(harness.authorizeURI(client: id, redirect: "https://evil.example/cb", scope: "openid"))
            #expect(String(buffer: page.body).contains("evil.example"), "the sign-in page names the host too")
            #expect(!String(buffer: page.body).contains("Google Accounts"))
            let consent = try await Self.signIn(browser, page)
            let html = String(buffer: consent.body)
            #expect(html.contains("evil.example wants to access your account"), "\(html)")
            #expect(!html.contains("accounts.example.com wants"))
        }
    }

    @Test func clientsNoLongerManageThemselvesOnceRegistrationIsOff() async throws {
        let harness = try await Self.harness(.open)
        try await harness.withClient { client in
            let registered = json(try await Self.register(client, Self.mcpClient))
            let id = try #require(registered["client_id"] as? String)
            let token = try #require(registered["registration_access_token"] as? String)
            _ = try await harness.gatehouse.administration.setClientRegistration(tenant: TenantName("contoso"), policy: .off)
            let read = try await client.execute(
                uri: "/contoso/oauth2/register/\(id)", method: .get, headers: [.authorization: "Bearer \(token)"])
            Self.expectCode(read, .notFound, "not_found", 9_900_216)
        }
    }

    @Test func anEmptySecretFromAPublicClientIsNoSecret() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let redeem: [(String, String)] = [
                ("grant_type", "authorization_code"), ("code", "no-such-code"), ("redirect_uri", "http://127.0.0.1/callback"),
            ]
            // oidc-agent's `native:` in Basic: authenticated as none, so the answer is about the code.
            let empty = try await harness.token(client, redeem, headers: [.authorization: basic("native", "")])
            #expect(json(empty)["error"] as? String == "invalid_grant", "\(json(empty))")
            let posted = try await harness.token(client, redeem + [("client_id", "native"), ("client_secret", "")])
            #expect(json(posted)["error"] as? String == "invalid_grant", "\(json(posted))")
            // A secret that is not empty is still a credential a public client may not send.
            let secret = try await harness.token(client, redeem, headers: [.authorization: basic("native", "x")])
            #expect(json(secret)["error"] as? String == "invalid_client")
            // And a confidential client's empty secret is a wrong secret.
            let confidential = try await harness.token(
                client, [("grant_type", "client_credentials")], headers: [.authorization: basic("svc", "")])
            #expect(confidential.status == .unauthorized && json(confidential)["error"] as? String == "invalid_client")
        }
    }

    // MARK: Client ID metadata documents

    static let documentURL = "https://app.example.com/oauth/client.json"
    static func document(_ changes: [String: Any] = [:]) -> [String: Any] {
        var object: [String: Any] = [
            "client_id": documentURL, "client_name": "Example App", "redirect_uris": ["http://127.0.0.1:33418/callback"],
            "grant_types": ["authorization_code"], "response_types": ["code"], "token_endpoint_auth_method": "none",
        ]
        for (key, value) in changes { object[key] = value }
        return object
    }

    @Test func aMetadataDocumentClientSignsInAndIsCached() async throws {
        let fetcher = FakeFetcher([Self.documentURL: FakeFetcher.json(Self.document(), cacheControl: "max-age=600")])
        let harness = try await Self.harness(.off, fetcher: fetcher, documents: true)
        try await harness.withClient { client in
            let pkce = PKCEPair()
            let browser = Browser(client)
            let redirect = "http://127.0.0.1:40000/callback"
            let page = try await browser.get(
                harness.authorizeURI(client: Self.documentURL, redirect: redirect, scope: "openid", pkce: pkce))
            #expect(page.status == .ok, "\(String(buffer: page.body))")
            let signedIn = try await Self.signIn(browser, page)
            let consent = String(buffer: signedIn.body)
            #expect(consent.contains("app.example.com wants to access your account"), "\(consent)")
            #expect(consent.contains("It calls itself “Example App”"))
            let reply = try await Self.allow(browser, signedIn)
            let code = try #require(redirectParameters(reply)["code"])
            let tokens = json(
                try await harness.token(
                    client,
                    [
                        ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirect),
                        ("code_verifier", pkce.verifier), ("client_id", Self.documentURL),
                    ]))
            #expect(tokens["access_token"] != nil, "\(tokens)")
            #expect(claims(tokens["id_token"] as? String ?? "")["aud"] as? String == Self.documentURL)
        }
        #expect(fetcher.count.withLock { $0 } == 1, "fetched once, then cached for its max-age")
    }

    @Test func aDocumentIsRefusedForEachReasonTheIssueLists() async throws {
        let fetcher = FakeFetcher()
        let harness = try await Self.harness(.off, fetcher: fetcher, documents: true)
        let cases: [(String, Result<FetchedDocument, CatalogueError>, Int)] = [
            (Self.documentURL, FakeFetcher.json(Self.document(["client_id": "https://other.example.com/client.json"])), 9_900_226),
            (
                "https://big.example.com/c.json",
                .failure(CatalogueError(Catalogue.outboundTooLarge, ["url": "https://big.example.com/c.json", "limit": "65536"])),
                9_900_223
            ),
            (
                "https://moved.example.com/c.json",
                .failure(CatalogueError(Catalogue.outboundRedirectRefused, ["url": "https://moved.example.com/c.json", "status": "302"])),
                9_900_222
            ),
            (
                "https://inside.example.com/c.json",
                .failure(CatalogueError(Catalogue.outboundAddressRefused, ["host": "inside.example.com", "address": "10.0.0.5"])),
                9_900_221
            ),
            (
                "https://slow.example.com/c.json",
                .failure(CatalogueError(Catalogue.outboundTimedOut, ["url": "https://slow.example.com/c.json", "seconds": "5"])),
                9_900_224
            ),
        ]
        fetcher.documents.withLock { documents in for (url, result, _) in cases { documents[url] = result } }
        try await harness.withClient { client in
            for (url, _, code) in cases {
                let page = try await client.execute(
                    uri: harness.authorizeURI(client: url, redirect: "http://127.0.0.1:1/callback", scope: "openid"), method: .get)
                #expect(page.status == .badRequest || page.status == .unauthorized, "\(url)")
                #expect(String(buffer: page.body).contains(String(code)), "\(url): \(String(buffer: page.body).prefix(400))")
                #expect(page.headers[.location] == nil, "never redirected to an unverified URI")
                // At the token endpoint, the same refusal as JSON.
                let token = try await harness.token(
                    client,
                    [
                        ("grant_type", "authorization_code"), ("code", "x"), ("redirect_uri", "http://127.0.0.1:1/callback"),
                        ("client_id", url),
                    ])
                #expect(json(token)["error_codes"] as? [Int] == [code], "\(url): \(json(token))")
            }
        }
    }

    @Test func documentsAreNotClientIDsUnlessTheTenantSaysSo() async throws {
        let fetcher = FakeFetcher([Self.documentURL: FakeFetcher.json(Self.document())])
        let harness = try await Self.harness(.off, fetcher: fetcher, documents: false)
        try await harness.withClient { client in
            let token = try await harness.token(
                client,
                [
                    ("grant_type", "authorization_code"), ("code", "x"), ("redirect_uri", "http://127.0.0.1:1/callback"),
                    ("client_id", Self.documentURL),
                ])
            #expect(json(token)["error_codes"] as? [Int] == [9_900_227], "\(json(token))")
        }
        #expect(fetcher.count.withLock { $0 } == 0, "nothing fetched")
    }
}
