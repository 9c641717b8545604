import Foundation
import GatehouseCore
import Testing

/// Scopes resolve to the permissions and roles an API defines and granted to the client
/// (`ScopeAndAudience.resolve`), in both spellings, case-sensitively.
@Suite struct APIScopeTests {
    let tenant = try! TenantName("contoso")

    func access(grantTypes: Set<GrantType> = [.authorizationCode, .clientCredentials]) throws -> ClientAccess {
        let orders = API(
            tenant: tenant, applicationID: try ClientID("11111111-1111-1111-1111-111111111111"), displayName: "Orders",
            identifiers: [try ResourceIndicator("api://orders"), try ResourceIndicator("https://orders.example.com")],
            permissions: [APIPermission(name: "Orders.Read"), APIPermission(name: "Orders.Write")],
            roles: [APIPermission(name: "Orders.ReadAll")], createdAt: Date())
        let billing = API(
            tenant: tenant, applicationID: try ClientID("22222222-2222-2222-2222-222222222222"), displayName: "Billing",
            identifiers: [try ResourceIndicator("api://billing")], permissions: [APIPermission(name: "Invoices.Read")],
            accessTokenLifetime: 600, createdAt: Date())
        let client = Client(
            tenant: tenant, id: try ClientID("app"), name: "app", type: .confidential, authMethods: [.clientSecretBasic],
            grantTypes: grantTypes, allowedScopes: Scope(tokens: ["legacy.read"]), defaultScopes: Scope(tokens: ["Orders.Read"]),
            createdAt: Date())
        return ClientAccess(
            client: client,
            apis: [
                GrantedAPI(api: orders, permissions: ["Orders.Read"], roles: ["Orders.ReadAll"]),
                GrantedAPI(api: billing, permissions: ["Invoices.Read"], roles: []),
            ])
    }

    func delegated(_ scope: String?, _ resources: [String] = []) throws(CatalogueError) -> ScopeAndAudience.Resolved {
        try ScopeAndAudience.resolve(
            requested: scope, resources: resources, access: try! access(), application: false, fallback: "https://issuer",
            audienceValue: \.defaultAudience)
    }

    func failure(_ body: () throws -> Void) -> CatalogueError? {
        do {
            try body()
            return nil
        } catch { return error as? CatalogueError }
    }

    @Test func bothSpellingsAreTheSamePermission() throws {
        let entra = try delegated("openid api://orders/Orders.Read")
        let rfc8707 = try delegated("openid Orders.Read", ["api://orders"])
        let byOtherIdentifier = try delegated("Orders.Read", ["https://orders.example.com"])
        let bare = try delegated("Orders.Read")
        #expect(entra.audience == ["api://orders"] && rfc8707.audience == ["api://orders"] && bare.audience == ["api://orders"])
        #expect(entra.names == ["Orders.Read"] && rfc8707.names == ["Orders.Read"] && bare.names == ["Orders.Read"])
        // The audience is the identifier as the client named it.
        #expect(byOtherIdentifier.audience == ["https://orders.example.com"])
        // A scope prefix may be the application ID (a `resource` must be an absolute URI).
        #expect(try delegated("11111111-1111-1111-1111-111111111111/Orders.Read").names == ["Orders.Read"])
        #expect(
            failure { _ = try delegated("Orders.Read", ["11111111-1111-1111-1111-111111111111"]) }?.entry == Catalogue.malformedResource)
        // The scope is kept as requested.
        #expect(entra.scope.description == "openid api://orders/Orders.Read")
    }

    @Test func permissionNamesAreCaseSensitiveAndAnUndefinedOneNamesTheAPI() throws {
        for (scope, resources) in [("api://orders/orders.read", [String]()), ("orders.read", ["api://orders"])] {
            let error = failure { _ = try delegated(scope, resources) }
            #expect(error?.entry == Catalogue.permissionNotDefined, "\(scope)")
            #expect(error?.parameters["api"] == "api://orders" && error?.parameters["scope"] == "orders.read")
            #expect(error?.error == .invalidScope)
        }
        // Bare, without naming an API: not a permission of any granted API: 9900121.
        #expect(failure { _ = try delegated("orders.read") }?.entry == Catalogue.scopeNotAllowed)
        // Defined but not granted to this client: 9900121, not 65005.
        #expect(failure { _ = try delegated("api://orders/Orders.Write") }?.entry == Catalogue.scopeNotAllowed)
        #expect(failure { _ = try delegated("Orders.Write", ["api://orders"]) }?.entry == Catalogue.scopeNotAllowed)
    }

    @Test func resourcesAndPrefixesMustAgree() throws {
        // A resource the client has no API grant for: invalid_target (500011).
        #expect(failure { _ = try delegated("Orders.Read", ["api://unknown"]) }?.entry == Catalogue.resourceNotFound)
        // A permission of one API with the resource of another.
        #expect(failure { _ = try delegated("api://orders/Orders.Read", ["api://billing"]) }?.entry == Catalogue.invalidScope)
        #expect(failure { _ = try delegated("Orders.Read", ["api://billing"]) }?.entry == Catalogue.permissionNotDefined)
        // Two APIs in one token: both in `aud`.
        let both = try delegated("api://orders/Orders.Read api://billing/Invoices.Read")
        #expect(both.audience == ["api://orders", "api://billing"])
        #expect(try delegated("openid", ["api://orders", "api://billing"]).audience == ["api://orders", "api://billing"])
    }

    @Test func withoutAPIsNamedTheAudienceIsTheFirstGrantOrTheIssuer() throws {
        #expect(try delegated("openid profile").audience == ["api://orders"])
        #expect(try delegated(nil).scope.tokens == ["Orders.Read"])
        // A scope of the client's own names no API: the issuer, and never with an API's names.
        #expect(try delegated("legacy.read openid").audience == ["https://issuer"])
        #expect(failure { _ = try delegated("legacy.read Orders.Read") }?.entry == Catalogue.scopeNotAllowed)
        #expect(failure { _ = try delegated("legacy.read", ["api://orders"]) }?.entry == Catalogue.scopeNotAllowed)
        let noAPIs = ClientAccess(client: try access().client)
        let plain = try ScopeAndAudience.resolve(
            requested: "legacy.read openid", resources: [], access: noAPIs, application: false, fallback: "https://issuer",
            audienceValue: \.defaultAudience)
        #expect(plain.audience == ["https://issuer"])
    }

    @Test func clientCredentialsTakeRolesNotPermissions() throws {
        func application(_ scope: String, _ resources: [String] = []) throws(CatalogueError) -> ScopeAndAudience.Resolved {
            try ScopeAndAudience.resolve(
                requested: scope, resources: resources, access: try! access(), application: true, fallback: "https://issuer",
                audienceValue: \.defaultAudience)
        }
        #expect(try application("Orders.ReadAll").audience == ["api://orders"])
        #expect(try application("api://orders/Orders.ReadAll").names == ["Orders.ReadAll"])
        // A delegated permission is no role.
        #expect(failure { _ = try application("Orders.Read", ["api://orders"]) }?.entry == Catalogue.permissionNotDefined)
        // The OpenID Connect scopes are for user tokens.
        #expect(failure { _ = try application("openid") }?.entry == Catalogue.scopeNotAllowed)
        // Entra: the roles granted on the API named by `{resource}/.default`.
        let entra = try EntraScopes.application(requested: "api://orders/.default", access: try access())
        // The v2.0 audience is the application ID, and `api://{application ID}` names the API too.
        #expect(entra.roles == ["Orders.ReadAll"] && entra.audience == ["11111111-1111-1111-1111-111111111111"])
        let byID = try EntraScopes.application(requested: "api://11111111-1111-1111-1111-111111111111/.default", access: try access())
        #expect(byID.roles == ["Orders.ReadAll"] && byID.audience == entra.audience)
        #expect(
            try delegated("Orders.Read", ["api://11111111-1111-1111-1111-111111111111"]).audience == [
                "api://11111111-1111-1111-1111-111111111111"
            ])
    }

    /// Every resource server of a token reads the same `scope`: a bare name in a token for several
    /// APIs must be granted on each, or API A would honour a name the client holds only on B.
    @Test func aBareNameInATokenForSeveralAPIsMustBeGrantedOnEach() throws {
        var base = try access()
        // Billing also defines Orders.Read, but did not grant it to this client.
        var billing = base.apis[1].api
        billing.permissions.append(APIPermission(name: "Orders.Read"))
        base = ClientAccess(
            client: base.client, apis: [base.apis[0], GrantedAPI(api: billing, permissions: ["Invoices.Read"], roles: [])])
        func resolve(_ scope: String, _ resources: [String]) throws -> ScopeAndAudience.Resolved {
            try ScopeAndAudience.resolve(
                requested: scope, resources: resources, access: base, application: false, fallback: "i", audienceValue: \.defaultAudience)
        }
        #expect(failure { _ = try resolve("Orders.Read", ["api://orders", "api://billing"]) }?.entry == Catalogue.scopeNotAllowed)
        #expect(failure { _ = try resolve("Orders.Read Invoices.Read", []) }?.entry == Catalogue.scopeNotAllowed)
        // Prefixed, each name says which API it is for.
        let prefixed = try resolve("api://orders/Orders.Read api://billing/Invoices.Read", [])
        #expect(prefixed.audience == ["api://orders", "api://billing"])
        // One API: fine.
        #expect(try resolve("Orders.Read", ["api://orders"]).audience == ["api://orders"])
    }

    /// A refresh mints only what the client still holds.
    @Test func aRefreshNeedsTheGrantStillHeld() throws {
        let access = try access()
        func check(_ scope: String, _ audience: [String], _ access: ClientAccess, withdrawn: Set<String> = []) -> CatalogueError? {
            failure {
                try ScopeAndAudience.requireStillGranted(
                    scope: Scope(tokens: scope.split(separator: " ").map(String.init)), audience: audience, access: access,
                    withdrawn: withdrawn)
            }
        }
        #expect(check("openid Orders.Read", ["api://orders"], access) == nil)
        #expect(check("openid api://orders/Orders.Read", ["11111111-1111-1111-1111-111111111111"], access) == nil)
        #expect(check("legacy.read", ["https://issuer"], access) == nil)
        let withdrawn = ClientAccess(client: access.client, apis: [GrantedAPI(api: access.apis[0].api, permissions: [], roles: [])])
        #expect(check("Orders.Read", ["api://orders"], withdrawn)?.entry == Catalogue.scopeNotAllowed)
        #expect(check("api://orders/Orders.Read", ["api://orders"], withdrawn)?.entry == Catalogue.scopeNotAllowed)
        let removed = ClientAccess(client: access.client, apis: [access.apis[1]])
        #expect(check("openid", ["api://orders"], removed, withdrawn: ["api://orders"])?.entry == Catalogue.resourceNotFound)
        // An issuer under another base URL names no API: nothing to check.
        #expect(check("openid legacy.read", ["https://old.example/contoso"], access) == nil)
    }

    @Test func aTokenForSeveralAPIsTakesTheShortestLifetime() throws {
        let access = try access()
        #expect(access.accessTokenLifetime(audience: ["api://orders"], tenantDefault: 3600) == 3600)
        #expect(access.accessTokenLifetime(audience: ["api://billing"], tenantDefault: 3600) == 600)
        #expect(access.accessTokenLifetime(audience: ["api://orders", "api://billing"], tenantDefault: 3600) == 600)
        #expect(access.accessTokenLifetime(audience: ["https://issuer"], tenantDefault: 3600) == 3600)
        // An API may also allow longer than the tenant.
        #expect(access.accessTokenLifetime(audience: ["api://billing"], tenantDefault: 300) == 600)
    }

    @Test func theShorthandSplitsScopesLikeTheMigration() {
        let split = ResourceShorthand.split(
            scopes: ["openid", "read", "api://a/A.Write", "api://elsewhere/X", "api://a/.default"], resources: ["api://a", "urn:b"])
        #expect(split.plain == ["openid", "api://elsewhere/X", "api://a/.default"])
        #expect(split.apis.map(\.resource) == ["api://a", "urn:b"])
        #expect(split.apis.map(\.names) == [["read", "A.Write"], ["read"]])
        #expect(ResourceShorthand.split(scopes: ["read"], resources: []).plain == ["read"])
    }
}
