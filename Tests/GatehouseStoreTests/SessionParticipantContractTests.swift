import Foundation
import GatehouseCore
import GatehouseStore
import Testing

/// What every backend does with the relying parties of browser sessions (back-channel logout):
/// noted once per session and client, taken once (by session or for all of a user's), purged
/// after the session's expiry; and the new client and tenant settings kept.
@Suite struct SessionParticipantContractTests {
    static func participant(
        _ sid: String, client: String = "web", user: String = "u1", tenant: String = "contoso", lifetime: TimeInterval = 3600
    )
        -> SessionParticipant
    {
        SessionParticipant(
            tenant: tenant, sid: sid, clientID: client, userID: user, issuer: "https://login.test/\(tenant)",
            logoutURI: "https://\(client).example.com/logout", source: client == "self" ? .selfRegistered : .administrator,
            expiresAt: epoch.addingTimeInterval(lifetime))
    }

    @Test(arguments: Backend.allCases)
    func participantsAreTakenOncePerSessionOrForAllOfAUsersSessions(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            try await store.noteParticipant(Self.participant("s1"))
            try await store.noteParticipant(Self.participant("s1"))  // a second code for the same session and client
            try await store.noteParticipant(Self.participant("s1", client: "self"))
            try await store.noteParticipant(Self.participant("s2"))
            try await store.noteParticipant(Self.participant("s3", user: "u2"))
            try await store.noteParticipant(Self.participant("s4", tenant: "fabrikam"))
            let first = try await store.takeParticipants(tenant: "contoso", userID: "u1", sid: "s1")
            #expect(first == [Self.participant("s1", client: "self"), Self.participant("s1")])
            #expect(try await store.takeParticipants(tenant: "contoso", userID: "u1", sid: "s1").isEmpty, "taken once")
            #expect(try await store.takeParticipants(tenant: "contoso", userID: "u2", sid: "s2").isEmpty, "another user's session")
            #expect(try await store.takeParticipants(tenant: "contoso", userID: "u1", sid: nil).map(\.sid) == ["s2"])
            #expect(try await store.purgeParticipants(now: epoch.addingTimeInterval(60), limit: 10) == 0, "not expired yet")
            #expect(try await store.purgeParticipants(now: epoch.addingTimeInterval(7200), limit: 1) == 1)
            #expect(try await store.purgeParticipants(now: epoch.addingTimeInterval(7200), limit: 10) == 1)
            #expect(try await store.takeParticipants(tenant: "fabrikam", userID: "u1", sid: nil).isEmpty)
        }
    }

    @Test(arguments: Backend.allCases)
    func requestAndLogoutSettingsOfClientsAndTenantsAreKept(backend: Backend) async throws {
        try await withStore(backend) { (store: any GatehouseStore) async throws in
            let tenant = try TenantName("contoso")
            try await store.createTenant(Tenant(name: tenant, displayName: "Contoso", createdAt: epoch))
            var client = Client(
                tenant: tenant, id: try ClientID("rp"), name: "RP", type: .confidential, authMethods: [.clientSecretBasic],
                grantTypes: [.authorizationCode], allowedScopes: Scope(tokens: ["openid"]), defaultScopes: .empty,
                redirectURIs: ["https://rp.example.com/cb"], createdAt: epoch)
            client.backchannelLogoutURI = "https://rp.example.com/logout"
            client.backchannelLogoutSessionRequired = true
            client.requirePushedAuthorizationRequests = true
            try await store.createClient(client)
            var read = try #require(try await store.client(tenant: tenant, id: client.id))
            #expect(read.backchannelLogoutURI == client.backchannelLogoutURI)
            #expect(read.backchannelLogoutSessionRequired && read.requirePushedAuthorizationRequests && !read.requireSignedRequestObject)
            read.backchannelLogoutURI = nil
            read.requirePushedAuthorizationRequests = false
            read.requireSignedRequestObject = true
            #expect(try await store.updateClient(read))
            let again = try #require(try await store.client(tenant: tenant, id: client.id))
            #expect(again.backchannelLogoutURI == nil && !again.requirePushedAuthorizationRequests && again.requireSignedRequestObject)
            #expect(try await store.tenant(named: tenant)?.requirePushedAuthorizationRequests == false)
            #expect(try await store.setRequirePushedAuthorizationRequests(true, tenant: tenant))
            #expect(try await store.tenant(named: tenant)?.requirePushedAuthorizationRequests == true)
            #expect(try await store.setRequirePushedAuthorizationRequests(true, tenant: TenantName("nobody")) == false)
        }
    }
}
