import Foundation
import GatehouseCore
import GatehouseServer
import HummingbirdTesting
import JWTKit
import Testing

/// What a newcomer's first hour showed missing: sign-in by email address (a tenant setting),
/// first-party clients without a consent page, the credential and refused scope in the sign-in
/// log with each secret's last use, and a tenant's algorithm and token lifetime changed later.
@Suite struct FirstHourTests {
    static let tenant = try! TenantName("contoso")

    static func signInPage(_ browser: Browser, _ harness: Harness) async throws -> (page: String, interaction: String, csrf: String) {
        let page = try await browser.get(harness.authorizeURI())
        return (String(buffer: page.body), field("interaction", in: page) ?? "", field("csrf", in: page) ?? "")
    }

    @Test func usersSignInWithTheirEmailAddressWhileTheTenantAllowsIt() async throws {
        let harness = try await Harness.make()
        let admin = harness.gatehouse.administration
        // On by default: the address (any case) signs alice in, at the password check and on the page.
        #expect(
            try await harness.gatehouse.passwords.verify(tenant: Self.tenant, username: " Alice@Example.COM", password: Harness.password)
                .username.value == "alice")
        try await harness.withClient { client in
            let browser = Browser(client)
            let (page, interaction, csrf) = try await Self.signInPage(browser, harness)
            #expect(page.contains("Username or email address"))
            let consent = try await browser.post(
                "/contoso/oauth2/login",
                [("interaction", interaction), ("csrf", csrf), ("username", "alice@example.com"), ("password", Harness.password)])
            #expect(consent.status == .ok && String(buffer: consent.body).contains("oauth2/consent"), "signed in, asked to consent")
        }
        // A second user with alice's address is a catalogue error while it is on.
        await #expect(throws: Administration.AdministrationError.self) {
            _ = try await admin.createUser(
                tenant: Self.tenant, username: "alice2", email: "ALICE@example.com", displayName: nil, password: Harness.password,
                passwords: harness.gatehouse.passwordHasher)
        }
        // A username that is another user's address, or an address that is another user's username.
        await #expect(throws: Administration.AdministrationError.self) {
            _ = try await admin.createUser(
                tenant: Self.tenant, username: "Alice@example.com", email: nil, displayName: nil, password: Harness.password,
                passwords: harness.gatehouse.passwordHasher)
        }
        _ = try await admin.createUser(
            tenant: Self.tenant, username: "bob@x", email: nil, displayName: nil, password: Harness.password,
            passwords: harness.gatehouse.passwordHasher)
        await #expect(throws: Administration.AdministrationError.self) {
            _ = try await admin.createUser(
                tenant: Self.tenant, username: "dora", email: "BOB@x", displayName: nil, password: Harness.password,
                passwords: harness.gatehouse.passwordHasher)
        }
        // Off: the address is an unknown sign-in name (50126 to the user, 50034 in the log), and the field says so.
        _ = try await admin.updateTenant(tenant: Self.tenant, emailSignIn: false)
        await #expect(throws: CatalogueError.self) {
            _ = try await harness.gatehouse.passwords.verify(tenant: Self.tenant, username: "alice@example.com", password: Harness.password)
        }
        try await harness.withClient { client in
            let (page, _, _) = try await Self.signInPage(Browser(client), harness)
            #expect(page.contains(">Username<"))
        }
        // Two users with one address: on is refused, naming the address, until it is one user's.
        let twin = try await admin.createUser(
            tenant: Self.tenant, username: "alice2", email: "alice@example.com", displayName: nil, password: Harness.password,
            passwords: harness.gatehouse.passwordHasher)
        do {
            _ = try await admin.updateTenant(tenant: Self.tenant, emailSignIn: true)
            Issue.record("turning email sign-in on with a shared address must be refused")
        } catch let error as Administration.AdministrationError {
            #expect(error.field == "email_sign_in" && error.message.contains("alice@example.com"))
            #expect(error.catalogueError.entry.number == 9900202)
        }
        #expect(try await harness.store.tenant(named: Self.tenant)?.emailSignIn == false)
        _ = try await harness.store.setEmailSignIn(false, tenant: Self.tenant)
        _ = twin
    }

    @Test func aFirstPartyClientsUsersSeeNoConsentPageUnlessTheRequestAsks() async throws {
        let harness = try await Harness.make()
        var change = Administration.ClientChange()
        change.firstParty = true
        _ = try await harness.gatehouse.administration.updateClient(tenant: Self.tenant, id: try ClientID("web"), change: change)
        try await harness.withClient { client in
            let browser = Browser(client)
            let (_, interaction, csrf) = try await Self.signInPage(browser, harness)
            let signedIn = try await browser.post(
                "/contoso/oauth2/login",
                [("interaction", interaction), ("csrf", csrf), ("username", "alice"), ("password", Harness.password)])
            #expect(redirectParameters(signedIn)["code"] != nil, "straight back with a code: no consent page")
            #expect(redirectParameters(try await browser.get(harness.authorizeURI(extra: [("prompt", "none")])))["code"] != nil)
            // prompt=consent still asks (OpenID Connect Core §3.1.2.1).
            let forced = try await browser.get(harness.authorizeURI(extra: [("prompt", "consent")]))
            #expect(forced.status == .ok && String(buffer: forced.body).contains("oauth2/consent"))
            // Another (third-party) client of the tenant still asks.
            let other = try await browser.get(harness.authorizeURI(client: "web2"))
            #expect(other.status == .ok && String(buffer: other.body).contains("oauth2/consent"))
        }
    }

    @Test func theSignInLogNamesTheCredentialAndTheRefusedScopeAndSecretsRecordTheirLastUse() async throws {
        let harness = try await Harness.make()
        let secrets = try await harness.store.secrets(tenant: Self.tenant, clientID: try ClientID("svc"))
        let secretID = try #require(secrets.first?.secretID)
        #expect(secrets.first?.lastUsedAt == nil)
        let assertion = try await harness.assertion()
        #expect(header(assertion)["kid"] == nil, "this assertion names no key: the log says 'key'")
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: harness.clientKey, kid: "k1")
        let named = try await keys.sign(
            AssertionPayload(
                iss: "jwt-client", sub: "jwt-client", aud: Harness.tokenEndpoint, exp: Date().timeIntervalSince1970 + 120,
                iat: Date().timeIntervalSince1970, jti: UUID().uuidString),
            kid: "k1")
        let (refused, granted, asserted) = try await harness.withClient { client in
            let refused = try await harness.token(
                client,
                [
                    ("grant_type", "client_credentials"), ("scope", "api.read admin"), ("client_id", "svc"),
                    ("client_secret", harness.secret("svc")),
                ])
            let granted = try await harness.token(
                client, [("grant_type", "client_credentials"), ("client_id", "svc"), ("client_secret", harness.secret("svc"))])
            let asserted = try await harness.token(
                client,
                [
                    ("grant_type", "client_credentials"), ("client_assertion_type", PresentedClientCredentials.jwtBearerAssertionType),
                    ("client_assertion", assertion),
                ])
            let withKid = try await harness.token(
                client,
                [
                    ("grant_type", "client_credentials"), ("client_assertion_type", PresentedClientCredentials.jwtBearerAssertionType),
                    ("client_assertion", named),
                ])
            #expect(withKid.status == .ok, "\(String(buffer: withKid.body))")
            return (
                json(refused)["trace_id"] as? String ?? "", granted.headers[.init("X-Trace-Id")!] ?? "",
                [asserted.headers[.init("X-Trace-Id")!] ?? "", withKid.headers[.init("X-Trace-Id")!] ?? ""]
            )
        }
        await harness.gatehouse.signIns.flush()
        let refusal = try #require(try await harness.store.signIns(SignInQuery(traceID: refused)).first)
        #expect(refusal.errorCode == 9900121)
        #expect(refusal.scopes == "api.read admin", "what was asked for")
        #expect(refusal.detail?.contains("refused scope 'admin'") == true)
        #expect(refusal.credential == "secret \(secretID)")
        #expect(try await harness.store.signIns(SignInQuery(traceID: granted)).first?.credential == "secret \(secretID)")
        #expect(try await harness.store.signIns(SignInQuery(traceID: asserted[0])).first?.credential == "key")
        let namedEvents = try await harness.store.signIns(SignInQuery(traceID: asserted[1]))
        #expect(namedEvents.first?.credential == "key k1", "\(header(named)) \(namedEvents)")
        // The secret's use, written off the request path.
        await harness.gatehouse.secretUsage.flush()
        let used = try #require(try await harness.store.secrets(tenant: Self.tenant, clientID: try ClientID("svc")).first?.lastUsedAt)
        #expect(abs(used.timeIntervalSinceNow) < 60)
    }

    @Test func aSecretsUseIsQueuedAtMostOnceAMinute() async throws {
        let store = InMemoryStore()
        let recorder = SecretUsageRecorder(store: store, logger: .init(label: "test"))
        let client = try ClientID("svc")
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        try await store.createTenant(Tenant(name: Self.tenant, displayName: "c", createdAt: start))
        try await store.addSecret(
            ClientSecretRecord(
                tenant: Self.tenant, clientID: client, secretID: "s1", hash: "h", hint: "abc", createdAt: start, expiresAt: nil))
        for second in [0.0, 10, 59] {
            recorder.note(tenant: Self.tenant, clientID: client, secretID: "s1", now: start.addingTimeInterval(second))
        }
        await recorder.flush()
        #expect(try await store.secrets(tenant: Self.tenant, clientID: client).first?.lastUsedAt == start, "one write for the minute")
        recorder.note(tenant: Self.tenant, clientID: client, secretID: "s1", now: start.addingTimeInterval(61))
        await recorder.flush()
        #expect(try await store.secrets(tenant: Self.tenant, clientID: client).first?.lastUsedAt == start.addingTimeInterval(61))
    }

    @Test func aTenantsAlgorithmChangesThroughTheNextRotationAndItsTokenLifetimeAtOnce() async throws {
        let harness = try await Harness.make()
        let admin = harness.gatehouse.administration
        let before = try await harness.store.keys(tenant: Self.tenant)
        let oldActive = try #require(before.first { $0.status == .active })
        #expect(oldActive.algorithm == .es256)
        _ = try await admin.updateTenant(tenant: Self.tenant, algorithm: .rs256, accessTokenLifetime: 900)
        let keys = try await harness.store.keys(tenant: Self.tenant)
        #expect(keys.filter { $0.status == .next }.map(\.algorithm) == [.rs256], "the next key is of the new algorithm")
        #expect(keys.first { $0.status == .active }?.kid == oldActive.kid, "the active key signs until the rotation")
        harness.gatehouse.keyRings.invalidateAll()
        harness.gatehouse.tenants.invalidateAll()
        try await harness.withClient { client in
            let discovery = json(try await client.execute(uri: "/contoso/.well-known/openid-configuration", method: .get))
            #expect(discovery["id_token_signing_alg_values_supported"] as? [String] == ["ES256", "RS256"])
            let first = json(
                try await harness.token(
                    client, [("grant_type", "client_credentials"), ("client_id", "svc"), ("client_secret", harness.secret("svc"))]))
            #expect(first["expires_in"] as? Int == 900, "the new lifetime at once")
            #expect(header(first["access_token"] as? String ?? "")["alg"] as? String == "ES256")
        }
        _ = try await admin.rotateKeys(tenant: Self.tenant)
        harness.gatehouse.keyRings.invalidateAll()
        try await harness.withClient { client in
            let token = json(
                try await harness.token(
                    client, [("grant_type", "client_credentials"), ("client_id", "svc"), ("client_secret", harness.secret("svc"))]))
            #expect(header(token["access_token"] as? String ?? "")["alg"] as? String == "RS256")
            // The ES256 key that signed earlier tokens is still published, retired.
            let jwks = json(try await client.execute(uri: "/contoso/discovery/keys", method: .get))
            let published = (jwks["keys"] as? [[String: Any]] ?? []).compactMap { $0["kid"] as? String }
            #expect(published.contains(oldActive.kid))
        }
        #expect(try await harness.store.keys(tenant: Self.tenant).first { $0.kid == oldActive.kid }?.status == .retired)
    }

    /// What the newcomer's read-through found unguarded: a client's last credential, a retired key
    /// whose tokens are still valid, and no way to move a client to certificates in one change.
    @Test func aClientKeepsACredentialAndAKeyStaysUntilItsTokensExpire() async throws {
        let harness = try await Harness.make()
        let admin = harness.gatehouse.administration
        let svc = try ClientID("svc")
        let only = try #require(try await harness.store.secrets(tenant: Self.tenant, clientID: svc).first)
        do {
            try await admin.removeSecret(tenant: Self.tenant, clientID: svc, secretID: only.secretID)
            Issue.record("the last secret of a client without keys must stay")
        } catch let error as Administration.AdministrationError {
            #expect(error.kind == .conflict && error.message.contains("last credential"))
        }
        let next = try await admin.addSecret(tenant: Self.tenant, clientID: svc, lifetime: nil)
        try await admin.removeSecret(tenant: Self.tenant, clientID: svc, secretID: only.secretID)
        #expect(try await harness.store.secrets(tenant: Self.tenant, clientID: svc).map(\.secretID) == [next.record.secretID])

        // From secrets to a certificate in one change; then the last secret may go.
        var change = Administration.ClientChange()
        change.authMethods = [.privateKeyJWT]
        change.addCertificates = [try TestCertificates.make(commonName: "svc")]
        let moved = try await admin.updateClient(tenant: Self.tenant, id: svc, change: change)
        #expect(moved.certificates.count == 1 && moved.authMethods == [.privateKeyJWT])
        try await admin.removeSecret(tenant: Self.tenant, clientID: svc, secretID: next.record.secretID)

        // A key retired just now signed tokens that are still valid: refused unless forced.
        let rotation = try await admin.rotateKeys(tenant: Self.tenant)
        let retired = try #require(rotation.retired)
        do {
            try await admin.removeRetiredKey(tenant: Self.tenant, kid: retired, longestTokenLifetime: 3600)
            Issue.record("a key whose tokens may be valid must stay unless forced")
        } catch let error as Administration.AdministrationError {
            #expect(error.kind == .conflict && error.message.contains("may be valid until"))
        }
        try await admin.removeRetiredKey(tenant: Self.tenant, kid: retired)
        #expect(try await harness.store.keys(tenant: Self.tenant).contains { $0.kid == retired } == false)
    }

    /// The sign-in log knows the user at the consent and the logout, so a search by user finds them.
    @Test func theConsentAndTheLogoutAreLoggedWithTheirUser() async throws {
        let harness = try await Harness.make()
        let alice = try #require(try await harness.store.user(tenant: Self.tenant, username: try Username("alice")))
        try await harness.withClient { client in
            let browser = Browser(client)
            let pkce = PKCEPair()
            let done = try await harness.signIn(browser, uri: harness.authorizeURI(pkce: pkce))
            let code = try #require(redirectParameters(done)["code"])
            let tokens = json(try await harness.redeem(client, code: code, pkce: pkce))
            let idToken = try #require(tokens["id_token"] as? String)
            let out = try await browser.get(
                "/contoso/oauth2/logout?"
                    + formEncode([("id_token_hint", idToken), ("post_logout_redirect_uri", "https://web.example.com/bye")]))
            #expect(out.status == .seeOther)
        }
        await harness.gatehouse.signIns.flush()
        let steps = try await harness.store.signIns(SignInQuery(userID: alice.id)).compactMap(\.grantType)
        for step in ["sign_in", "consent", "logout"] { #expect(steps.contains(step), "\(steps)") }
    }
}

/// A JWT's header.
func header(_ jwt: String) -> [String: Any] {
    guard let first = jwt.split(separator: ".").first, let data = Base64URL.decode(first),
        let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    else { return [:] }
    return object
}
