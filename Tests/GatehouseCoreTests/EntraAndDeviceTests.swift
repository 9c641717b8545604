import Foundation
import GatehouseCore
import Testing

@Suite struct EntraScopeTests {
    let tenant = try! TenantName("contoso")
    func client(scopes: [String], resources: [String]) throws -> Client {
        Client(
            tenant: tenant, id: try ClientID("app"), name: "app", type: .confidential, authMethods: [.clientSecretPost],
            grantTypes: [.clientCredentials],
            allowedScopes: Scope(tokens: scopes), defaultScopes: Scope(tokens: scopes),
            allowedResources: try resources.map(ResourceIndicator.init),
            createdAt: Date())
    }

    @Test func defaultScopeExpandsToTheRegisteredPermissionsOfThatResource() throws {
        let app = try client(
            scopes: ["openid", "api://orders/Orders.Read", "api://orders/Orders.Write", "api://other/X"],
            resources: ["api://orders", "api://other"])
        let (scope, audience, roles) = try EntraScopes.application(requested: "api://orders/.default", client: app, tenant: tenant)
        #expect(audience == ["api://orders"] && roles == ["Orders.Read", "Orders.Write"] && scope.tokens == ["api://orders/.default"])
        let delegated = try EntraScopes.delegated(requested: "openid api://orders/.default", client: app, tenant: tenant, fallback: "iss")
        #expect(
            delegated.scope.tokens == ["openid", "api://orders/Orders.Read", "api://orders/Orders.Write"]
                && delegated.audience == ["api://orders"])
        #expect(EntraScopes.permissionNames(delegated.scope) == "Orders.Read Orders.Write")
    }

    @Test func clientCredentialsNeedOneDefaultScope() throws {
        let app = try client(scopes: ["api://orders/Orders.Read"], resources: ["api://orders"])
        for raw in ["api://orders/Orders.Read", "api://orders", "api://orders/.default api://orders/.default2", "openid"] {
            #expect(throws: CatalogueError.self) { _ = try EntraScopes.application(requested: raw, client: app, tenant: tenant) }
            do { _ = try EntraScopes.application(requested: raw, client: app, tenant: tenant) } catch {
                #expect(error.entry == Catalogue.defaultScopeRequired, "\(raw)")
            }
        }
        do {
            _ = try EntraScopes.application(requested: "api://unknown/.default", client: app, tenant: tenant)
            Issue.record("accepted")
        } catch {
            #expect(error.entry == Catalogue.resourceNotFound)
        }
    }

    @Test func oneResourcePerRequestAndOnlyRegisteredPermissions() throws {
        let app = try client(scopes: ["openid", "api://a/X", "api://b/Y"], resources: ["api://a", "api://b"])
        do {
            _ = try EntraScopes.delegated(requested: "api://a/X api://b/Y", client: app, tenant: tenant, fallback: "i")
            Issue.record("accepted")
        } catch {
            #expect(error.entry == Catalogue.invalidScope)
        }
        do {
            _ = try EntraScopes.delegated(requested: "api://a/Z", client: app, tenant: tenant, fallback: "i")
            Issue.record("accepted")
        } catch {
            #expect(error.entry == Catalogue.scopeNotAllowed)
        }
        let onlyOpenID = try EntraScopes.delegated(requested: "openid", client: app, tenant: tenant, fallback: "https://issuer")
        #expect(onlyOpenID.audience == ["api://a"] && EntraScopes.permissionNames(onlyOpenID.scope) == "openid")
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
