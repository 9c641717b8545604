import Foundation
import GatehouseCore
import GatehouseServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// The Entra ID compatible routes through the real router: error shape, token shape and claims,
/// tenants by GUID and `common`, and the device code, password and on-behalf-of grants.
@Suite struct EntraModeTests {
    static let v2 = "/contoso/oauth2/v2.0/token"

    /// A harness with Entra-style clients: a daemon for api://orders, a public device/password
    /// client that may call api://middle, and the middle tier that exchanges tokens for api://orders.
    static func harness(time: TimeSource = .system, passwordVerifier: (any PasswordHasher)? = nil) async throws -> (
        Harness, [String: String]
    ) {
        let harness = try await Harness.make(time: time, passwordVerifier: passwordVerifier) { $0.signIn.deviceCodeInterval = 5 }
        let admin = harness.gatehouse.administration
        let tenant = try TenantName(Harness.tenant)
        var secrets: [String: String] = [:]
        var daemon = Administration.ClientSpec(id: try ClientID("daemon"), name: "Daemon")
        daemon.allowedResources = [try ResourceIndicator("api://orders")]
        daemon.allowedScopes = Scope(tokens: ["api://orders/Orders.Read", "api://orders/Orders.Write"])
        secrets["daemon"] = try await admin.createClient(tenant: tenant, spec: daemon).1?.value
        // The middle tier first: `api://middle` then names its own API (application ID `middle`).
        var middle = Administration.ClientSpec(id: try ClientID("middle"), name: "Middle")
        middle.grantTypes = [.jwtBearer]
        middle.allowedResources = [try ResourceIndicator("api://orders")]
        middle.allowedScopes = Scope(tokens: ["api://orders/Orders.Read"])
        secrets["middle"] = try await admin.createClient(tenant: tenant, spec: middle).1?.value
        var device = Administration.ClientSpec(id: try ClientID("tv"), name: "TV")
        device.type = .public
        device.grantTypes = [.deviceCode, .password, .refreshToken]
        device.allowedResources = [try ResourceIndicator("api://middle")]
        device.allowedScopes = Scope(tokens: ["openid", "profile", "offline_access", "api://middle/access_as_user"])
        _ = try await admin.createClient(tenant: tenant, spec: device)
        return (harness, secrets)
    }

    /// The application ID of the API `identifier` names: the `aud` of its v2.0 tokens.
    static func applicationID(_ harness: Harness, _ identifier: String) async throws -> String {
        try await harness.gatehouse.administration.api(tenant: try TenantName(Harness.tenant), identifier).applicationID.value
    }

    @Test func errorsTakeEntrasShape() async throws {
        let (harness, _) = try await Self.harness()
        try await harness.withClient { client in
            let response = try await harness.token(
                client,
                [
                    ("grant_type", "client_credentials"), ("client_id", "daemon"), ("client_secret", "wrong"),
                    ("scope", "api://orders/.default"),
                ], headers: [.init("client-request-id")!: "corr-123"], path: Self.v2)
            #expect(response.status.code == 401)
            #expect(response.headers[.cacheControl] == "no-store, no-cache" && response.headers[.init("Expires")!] == "-1")
            #expect(response.headers[.wwwAuthenticate] == nil)
            let text = String(buffer: response.body)
            let body = json(response)
            let trace = body["trace_id"] as? String ?? "?"
            let timestamp = body["timestamp"] as? String ?? "?"
            #expect(
                body["error"] as? String == "invalid_client" && body["error_codes"] as? [Int] == [7000215]
                    && body["correlation_id"] as? String == "corr-123")
            #expect((body["error_description"] as? String)?.hasPrefix("AADSTS7000215: Invalid client secret provided.") == true)
            #expect(
                (body["error_description"] as? String)?.hasSuffix(
                    "\r\nTrace ID: \(trace)\r\nCorrelation ID: corr-123\r\nTimestamp: \(timestamp)") == true)
            let order = ["error", "error_description", "error_codes", "timestamp", "trace_id", "correlation_id", "error_uri"].compactMap {
                text.range(of: "\"\($0)\":")?.lowerBound
            }
            #expect(order.count == 7 && order == order.sorted())
            // 700016 is unauthorized_client with 400 on the Entra routes (invalid_client 401 natively).
            let unknown = try await harness.token(
                client, [("grant_type", "client_credentials"), ("client_id", "nobody"), ("client_secret", "x")], path: Self.v2)
            #expect(unknown.status.code == 400 && json(unknown)["error"] as? String == "unauthorized_client")
            let native = try await harness.token(
                client, [("grant_type", "client_credentials"), ("client_id", "nobody"), ("client_secret", "x")])
            expectError(native, status: 401, error: "invalid_client", code: 700016)
        }
    }

    @Test func clientCredentialsWithDefaultScopeGiveV2ClaimsAndRoles() async throws {
        let (harness, secrets) = try await Self.harness()
        let tenant = try #require(try await harness.store.tenant(named: try TenantName(Harness.tenant)))
        let orders = try await Self.applicationID(harness, "api://orders")
        try await harness.withClient { client in
            let response = try await harness.token(
                client,
                [
                    ("grant_type", "client_credentials"), ("client_id", "daemon"), ("client_secret", secrets["daemon"] ?? ""),
                    ("scope", "api://orders/.default"),
                ], path: "/\(tenant.guid)/oauth2/v2.0/token")
            #expect(response.status == .ok)
            let body = json(response)
            #expect(body["ext_expires_in"] as? Int == body["expires_in"] as? Int && body["scope"] == nil && body["refresh_token"] == nil)
            let token = claims(body["access_token"] as? String ?? "")
            #expect(
                token["iss"] as? String == "\(Harness.baseURL)/\(tenant.guid)/v2.0" && token["tid"] as? String == tenant.guid
                    && token["ver"] as? String == "2.0")
            #expect(
                token["aud"] as? String == orders && token["roles"] as? [String] == ["Orders.Read", "Orders.Write"]
                    && token["scp"] == nil)
            #expect(
                token["azp"] as? String == "daemon" && token["azpacr"] as? String == "1"
                    && token["uti"] as? String == token["jti"] as? String)
            let notDefault = try await harness.token(
                client,
                [
                    ("grant_type", "client_credentials"), ("client_id", "daemon"), ("client_secret", secrets["daemon"] ?? ""),
                    ("scope", "api://orders/Orders.Read"),
                ], path: Self.v2)
            #expect(json(notDefault)["error_codes"] as? [Int] == [1002012] && json(notDefault)["error"] as? String == "invalid_scope")
        }
    }

    @Test func commonFindsTheTenantByClientAndDiscoveryUsesTheTemplate() async throws {
        let (harness, secrets) = try await Self.harness()
        try await harness.withClient { client in
            let response = try await harness.token(
                client,
                [
                    ("grant_type", "client_credentials"), ("client_id", "daemon"), ("client_secret", secrets["daemon"] ?? ""),
                    ("scope", "api://orders/.default"),
                ], path: "/common/oauth2/v2.0/token")
            #expect(response.status == .ok)
            let unknown = try await harness.token(
                client, [("grant_type", "client_credentials"), ("client_id", "ghost"), ("client_secret", "x")],
                path: "/organizations/oauth2/v2.0/token")
            #expect(json(unknown)["error_codes"] as? [Int] == [700016])
            let discovery = try await client.execute(uri: "/common/v2.0/.well-known/openid-configuration", method: .get)
            #expect(json(discovery)["issuer"] as? String == "\(Harness.baseURL)/{tenantid}/v2.0")
            #expect(json(discovery)["token_endpoint"] as? String == "\(Harness.baseURL)/common/oauth2/v2.0/token")
            let keys = try await client.execute(uri: "/common/discovery/v2.0/keys", method: .get)
            #expect((json(keys)["keys"] as? [Any])?.isEmpty == false)
            let realm = try await client.execute(uri: "/common/userrealm/alice@contoso?api-version=1.0", method: .get)
            #expect(json(realm)["account_type"] as? String == "Managed")
            let notCommon = try await client.execute(uri: "/contoso/userrealm/alice", method: .get)
            #expect(notCommon.status.code == 404)
        }
    }

    @Test func passwordGrantWithLockoutAndSecondFactor() async throws {
        let (harness, _) = try await Self.harness()
        try await harness.withClient { client in
            func ropc(_ user: String, _ password: String) async throws -> TestResponse {
                try await harness.token(
                    client,
                    [
                        ("grant_type", "password"), ("client_id", "tv"), ("username", user), ("password", password),
                        ("scope", "openid profile offline_access api://middle/access_as_user"), ("client_info", "1"),
                    ], path: Self.v2)
            }
            let ok = try await ropc("alice", Harness.password)
            #expect(ok.status == .ok)
            let body = json(ok)
            #expect(body["refresh_token"] != nil && body["id_token"] != nil && body["client_info"] != nil)
            let info = try #require(Base64URL.decode(Substring(body["client_info"] as? String ?? "")))
            let user = try #require(try await harness.store.user(tenant: try TenantName(Harness.tenant), username: try Username("alice")))
            let tenant = try #require(try await harness.store.tenant(named: try TenantName(Harness.tenant)))
            #expect((try JSONSerialization.jsonObject(with: info) as? [String: String]) == ["uid": user.id, "utid": tenant.guid])
            #expect(claims(body["access_token"] as? String ?? "")["scp"] as? String == "access_as_user")
            #expect(claims(body["id_token"] as? String ?? "")["oid"] as? String == user.id)
            let mfa = try await ropc("bob", Harness.password)
            #expect(
                json(mfa)["error_codes"] as? [Int] == [50076] && json(mfa)["suberror"] as? String == "basic_action"
                    && json(mfa)["claims"] is String)
            #expect(json(try await ropc("carol", Harness.password))["error_codes"] as? [Int] == [50057])
            #expect(json(try await ropc("nobody", "x"))["error_codes"] as? [Int] == [50126])
            for attempt in 0..<4 { #expect(json(try await ropc("alice", "wrong \(attempt)"))["error_codes"] as? [Int] == [50126]) }
            #expect(json(try await ropc("alice", "wrong 5"))["error_codes"] as? [Int] == [50053])
            #expect(json(try await ropc("alice", Harness.password))["error_codes"] as? [Int] == [50053])
            // Off by default: the daemon has no password grant.
            let off = try await harness.token(
                client,
                [
                    ("grant_type", "password"), ("client_id", "web"), ("client_secret", harness.secret("web")),
                    ("username", "alice"), ("password", Harness.password),
                ])
            expectError(off, status: 400, error: "unauthorized_client", code: 9900120)
        }
    }

    @Test func deviceFlowPendingSlowDownApprovalSingleUseAndExpiry() async throws {
        let time = ManualTime()
        let (harness, _) = try await Self.harness(time: time.source)
        try await harness.withClient { client in
            let start = try await client.execute(
                uri: "/contoso/oauth2/v2.0/devicecode", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: formEncode([("client_id", "tv"), ("scope", "openid offline_access api://middle/access_as_user")])))
            #expect(start.status == .ok)
            let flow = json(start)
            let deviceCode = flow["device_code"] as? String ?? ""
            let userCode = flow["user_code"] as? String ?? ""
            #expect(
                flow["interval"] as? Int == 5 && flow["expires_in"] as? Int == 900
                    && (flow["message"] as? String)?.contains(userCode) == true)
            func poll() async throws -> [String: Any] {
                json(
                    try await harness.token(
                        client,
                        [
                            ("grant_type", GrantType.deviceCode.rawValue), ("client_id", "tv"), ("device_code", deviceCode),
                            ("code", deviceCode),
                        ], path: Self.v2))
            }
            #expect(try await poll()["error_codes"] as? [Int] == [70016])
            time.now += 1
            let slow = try await poll()
            #expect(slow["error"] as? String == "slow_down" && slow["error_codes"] as? [Int] == [9900180])
            time.now += 11
            #expect(try await poll()["error"] as? String == "authorization_pending")
            // The user step: code, sign-in, device consent.
            let browser = Browser(client)
            let entry = try await browser.get("/contoso/oauth2/device")
            #expect(entry.status == .ok && String(buffer: entry.body).contains("name=\"user_code\""))
            let wrong = try await browser.post("/contoso/oauth2/device", [("user_code", "BBBB-BBBB")])
            #expect(wrong.status.code == 400 && String(buffer: wrong.body).contains("9900182"))
            let login = try await browser.post("/contoso/oauth2/device", [("user_code", userCode.lowercased())])
            let consent = try await browser.post(
                "/contoso/oauth2/login",
                [
                    ("interaction", field("interaction", in: login) ?? ""), ("csrf", field("csrf", in: login) ?? ""),
                    ("username", "alice"), ("password", Harness.password),
                ])
            #expect(String(buffer: consent.body).contains("oauth2/consent"))
            let done = try await browser.post(
                "/contoso/oauth2/consent",
                [
                    ("interaction", field("interaction", in: consent) ?? ""), ("csrf", field("csrf", in: consent) ?? ""),
                    ("decision", "allow"),
                ])
            #expect(done.status == .ok)
            // The same user code cannot be entered again.
            #expect(try await browser.post("/contoso/oauth2/device", [("user_code", userCode)]).status.code == 400)
            time.now += 6
            let tokens = try await poll()
            #expect(tokens["access_token"] != nil && tokens["refresh_token"] != nil && tokens["ext_expires_in"] != nil, "\(tokens)")
            time.now += 6
            #expect(try await poll()["error_codes"] as? [Int] == [70000])
            // A second device code left alone expires.
            let other = json(
                try await client.execute(
                    uri: "/contoso/oauth2/devicecode", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                    body: ByteBuffer(string: formEncode([("client_id", "tv"), ("scope", "openid")]))))
            #expect(other["verification_uri_complete"] as? String != nil)
            time.now += 901
            let expired = json(
                try await harness.token(
                    client,
                    [
                        ("grant_type", GrantType.deviceCode.rawValue), ("client_id", "tv"),
                        ("device_code", other["device_code"] as? String ?? ""),
                    ]))
            #expect(expired["error"] as? String == "expired_token" && expired["error_codes"] as? [Int] == [70020])
        }
    }

    @Test func onBehalfOfExchangesOnlyTokensIssuedForTheCaller() async throws {
        let (harness, secrets) = try await Self.harness()
        let orders = try await Self.applicationID(harness, "api://orders")
        try await harness.withClient { client in
            let user = json(
                try await harness.token(
                    client,
                    [
                        ("grant_type", "password"), ("client_id", "tv"), ("username", "alice"), ("password", Harness.password),
                        ("scope", "api://middle/access_as_user"),
                    ], path: Self.v2))
            let assertion = user["access_token"] as? String ?? ""
            // As on Entra, the audience is the API's application ID: `middle`'s own API.
            #expect(claims(assertion)["aud"] as? String == "middle")
            func obo(_ assertion: String, client id: String = "middle") async throws -> [String: Any] {
                json(
                    try await harness.token(
                        client,
                        [
                            ("grant_type", GrantType.jwtBearer.rawValue), ("client_id", id), ("client_secret", secrets[id] ?? ""),
                            ("assertion", assertion), ("requested_token_use", "on_behalf_of"), ("scope", "api://orders/.default"),
                        ], path: Self.v2))
            }
            let exchanged = try await obo(assertion)
            let token = claims(exchanged["access_token"] as? String ?? "")
            #expect(
                token["aud"] as? String == orders && token["azp"] as? String == "middle"
                    && token["sub"] as? String == claims(assertion)["sub"] as? String)
            #expect(token["scp"] as? String == "Orders.Read")
            // A token for api://orders is not the middle tier's to exchange.
            let ordersToken = try await obo(exchanged["access_token"] as? String ?? "")
            #expect(ordersToken["error_codes"] as? [Int] == [500131])
            #expect(try await obo("e30.e30.sig")["error_codes"] as? [Int] == [50013])
            let appOnly = json(
                try await harness.token(
                    client,
                    [
                        ("grant_type", "client_credentials"), ("client_id", "daemon"), ("client_secret", secrets["daemon"] ?? ""),
                        ("scope", "api://orders/.default"),
                    ], path: Self.v2))
            #expect(try await obo(appOnly["access_token"] as? String ?? "")["error_codes"] as? [Int] == [50013])
            let wrongUse = json(
                try await harness.token(
                    client,
                    [
                        ("grant_type", GrantType.jwtBearer.rawValue), ("client_id", "middle"), ("client_secret", secrets["middle"] ?? ""),
                        ("assertion", assertion), ("requested_token_use", "something"),
                    ], path: Self.v2))
            #expect(wrongUse["error_codes"] as? [Int] == [90100])
        }
    }

    /// The README's MSAL public-client recipe (scopes for the API only): MSAL always adds `openid
    /// profile offline_access`, which every client that signs users in may ask for without listing
    /// them; a client that lists some OpenID Connect scopes is limited to those.
    @Test func theOpenIDConnectScopesNeedNoListing() async throws {
        let (harness, secrets) = try await Self.harness()
        let admin = harness.gatehouse.administration
        var recipe = Administration.ClientSpec(id: try ClientID("msal-public"), name: "MSAL public")
        recipe.type = .public
        recipe.grantTypes = [.deviceCode, .password, .refreshToken]
        recipe.allowedResources = [try ResourceIndicator("api://orders")]
        recipe.allowedScopes = Scope(tokens: ["api://orders/Orders.Read"])
        _ = try await admin.createClient(tenant: try TenantName(Harness.tenant), spec: recipe)
        try await harness.withClient { client in
            func ropc(_ clientID: String, _ scope: String) async throws -> TestResponse {
                try await harness.token(
                    client,
                    [
                        ("grant_type", "password"), ("client_id", clientID), ("username", "alice"), ("password", Harness.password),
                        ("scope", scope),
                    ], path: Self.v2)
            }
            let ok = try await ropc("msal-public", "api://orders/Orders.Read openid profile offline_access")
            #expect(ok.status == .ok, "\(json(ok))")
            #expect(json(ok)["refresh_token"] != nil && json(ok)["id_token"] != nil)
            // `tv` lists openid, profile and offline_access: email is not among them.
            let limited = try await ropc("tv", "api://middle/access_as_user openid email")
            #expect((json(limited)["error_codes"] as? [Int]) == [9_900_121], "\(json(limited))")
            // A client that signs no users in gets none of them.
            let daemon = try await harness.token(
                client, [("grant_type", "client_credentials"), ("scope", "openid")],
                headers: [.authorization: basic("daemon", secrets["daemon"] ?? "")], path: Self.v2)
            #expect(daemon.status == .badRequest && (json(daemon)["error_codes"] as? [Int])?.first != nil, "\(json(daemon))")
            // An application's token (client credentials) takes only what the client lists, even
            // from a client that also signs users in.
            var hybrid = Administration.ClientSpec(id: try ClientID("hybrid"), name: "Hybrid")
            hybrid.grantTypes = [.clientCredentials, .password]
            hybrid.allowedScopes = Scope(tokens: ["api.read"])
            let hybridSecret = try #require(try await admin.createClient(tenant: try TenantName(Harness.tenant), spec: hybrid).1?.value)
            let app = try await harness.token(
                client, [("grant_type", "client_credentials"), ("scope", "api.read email")],
                headers: [.authorization: basic("hybrid", hybridSecret)])
            #expect((json(app)["error_codes"] as? [Int]) == [9_900_121], "\(json(app))")
        }
    }
}
