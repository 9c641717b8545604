import Crypto
import Foundation
import GatehouseCore
import GatehouseServer
import HTTPTypes
import HummingbirdTesting
import Testing
import X509

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

    @Test func aDisabledClientGetsNothingUntilEnabledAgain() async throws {
        let harness = try await Harness.make()
        let admin = harness.gatehouse.administration
        let tenant = try TenantName(Harness.tenant)
        var off = Administration.ClientChange()
        off.enabled = false
        _ = try await admin.updateClient(tenant: tenant, id: try ClientID("svc"), change: off)
        _ = try await admin.updateClient(tenant: tenant, id: try ClientID("web"), change: off)
        let cc = [("grant_type", "client_credentials"), ("client_id", "svc"), ("client_secret", harness.secret("svc"))]
        try await harness.withClient { client in
            expectError(try await harness.token(client, cc), status: 400, error: "unauthorized_client", code: 7_000_112)
            // The sign-in page is not shown for it: the error page instead (no redirect to the client).
            let page = try await client.execute(uri: harness.authorizeURI(), method: .get)
            #expect(page.status == .badRequest && page.headers[.location] == nil)
            #expect(String(buffer: page.body).contains("7000112"))
            // A wrong secret for a disabled client is answered the same way (nothing is checked).
            let wrong = [("grant_type", "client_credentials"), ("client_id", "svc"), ("client_secret", "nope")]
            expectError(try await harness.token(client, wrong), status: 400, error: "unauthorized_client", code: 7_000_112)
        }
        var on = Administration.ClientChange()
        on.enabled = true
        let enabled = try await admin.updateClient(tenant: tenant, id: try ClientID("svc"), change: on)
        let secrets = try await harness.store.secrets(tenant: tenant, clientID: try ClientID("svc"))
        #expect(enabled.enabled && secrets.count == 1)
        try await harness.withClient { client in
            let again = try await harness.token(client, cc)
            #expect(again.status == .ok, "the same secret works again")
        }
        let audited = try await harness.store.auditEntries(AuditQuery(tenant: tenant, action: "client.update", target: "svc"))
        #expect(audited.count == 2 && audited.first?.after?.contains(#""enabled":true"#) == true)
    }

    @Test func aCertificateIsRemovedByThumbprintAndTheLastKeyIsKept() async throws {
        let harness = try await Harness.make()
        let admin = harness.gatehouse.administration
        let tenant = try TenantName(Harness.tenant)
        let id = try ClientID("jwt-client")
        let first = try TestCertificates.make(commonName: "one")
        let second = try TestCertificates.make(commonName: "two")
        let one = try await admin.addCertificate(tenant: tenant, clientID: id, pem: first)
        _ = try await admin.addCertificate(tenant: tenant, clientID: id, pem: second)
        let left = try await admin.removeCertificate(tenant: tenant, clientID: id, thumbprint: one.thumbprintHex)
        #expect(left.certificates == [second])
        await #expect(throws: Administration.AdministrationError.self) {
            try await admin.removeCertificate(tenant: tenant, clientID: id, thumbprint: one.thumbprintHex)
        }
        // A client whose only key is its last certificate keeps it.
        var spec = Administration.ClientSpec(id: try ClientID("cert-only"), name: "cert-only")
        spec.certificates = [first]
        _ = try await admin.createClient(tenant: tenant, spec: spec)
        let sha256 = Base64URL.encode(try ClientCertificate(pem: first).sha256)
        await #expect(throws: Administration.AdministrationError.self) {
            try await admin.removeCertificate(tenant: tenant, clientID: try ClientID("cert-only"), thumbprint: sha256)
        }
    }
}

/// Self-signed certificates for client credentials tests.
enum TestCertificates {
    static func make(commonName: String) throws -> String {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName(commonName) }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: Date().addingTimeInterval(-60), notValidAfter: Date().addingTimeInterval(86_400), issuer: name,
            subject: name, signatureAlgorithm: .ecdsaWithSHA256, extensions: Certificate.Extensions(),
            issuerPrivateKey: Certificate.PrivateKey(key))
        return try certificate.serializeAsPEM().pemString
    }
}
