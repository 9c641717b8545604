import Foundation
import GatehouseCore
import Testing

@Suite struct EntraScopeTests {
    let tenant = try! TenantName("contoso")
    func client(scopes: [String], resources: [String]) throws -> ClientAccess {
        try shorthandAccess(tenant: tenant, scopes: scopes, resources: resources)
    }

    @Test func defaultScopeExpandsToTheRegisteredPermissionsOfThatResource() throws {
        let app = try client(
            scopes: ["openid", "api://orders/Orders.Read", "api://orders/Orders.Write", "api://other/X"],
            resources: ["api://orders", "api://other"])
        let (scope, audience, roles) = try EntraScopes.application(requested: "api://orders/.default", access: app)
        #expect(audience == ["api-0"] && roles == ["Orders.Read", "Orders.Write"] && scope.tokens == ["api://orders/.default"])
        let delegated = try EntraScopes.delegated(requested: "openid api://orders/.default", access: app, fallback: "iss")
        #expect(
            delegated.scope.tokens == ["openid", "api://orders/Orders.Read", "api://orders/Orders.Write"]
                && delegated.audience == ["api-0"])
        #expect(EntraScopes.permissionNames(delegated.scope) == "Orders.Read Orders.Write")
    }

    @Test func clientCredentialsNeedOneDefaultScope() throws {
        let app = try client(scopes: ["api://orders/Orders.Read"], resources: ["api://orders"])
        for raw in ["api://orders/Orders.Read", "api://orders", "api://orders/.default api://orders/.default2", "openid"] {
            #expect(throws: CatalogueError.self) { _ = try EntraScopes.application(requested: raw, access: app) }
            do { _ = try EntraScopes.application(requested: raw, access: app) } catch {
                #expect(error.entry == Catalogue.defaultScopeRequired, "\(raw)")
            }
        }
        do {
            _ = try EntraScopes.application(requested: "api://unknown/.default", access: app)
            Issue.record("accepted")
        } catch {
            #expect(error.entry == Catalogue.resourceNotFound)
        }
    }

    @Test func oneResourcePerRequestAndOnlyRegisteredPermissions() throws {
        let app = try client(scopes: ["openid", "api://a/X", "api://b/Y"], resources: ["api://a", "api://b"])
        do {
            _ = try EntraScopes.delegated(requested: "api://a/X api://b/Y", access: app, fallback: "i")
            Issue.record("accepted")
        } catch {
            #expect(error.entry == Catalogue.invalidScope)
        }
        do {
            _ = try EntraScopes.delegated(requested: "api://a/Z", access: app, fallback: "i")
            Issue.record("accepted")
        } catch {
            #expect(error.entry == Catalogue.permissionNotDefined && error.parameters["api"] == "api://a")
        }
        // A bare permission name (clients made before APIs were objects listed them): its API.
        let bare = try EntraScopes.delegated(
            requested: "openid Orders.Read",
            access: try shorthandAccess(tenant: tenant, scopes: ["Orders.Read"], resources: ["api://orders"], grantTypes: [.password]),
            fallback: "i")
        #expect(bare.audience == ["api-0"] && EntraScopes.permissionNames(bare.scope) == "Orders.Read")
        let onlyOpenID = try EntraScopes.delegated(requested: "openid", access: app, fallback: "https://issuer")
        #expect(onlyOpenID.audience == ["api-0"] && EntraScopes.permissionNames(onlyOpenID.scope) == "openid")
    }
}

@Suite struct DeviceCodeTests {
    @Test func userCodesUseTheConsonantAlphabetAndNormalize() {
        for _ in 0..<200 {
            let code = UserCode.make(.system)
            #expect(code.count == 9 && Array(code)[4] == "-")
            #expect(
                UserCode.normalize(code.lowercased().replacingOccurrences(of: "-", with: " "))
                    == code.replacingOccurrences(of: "-", with: ""))
        }
        #expect(UserCode.normalize("ABCD-EFGH") == nil)  // vowels are never issued
        #expect(UserCode.normalize("BCDF-GHJ") == nil)
    }

    @Test func pollingOutcomes() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        var authorization = DeviceAuthorization(
            tenant: "t", clientID: "tv", scope: ["openid"], audience: ["a"], expiresAt: now.addingTimeInterval(900))
        #expect(DevicePollOutcome.decide(nil, clientID: "tv", lastPoll: nil, interval: 5, now: now) == .unknown)
        #expect(DevicePollOutcome.decide(authorization, clientID: "other", lastPoll: nil, interval: 5, now: now) == .otherClient)
        #expect(
            DevicePollOutcome.decide(authorization, clientID: "tv", lastPoll: nil, interval: 5, now: now)
                == .pending(slowDown: false, interval: 5))
        // Faster than the interval allows (with one second of slack): slow_down, and the interval grows by 5 s.
        #expect(
            DevicePollOutcome.decide(authorization, clientID: "tv", lastPoll: now.addingTimeInterval(-2), interval: 5, now: now)
                == .pending(slowDown: true, interval: 10))
        #expect(
            DevicePollOutcome.decide(authorization, clientID: "tv", lastPoll: now.addingTimeInterval(-4.5), interval: 5, now: now)
                == .pending(slowDown: false, interval: 5))
        #expect(
            DevicePollOutcome.decide(authorization, clientID: "tv", lastPoll: nil, interval: 5, now: now.addingTimeInterval(900))
                == .expired)
        authorization.status = .denied
        #expect(DevicePollOutcome.decide(authorization, clientID: "tv", lastPoll: nil, interval: 5, now: now) == .denied)
        authorization.status = .approved
        #expect(DevicePollOutcome.decide(authorization, clientID: "tv", lastPoll: now, interval: 5, now: now) == .approved)
    }
}

/// A client as `clients create --resource … --scope …` makes it: the scopes that stay on the
/// client, and one API per resource defining and granting the others.
func shorthandAccess(
    tenant: TenantName, scopes: [String], resources: [String], grantTypes: Set<GrantType> = [.clientCredentials]
) throws -> ClientAccess {
    let split = ResourceShorthand.split(scopes: scopes, resources: resources)
    let client = Client(
        tenant: tenant, id: try ClientID("app"), name: "app", type: .confidential, authMethods: [.clientSecretPost],
        grantTypes: grantTypes, allowedScopes: Scope(tokens: split.plain), defaultScopes: Scope(tokens: scopes), createdAt: Date())
    let apis = try split.apis.enumerated().map { index, entry in
        GrantedAPI(
            api: API(
                tenant: tenant, applicationID: try ClientID("api-\(index)"), displayName: entry.resource,
                identifiers: [try ResourceIndicator(entry.resource)], permissions: entry.names.map { APIPermission(name: $0) },
                roles: entry.names.map { APIPermission(name: $0) }, createdAt: Date()),
            permissions: entry.names, roles: entry.names)
    }
    return ClientAccess(client: client, apis: apis)
}
