import Foundation
import GatehouseCore
import GatehouseServer
import HTTPTypes
import HummingbirdTesting
import Testing

/// Tokens for a registered API through the real router: both spellings of a permission or role
/// give the same token, an undefined name is 65005 naming the API, the API's lifetime holds, and
/// the v2.0 routes name the API by its application ID.
@Suite struct APITokenTests {
    @Test func bothSpellingsGiveTheSameTokenAndAnUndefinedNameIsNamedWithItsAPI() async throws {
        let harness = try await Harness.make()
        let admin = harness.gatehouse.administration
        let tenant = try TenantName(Harness.tenant)
        let (api, _) = try await admin.createAPI(
            tenant: tenant, applicationID: nil, displayName: "Orders", identifiers: [try ResourceIndicator("api://orders")],
            accessTokenLifetime: 300)
        _ = try await admin.addPermission(tenant: tenant, api: "api://orders", name: "Orders.ReadAll", descriptions: [:], role: true)
        _ = try await admin.grant(
            tenant: tenant, clientID: try ClientID("svc"), api: "api://orders", permissions: [], roles: ["Orders.ReadAll"])
        try await harness.withClient { client in
            func request(_ pairs: [(String, String)], path: String = Harness.tokenPath) async throws -> TestResponse {
                try await harness.token(
                    client, [("grant_type", "client_credentials")] + pairs,
                    headers: [.authorization: basic("svc", harness.secret("svc"))], path: path)
            }
            let entraStyle = try await request([("scope", "api://orders/Orders.ReadAll")])
            let rfc8707 = try await request([("scope", "Orders.ReadAll"), ("resource", "api://orders")])
            for response in [entraStyle, rfc8707] {
                let body = json(response)
                #expect(response.status == .ok, "\(body)")
                #expect(body["expires_in"] as? Int == 300)
                let token = claims(body["access_token"] as? String ?? "")
                #expect(token["aud"] as? String == "api://orders" && token["client_id"] as? String == "svc")
                #expect((token["exp"] as? Int ?? 0) - (token["iat"] as? Int ?? 0) == 300)
            }
            // Case-sensitive, and the error names the API the name was looked up in.
            for pairs in [[("scope", "api://orders/orders.readall")], [("scope", "orders.readall"), ("resource", "api://orders")]] {
                let refused = try await request(pairs)
                expectError(refused, status: 400, error: "invalid_scope", code: 65005)
                #expect((json(refused)["error_description"] as? String ?? "").contains("'api://orders'"))
            }
            // v2.0: `{resource}/.default` by identifier or by `api://{application ID}`; `aud` is the application ID.
            for scope in ["api://orders/.default", "api://\(api.applicationID.value)/.default"] {
                let body = json(try await request([("scope", scope)], path: "/contoso/oauth2/v2.0/token"))
                let token = claims(body["access_token"] as? String ?? "")
                #expect(token["aud"] as? String == api.applicationID.value && token["roles"] as? [String] == ["Orders.ReadAll"], "\(body)")
                #expect(body["expires_in"] as? Int == 300)
            }
        }
    }

    /// Withdrawing a client's permission or its access to an API stops the refresh tokens of
    /// grants made before (they mint only what the client still holds).
    @Test func aWithdrawnGrantStopsRefreshing() async throws {
        let harness = try await Harness.make()
        let admin = harness.gatehouse.administration
        let tenant = try TenantName(Harness.tenant)
        try await harness.withClient { client in
            let first = try await harness.tokens(client, scope: "openid offline_access api.read")
            #expect(claims(first["access_token"] as? String ?? "")["aud"] as? String == "https://api.example.com", "\(first)")
            func refresh(_ token: String) async throws -> TestResponse {
                try await harness.token(
                    client, [("grant_type", "refresh_token"), ("refresh_token", token)],
                    headers: [.authorization: basic("web", harness.secret("web"))])
            }
            let again = try await refresh(first["refresh_token"] as? String ?? "")
            #expect(again.status == .ok, "\(json(again))")
            let live = json(again)["refresh_token"] as? String ?? ""
            // The permission goes (the role stays): 9900121.
            _ = try await admin.revoke(
                tenant: tenant, clientID: try ClientID("web"), api: "https://api.example.com", permissions: ["api.read"], roles: [])
            expectError(try await refresh(live), status: 400, error: "invalid_scope", code: 9_900_121)
            // The access goes: 500011.
            _ = try await admin.revoke(
                tenant: tenant, clientID: try ClientID("web"), api: "https://api.example.com", permissions: [], roles: [])
            expectError(try await refresh(live), status: 400, error: "invalid_target", code: 500_011)
        }
    }
}
