import Foundation
import GatehouseCore
import GatehouseServer
import HTTPTypes
import HummingbirdTesting
import Testing

/// `clients update` (`Administration.updateClient`): each property changes in place, under the
/// same rules as on creation, and the client's secrets keep working.
@Suite struct ClientUpdateTests {
    @Test func eachPropertyChangesAndTheSecretStays() async throws {
        let harness = try await Harness.make()
        let admin = harness.gatehouse.administration
        let tenant = try TenantName(Harness.tenant)
        let svc = try ClientID("svc")
        var change = Administration.ClientChange()
        change.name = "Renamed service"
        change.authMethods = [.clientSecretPost]
        change.grantTypes = [.clientCredentials, .authorizationCode, .refreshToken]
        change.redirectURIs = ["https://svc.example.com/cb"]
        change.postLogoutRedirectURIs = ["https://svc.example.com/bye"]
        change.scopes = Scope(tokens: ["openid", "reports.read"])
        change.resources = [try ResourceIndicator("api://reports")]
        change.defaultScopes = Scope(tokens: ["reports.read"])
        let updated = try await admin.updateClient(tenant: tenant, id: svc, change: change)
        #expect(updated.name == "Renamed service" && updated.type == .confidential)
        #expect(updated.allowedScopes.tokens == ["openid"])
        let stored = try #require(try await harness.store.client(tenant: tenant, id: svc))
        #expect(stored.redirectURIs == ["https://svc.example.com/cb"] && stored.postLogoutRedirectURIs == ["https://svc.example.com/bye"])
        #expect(stored.grantTypes == [.clientCredentials, .authorizationCode, .refreshToken])
        // The grants made before stay; the new API is granted too, after them.
        let grants = try await harness.store.access(tenant: tenant, clientID: svc)
        let reports = try await admin.api(tenant: tenant, "api://reports")
        #expect(grants.count == 3 && grants.last?.api == reports.applicationID && grants.last?.roles == ["reports.read"])
        try await harness.withClient { client in
            // The same secret, now only in the body (client_secret_post).
            let post = try await harness.token(
                client, [("grant_type", "client_credentials"), ("client_id", "svc"), ("client_secret", harness.secret("svc"))])
            #expect(post.status == .ok, "\(json(post))")
            let token = claims(json(post)["access_token"] as? String ?? "")
            #expect(token["aud"] as? String == "api://reports" && json(post)["scope"] as? String == "reports.read")
            let basicAuth = try await harness.token(
                client, [("grant_type", "client_credentials")], headers: [.authorization: basic("svc", harness.secret("svc"))])
            #expect(basicAuth.status == .unauthorized)
        }
    }

    @Test func anUpdateKeepsTheRulesOfCreation() async throws {
        let harness = try await Harness.make()
        let admin = harness.gatehouse.administration
        let tenant = try TenantName(Harness.tenant)
        func refused(_ id: String, _ configure: (inout Administration.ClientChange) -> Void) async -> Bool {
            var change = Administration.ClientChange()
            configure(&change)
            do {
                _ = try await admin.updateClient(tenant: tenant, id: try ClientID(id), change: change)
                return false
            } catch { return error is Administration.AdministrationError }
        }
        #expect(await refused("svc") { $0.grantTypes = [.authorizationCode] })  // no redirect URI
        #expect(await refused("native") { $0.grantTypes = [.clientCredentials] })  // a public client
        #expect(await refused("native") { $0.authMethods = [.clientSecretBasic] })  // a public client has no secret
        #expect(await refused("svc") { $0.authMethods = [.none] })
        #expect(await refused("svc") { $0.redirectURIs = ["javascript:alert(1)"] })
        #expect(await refused("svc") { $0.defaultScopes = Scope(tokens: ["never.granted"]) })
        #expect(await refused("nobody") { $0.name = "x" })
        // Nothing was changed by the refused updates.
        #expect(try await harness.store.client(tenant: tenant, id: try ClientID("svc"))?.grantTypes == [.clientCredentials])
    }
}
