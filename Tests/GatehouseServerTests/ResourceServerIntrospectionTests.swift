import Foundation
import GatehouseCore
import GatehouseServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// RFC 7662 §2.1 for resource servers: an API's own client (its application ID) introspects the
/// access tokens meant for the API (`aud` is one of its identifiers or its application ID) and
/// sees no others; it learns nothing about tokens it may not see.
@Suite struct ResourceServerIntrospectionTests {
    static func introspect(_ client: any TestClientProtocol, _ token: String, as id: String, secret: String) async throws -> [String: Any] {
        json(
            try await client.execute(
                uri: "/contoso/oauth2/introspect", method: .post,
                headers: [.contentType: "application/x-www-form-urlencoded", .authorization: basic(id, secret)],
                body: ByteBuffer(string: formEncode([("token", token)]))))
    }

    @Test func anAPIsClientSeesTheTokensMeantForItAndNoOthers() async throws {
        let harness = try await Harness.make()
        let admin = harness.gatehouse.administration
        let tenant = try TenantName(Harness.tenant)
        // The harness's clients were made with `--resource` for both: each is an API without a
        // secret until its operator adds one for its resource server.
        let orders = try await admin.api(tenant: tenant, "https://api.example.com")
        let billing = try await admin.api(tenant: tenant, "urn:example:other")
        let ordersID = orders.applicationID.value
        let billingID = billing.applicationID.value
        #expect(try await harness.store.secrets(tenant: tenant, clientID: orders.applicationID).isEmpty)
        let ordersKey = try await admin.addSecret(tenant: tenant, clientID: orders.applicationID, lifetime: nil).value
        let billingKey = try await admin.addSecret(tenant: tenant, clientID: billing.applicationID, lifetime: nil).value
        try await harness.withClient { client in
            func token(_ resource: String) async throws -> String {
                let response = try await harness.token(
                    client, [("grant_type", "client_credentials"), ("resource", resource)],
                    headers: [.authorization: basic("svc", harness.secret("svc"))])
                return try #require(json(response)["access_token"] as? String)
            }
            let forOrders = try await token("https://api.example.com")
            let forBilling = try await token("urn:example:other")
            let seen = try await Self.introspect(client, forOrders, as: ordersID, secret: ordersKey)
            #expect(
                seen["active"] as? Bool == true && seen["aud"] as? String == "https://api.example.com"
                    && seen["client_id"] as? String == "svc")
            // Another API's token, and a user's refresh token: inactive, exactly like an unknown token.
            #expect(try await Self.introspect(client, forBilling, as: ordersID, secret: ordersKey).keys.sorted() == ["active"])
            #expect(try await Self.introspect(client, forBilling, as: ordersID, secret: ordersKey)["active"] as? Bool == false)
            #expect(try await Self.introspect(client, forBilling, as: billingID, secret: billingKey)["active"] as? Bool == true)
            let refresh = try #require(try await harness.tokens(client)["refresh_token"] as? String)
            #expect(try await Self.introspect(client, refresh, as: ordersID, secret: ordersKey)["active"] as? Bool == false)
            #expect(try await Self.introspect(client, "not-a-token", as: ordersID, secret: ordersKey)["active"] as? Bool == false)
            // The API's identifiers can change; what it sees changes with them.
            _ = try await harness.store.updateAPI(
                API(
                    tenant: tenant, applicationID: orders.applicationID, displayName: "Orders",
                    identifiers: [try ResourceIndicator("api://orders")], createdAt: orders.createdAt))
            #expect(try await Self.introspect(client, forOrders, as: ordersID, secret: ordersKey)["active"] as? Bool == false)
            // Without the API's credential: 401, as before.
            let stranger = try await client.execute(
                uri: "/contoso/oauth2/introspect", method: .post,
                headers: [.contentType: "application/x-www-form-urlencoded", .authorization: basic(ordersID, "wrong")],
                body: ByteBuffer(string: formEncode([("token", forOrders)])))
            #expect(stranger.status == .unauthorized)
        }
    }

    @Test func registeringAnAPIChecksItsIdentifiersAndClient() async throws {
        let harness = try await Harness.make()
        let admin = harness.gatehouse.administration
        let tenant = try TenantName(Harness.tenant)
        let (api, secret) = try await admin.createAPI(
            tenant: tenant, applicationID: nil, displayName: "Orders", identifiers: [try ResourceIndicator("api://orders")])
        let backing = try await harness.store.client(tenant: tenant, id: api.applicationID)
        #expect(secret != nil && backing?.type == .confidential)
        // An identifier names one API; a public client cannot back one; an existing confidential client can (no new secret).
        await #expect(throws: Administration.AdministrationError.self) {
            _ = try await admin.createAPI(
                tenant: tenant, applicationID: nil, displayName: "Again", identifiers: [try ResourceIndicator("api://orders")])
        }
        await #expect(throws: Administration.AdministrationError.self) {
            _ = try await admin.createAPI(
                tenant: tenant, applicationID: try ClientID("native"), displayName: "Native",
                identifiers: [try ResourceIndicator("api://n")])
        }
        // The tenant's issuer is the audience of tokens that name no resource: no API may claim it.
        let issuers = harness.gatehouse.configuration.issuers(try #require(try await harness.store.tenant(named: tenant)))
        await #expect(throws: Administration.AdministrationError.self) {
            _ = try await admin.createAPI(
                tenant: tenant, applicationID: nil, displayName: "Everything",
                identifiers: [try ResourceIndicator("https://login.test/contoso")],
                issuers: issuers)
        }
        let (_, none) = try await admin.createAPI(
            tenant: tenant, applicationID: try ClientID("svc"), displayName: "Svc", identifiers: [try ResourceIndicator("api://svc")])
        #expect(none == nil)
        let withRead = try await admin.addPermission(
            tenant: tenant, api: "api://orders", name: "Orders.Read", descriptions: ["en": "Read your orders"], role: false)
        #expect(withRead.permission("Orders.Read")?.description(in: "vi") == "Read your orders")
        await #expect(throws: Administration.AdministrationError.self) {
            _ = try await admin.addPermission(tenant: tenant, api: "api://orders", name: "openid", descriptions: [:], role: false)
        }
        let access = try await admin.grant(
            tenant: tenant, clientID: try ClientID("web"), api: "api://orders", permissions: ["Orders.Read"], roles: [])
        #expect(access.permissions == ["Orders.Read"])
        await #expect(throws: Administration.AdministrationError.self) {
            _ = try await admin.grant(tenant: tenant, clientID: try ClientID("web"), api: "api://orders", permissions: ["Nope"], roles: [])
        }
        #expect(
            try await admin.revoke(tenant: tenant, clientID: try ClientID("web"), api: "api://orders", permissions: [], roles: []) == nil)
        #expect(try await harness.store.access(tenant: tenant, clientID: try ClientID("web")).allSatisfy { $0.api != api.applicationID })
        // Withdrawing the names one by one leaves no empty grant behind (it would still let the
        // client name the API in `resource`).
        _ = try await admin.addPermission(tenant: tenant, api: "api://orders", name: "Orders.Admin", descriptions: [:], role: true)
        _ = try await admin.grant(
            tenant: tenant, clientID: try ClientID("web"), api: "api://orders", permissions: ["Orders.Read"], roles: ["Orders.Admin"])
        #expect(
            try await admin.revoke(
                tenant: tenant, clientID: try ClientID("web"), api: "api://orders", permissions: ["Orders.Read"], roles: [])
                != nil)
        #expect(
            try await admin.revoke(
                tenant: tenant, clientID: try ClientID("web"), api: "api://orders", permissions: [], roles: ["Orders.Admin"])
                == nil)
        #expect(try await harness.store.access(tenant: tenant, clientID: try ClientID("web")).allSatisfy { $0.api != api.applicationID })
        // `api://{application ID}` names one API only: not an identifier of another API, and no
        // API may take an application ID that another's identifier already uses that way.
        await #expect(throws: Administration.AdministrationError.self) {
            _ = try await admin.createAPI(
                tenant: tenant, applicationID: nil, displayName: "Shadow",
                identifiers: [try ResourceIndicator("api://\(api.applicationID.value)")])
        }
        _ = try await admin.createAPI(
            tenant: tenant, applicationID: nil, displayName: "By name", identifiers: [try ResourceIndicator("api://billing-svc")])
        await #expect(throws: Administration.AdministrationError.self) {
            _ = try await admin.createAPI(
                tenant: tenant, applicationID: try ClientID("billing-svc"), displayName: "Billing",
                identifiers: [try ResourceIndicator("api://billing")])
        }
    }
}

/// The consent page names the API the tokens will be for and lists the permissions asked of it
/// by the API's own descriptions, in the user's language.
@Suite struct APIConsentTests {
    @Test func consentNamesTheAPIAndItsPermissionsInTheUsersLanguage() async throws {
        let harness = try await Harness.make()
        let admin = harness.gatehouse.administration
        let tenant = try TenantName(Harness.tenant)
        // The API that the harness's `--resource https://api.example.com` made, named by its operator.
        var api = try await admin.api(tenant: tenant, "https://api.example.com")
        api.displayName = "Orders"
        _ = try await harness.store.updateAPI(api)
        _ = try await admin.addPermission(
            tenant: tenant, api: "https://api.example.com", name: "api.read",
            descriptions: ["en": "Read your orders", "vi": "Đọc đơn hàng của bạn"], role: false)
        try await harness.withClient { client in
            for (language, expected, general) in [
                ("en", "Read your orders", "Sign you in with your account"),
                ("vi", "Đọc đơn hàng của bạn", "Đăng nhập bằng tài khoản của bạn"),
            ] {
                let browser = Browser(client)
                let page = try await browser.get(
                    harness.authorizeURI(
                        scope: "openid api.read", extra: [("resource", "https://api.example.com"), ("ui_locales", language)]))
                let interaction = try #require(field("interaction", in: page))
                let csrf = try #require(field("csrf", in: page))
                let consent = try await browser.post(
                    "/contoso/oauth2/login",
                    [("interaction", interaction), ("csrf", csrf), ("username", "alice"), ("password", Harness.password)])
                let html = String(buffer: consent.body)
                #expect(html.contains("oauth2/consent"), "\(language): no consent page")
                #expect(html.contains(expected) && html.contains("Orders") && html.contains("https://api.example.com"), "\(html)")
                #expect(html.contains(general))
                // The permission is shown by its description, not as a raw identifier.
                #expect(!html.contains("'api.read'"))
            }
        }
    }
}
