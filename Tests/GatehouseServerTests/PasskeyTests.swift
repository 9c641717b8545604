import Crypto
import Foundation
import GatehouseCore
import GatehouseServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// A software authenticator (P-256, ES256) that answers the pages' challenges the way a browser's
/// `navigator.credentials` would: clientDataJSON, authenticator data, the attestation object.
struct TestAuthenticator {
    let key = P256.Signing.PrivateKey()
    let credentialID: [UInt8] = (0..<16).map { _ in UInt8.random(in: 0...255) }
    var counter: UInt32 = 0
    /// Flags beyond UP and UV: 0x08 backup eligible (a synced passkey), 0x10 backed up.
    var extraFlags: UInt8 = 0
    var userHandle: String?

    var id: String { Base64URL.encode(credentialID) }

    // A minimal CBOR encoder for what an authenticator writes (RFC 8949 §3: definite lengths).
    enum Item {
        case int(Int)
        case bytes([UInt8])
        case text(String)
        case map([(Item, Item)])
    }

    static func head(_ major: UInt8, _ value: UInt64) -> [UInt8] {
        switch value {
        case 0..<24: [major << 5 | UInt8(value)]
        case 24..<256: [major << 5 | 24, UInt8(value)]
        case 256..<65536: [major << 5 | 25, UInt8(value >> 8), UInt8(value & 0xff)]
        default: [major << 5 | 26] + [24, 16, 8, 0].map { UInt8((value >> UInt64($0)) & 0xff) }
        }
    }

    static func encode(_ item: Item) -> [UInt8] {
        switch item {
        case .int(let value): value >= 0 ? head(0, UInt64(value)) : head(1, UInt64(-1 - value))
        case .bytes(let bytes): head(2, UInt64(bytes.count)) + bytes
        case .text(let text): head(3, UInt64(text.utf8.count)) + Array(text.utf8)
        case .map(let pairs): head(5, UInt64(pairs.count)) + pairs.flatMap { encode($0.0) + encode($0.1) }
        }
    }

    var coseKey: [UInt8] {
        let point = Array(key.publicKey.x963Representation)
        return Self.encode(
            .map([
                (.int(1), .int(2)), (.int(3), .int(-7)), (.int(-1), .int(1)), (.int(-2), .bytes(Array(point[1...32]))),
                (.int(-3), .bytes(Array(point[33...]))),
            ]))
    }

    static func clientData(type: String, challenge: String, origin: String) -> [UInt8] {
        Array(#"{"type":"\#(type)","challenge":"\#(challenge)","origin":"\#(origin)","crossOrigin":false}"#.utf8)
    }

    func authData(rpID: String, flags: UInt8, withCredential: Bool) -> [UInt8] {
        var bytes = Array(SHA256.hash(data: Array(rpID.utf8)))
        bytes.append(flags | extraFlags | (withCredential ? 0x40 : 0))
        bytes += [24, 16, 8, 0].map { UInt8((counter >> UInt32($0)) & 0xff) }
        if withCredential { bytes += [UInt8](repeating: 0, count: 16) + [0, UInt8(credentialID.count)] + credentialID + coseKey }
        return bytes
    }

    /// The registration form's fields for `challenge`; `packed`: a self-attestation statement
    /// (the credential's key signs authData ‖ SHA-256(clientDataJSON)).
    func register(challenge: String, origin: String = Harness.baseURL, rpID: String = "login.test", packed: Bool = false)
        -> [(String, String)]
    {
        let clientData = Self.clientData(type: "webauthn.create", challenge: challenge, origin: origin)
        let data = authData(rpID: rpID, flags: 0x05, withCredential: true)
        var statement = Item.map([])
        if packed, let signature = try? key.signature(for: data + Array(SHA256.hash(data: clientData))) {
            statement = .map([(.text("alg"), .int(-7)), (.text("sig"), .bytes(Array(signature.derRepresentation)))])
        }
        let object = Self.encode(
            .map([(.text("fmt"), .text(packed ? "packed" : "none")), (.text("attStmt"), statement), (.text("authData"), .bytes(data))]))
        return [
            ("client_data", Base64URL.encode(clientData)), ("attestation_object", Base64URL.encode(object)),
            ("transports", "internal,hybrid"),
        ]
    }

    /// The assertion form's fields for `challenge` (the counter moves on by one first).
    mutating func assert(challenge: String, origin: String = Harness.baseURL, rpID: String = "login.test", flags: UInt8 = 0x05)
        -> [(String, String)]
    {
        counter += 1
        let clientData = Self.clientData(type: "webauthn.get", challenge: challenge, origin: origin)
        let data = authData(rpID: rpID, flags: flags, withCredential: false)
        let signature = Array((try? key.signature(for: data + Array(SHA256.hash(data: clientData))).derRepresentation) ?? Data())
        return [
            ("credential_id", id), ("client_data", Base64URL.encode(clientData)), ("authenticator_data", Base64URL.encode(data)),
            ("signature", Base64URL.encode(signature)), ("user_handle", userHandle.map { Base64URL.encode(Array($0.utf8)) } ?? ""),
        ]
    }
}

/// A `data-…` attribute's value in a page.
func dataAttribute(_ name: String, in response: TestResponse) -> String? {
    let html = String(buffer: response.body)
    guard let range = html.range(of: #"data-\#(name)="([^"]*)""#, options: .regularExpression) else { return nil }
    return html[range].split(separator: "\"", omittingEmptySubsequences: false).dropLast().last.map(String.init)
}

/// Passkeys through the in-process server: registered on the account page, used alone and as the
/// second factor with the exact `amr`, and every refusal (replay, origin, expiry, counter, another
/// tenant's or user's credential, removal) shown as its catalogue entry, never a lockout.
@Suite struct PasskeyTests {
    static let contoso = try! TenantName("contoso")

    /// Registers a passkey for `user` through the account page; returns the authenticator.
    static func register(_ harness: Harness, _ client: any TestClientProtocol, user: String = "alice", synced: Bool = false)
        async throws -> TestAuthenticator
    {
        let browser = Browser(client)
        _ = try await AccountPageTests.signIn(browser, user: user)
        let page = try await browser.get("/contoso/account/passkeys/new")
        let html = String(buffer: page.body)
        #expect(page.status == .ok && html.contains("data-mode=\"register\""), "\(html.prefix(400))")
        #expect(page.headers[.contentSecurityPolicy]?.contains("script-src 'nonce-") == true)
        let challenge = try #require(dataAttribute("challenge", in: page))
        #expect(dataAttribute("rp-id", in: page) == "login.test")
        var authenticator = TestAuthenticator()
        authenticator.extraFlags = synced ? 0x18 : 0
        authenticator.userHandle = try await harness.store.user(tenant: contoso, username: try Username(user))?.id
        #expect(dataAttribute("user-id", in: page) == authenticator.userHandle)
        let posted = try await browser.post(
            "/contoso/account/passkeys/new",
            [("csrf", field("csrf", in: page) ?? ""), ("name", "Test key")] + authenticator.register(challenge: challenge))
        #expect(posted.status == .seeOther, "\(String(buffer: posted.body))")
        #expect(AccountPageTests.path(posted.headers[.location]) == "/contoso/account/passkeys?done=passkeyAdded")
        return authenticator
    }

    /// Signs in to the account page with the passkey alone (`start`: a reauthentication URL).
    static func accountSignIn(_ browser: Browser, _ authenticator: inout TestAuthenticator, start: String = "/contoso/account")
        async throws -> TestResponse
    {
        var next = start
        for _ in 0..<4 where !next.contains("/oauth2/authorize") {
            next = AccountPageTests.path(try await browser.get(next).headers[.location])
        }
        let page = try await browser.get(next)
        let challenge = try #require(dataAttribute("challenge", in: page), "\(String(buffer: page.body).prefix(300))")
        let posted = try await passkeyPost(browser, page: page, answer: authenticator.assert(challenge: challenge))
        let callback = AccountPageTests.path(posted.headers[.location])
        #expect(callback.hasPrefix("/contoso/account/callback?"), "\(posted.status) \(String(buffer: posted.body).prefix(300))")
        let back = try await browser.get(callback)
        return try await browser.get(AccountPageTests.path(back.headers[.location]))
    }

    /// Starts an authorization request of `web`; returns the sign-in page.
    static func loginPage(_ harness: Harness, _ browser: Browser, pkce: PKCEPair) async throws -> TestResponse {
        let page = try await browser.get(harness.authorizeURI(pkce: pkce))
        #expect(page.status == .ok && String(buffer: page.body).contains("autocomplete=\"username webauthn\""))
        return page
    }

    static func passkeyPost(_ browser: Browser, page: TestResponse, answer: [(String, String)]) async throws -> TestResponse {
        try await browser.post(
            "/contoso/oauth2/login/passkey",
            [("interaction", field("interaction", in: page) ?? ""), ("csrf", field("csrf", in: page) ?? "")] + answer)
    }

    /// Allows the consent page (if shown) and redeems the code; returns the ID token's claims.
    static func finish(_ harness: Harness, _ client: any TestClientProtocol, _ browser: Browser, _ response: TestResponse, pkce: PKCEPair)
        async throws -> [String: Any]
    {
        var reply = response
        if reply.status == .ok, let interaction = field("interaction", in: reply), String(buffer: reply.body).contains("oauth2/consent") {
            reply = try await browser.post(
                "/contoso/oauth2/consent", [("interaction", interaction), ("csrf", field("csrf", in: reply) ?? ""), ("decision", "allow")])
        }
        let code = try #require(redirectParameters(reply)["code"], "\(reply.status) \(String(buffer: reply.body).prefix(600))")
        let tokens = json(try await harness.redeem(client, code: code, pkce: pkce))
        return claims(tokens["id_token"] as? String ?? "")
    }

    @Test func aPasskeyAloneSignsInWithHwkOrSwkAndUser() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            _ = try await harness.gatehouse.administration.createUser(
                tenant: Self.contoso, username: "dora", email: nil, displayName: "Dora", password: Harness.password,
                passwords: harness.gatehouse.passwordHasher)
            for synced in [false, true] {
                let user = synced ? "dora" : "alice"
                var authenticator = try await Self.register(harness, client, user: user, synced: synced)
                let stored = try #require(try await harness.store.passkey(tenant: Self.contoso, credentialID: authenticator.id))
                #expect(stored.name == "Test key" && stored.transports == ["internal", "hybrid"] && stored.backupEligible == synced)
                // A new browser: no password typed, no second factor (bob has TOTP) asked.
                let browser = Browser(client)
                let pkce = PKCEPair()
                let page = try await Self.loginPage(harness, browser, pkce: pkce)
                #expect(page.headers[.contentSecurityPolicy]?.contains("script-src 'nonce-") == true)
                let challenge = try #require(dataAttribute("challenge", in: page))
                let response = try await Self.passkeyPost(browser, page: page, answer: authenticator.assert(challenge: challenge))
                let idToken = try await Self.finish(harness, client, browser, response, pkce: pkce)
                #expect(idToken["amr"] as? [String] == [synced ? "swk" : "hwk", "user"], "\(idToken)")
                #expect(idToken["acr"] as? String == "1")
                let used = try #require(try await harness.store.passkey(tenant: Self.contoso, credentialID: authenticator.id))
                #expect(used.signCount == 1 && used.lastUsedAt != nil && used.backedUp == synced)
            }
        }
    }

    @Test func aPasskeyAfterThePasswordIsTheSecondFactor() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            var authenticator = try await Self.register(harness, client)
            let browser = Browser(client)
            let pkce = PKCEPair()
            let page = try await Self.loginPage(harness, browser, pkce: pkce)
            let second = try await browser.post(
                "/contoso/oauth2/login",
                [
                    ("interaction", field("interaction", in: page) ?? ""), ("csrf", field("csrf", in: page) ?? ""), ("username", "alice"),
                    ("password", Harness.password),
                ])
            // The right password left the account's count (as for a TOTP user) until the second factor.
            let alice = try #require(try await harness.store.user(tenant: Self.contoso, username: try Username("alice")))
            let lockKey = PasswordSignIn.lockKey(tenant: Self.contoso, user: alice, device: nil)
            #expect(try await harness.store.signInFailures(key: lockKey, since: Date().addingTimeInterval(-600)) == 1)
            let html = String(buffer: second.body)
            // Alice has no authenticator app: the page offers her passkeys only, by their IDs.
            #expect(second.status == .ok && html.contains("data-mode=\"second\"") && !html.contains("name=\"otp\""), "\(html.prefix(500))")
            #expect(dataAttribute("allow", in: second) == authenticator.id)
            // Another user's passkey does not finish alice's sign-in.
            var mallory = TestAuthenticator()
            _ = try await harness.store.addPasskey(
                Passkey(
                    tenant: Self.contoso, userID: "someone-else", credentialID: mallory.id, publicKey: mallory.coseKey, signCount: 0,
                    transports: [], aaguid: "", backupEligible: false, backedUp: false, attestationFormat: "none", name: "m",
                    createdAt: Date()))
            let refused = try await Self.passkeyPost(
                browser, page: second, answer: mallory.assert(challenge: try #require(dataAttribute("challenge", in: second))))
            #expect(refused.status == .badRequest && String(buffer: refused.body).contains("9900208"))
            // A fresh challenge came with the refusal; alice's own passkey finishes.
            let challenge = try #require(dataAttribute("challenge", in: refused))
            let response = try await Self.passkeyPost(browser, page: refused, answer: authenticator.assert(challenge: challenge))
            let idToken = try await Self.finish(harness, client, browser, response, pkce: pkce)
            #expect(idToken["amr"] as? [String] == ["pwd", "hwk", "mfa"], "\(idToken)")
            #expect(idToken["acr"] as? String == "2")
            #expect(
                try await harness.store.signInFailures(key: lockKey, since: Date().addingTimeInterval(-600)) == 0, "cleared by the passkey")
        }
    }

    @Test func refusalsAreCatalogueErrorsAndNeverLockTheUser() async throws {
        let time = ManualTime()
        let harness = try await Harness.make(time: time.source)
        try await harness.withClient { client in
            var authenticator = try await Self.register(harness, client)
            let browser = Browser(client)
            let pkce = PKCEPair()
            var page = try await Self.loginPage(harness, browser, pkce: pkce)

            // Wrong origin (a phishing site relaying the prompt), and an RP ID of another site.
            var challenge = try #require(dataAttribute("challenge", in: page))
            page = try await Self.passkeyPost(
                browser, page: page, answer: authenticator.assert(challenge: challenge, origin: "https://login.test.evil"))
            #expect(page.status == .badRequest && String(buffer: page.body).contains("9900206"))
            challenge = try #require(dataAttribute("challenge", in: page))
            page = try await Self.passkeyPost(browser, page: page, answer: authenticator.assert(challenge: challenge, rpID: "evil.test"))
            #expect(String(buffer: page.body).contains("9900206"))

            // A replayed answer: its challenge was taken by the first post.
            challenge = try #require(dataAttribute("challenge", in: page))
            let answer = authenticator.assert(challenge: challenge, origin: "https://other.test")
            page = try await Self.passkeyPost(browser, page: page, answer: answer)
            let replay = try await Self.passkeyPost(browser, page: page, answer: answer)
            #expect(String(buffer: replay.body).contains("9900207") || String(buffer: replay.body).contains("9900206"))
            let good = authenticator.assert(challenge: challenge)
            let replayedGood = try await Self.passkeyPost(browser, page: replay, answer: good)
            #expect(replayedGood.status == .badRequest && String(buffer: replayedGood.body).contains("9900207"), "a used challenge")
            page = replayedGood

            // An expired challenge.
            challenge = try #require(dataAttribute("challenge", in: page))
            time.now = time.now.addingTimeInterval(301)
            page = try await Self.passkeyPost(browser, page: page, answer: authenticator.assert(challenge: challenge))
            #expect(String(buffer: page.body).contains("9900207"))

            // A passkey alone must verify the user, even where the policy only prefers it: a
            // presence-only answer (a stolen security key asked without its PIN) is refused.
            #expect(try await harness.store.tenant(named: Self.contoso)?.passkeyPolicy.userVerification == .preferred)
            challenge = try #require(dataAttribute("challenge", in: page))
            page = try await Self.passkeyPost(browser, page: page, answer: authenticator.assert(challenge: challenge, flags: 0x01))
            #expect(String(buffer: page.body).contains("9900210"), "\(String(buffer: page.body).prefix(300))")

            // Backup eligibility is fixed at registration: an answer that claims otherwise is refused.
            challenge = try #require(dataAttribute("challenge", in: page))
            var synced = authenticator
            synced.extraFlags = 0x08
            page = try await Self.passkeyPost(browser, page: page, answer: synced.assert(challenge: challenge))
            #expect(String(buffer: page.body).contains("9900212"), "\(String(buffer: page.body).prefix(300))")
            authenticator.counter = synced.counter

            // A counter that goes backwards: refused and flagged.
            challenge = try #require(dataAttribute("challenge", in: page))
            var clone = authenticator
            clone.counter = 0
            _ = try await Self.passkeyPost(browser, page: page, answer: authenticator.assert(challenge: challenge))
            let another = Browser(client)
            let fresh = try await Self.loginPage(harness, another, pkce: pkce)
            let cloned = try await Self.passkeyPost(
                another, page: fresh, answer: clone.assert(challenge: try #require(dataAttribute("challenge", in: fresh))))
            #expect(String(buffer: cloned.body).contains("9900209"), "\(String(buffer: cloned.body).prefix(300))")
            #expect(try await harness.store.passkey(tenant: Self.contoso, credentialID: authenticator.id)?.counterRegressed == true)

            // A credential registered in another tenant is unknown here.
            let fabrikam = try TenantName("fabrikam")
            try await harness.gatehouse.administration.createTenant(name: fabrikam)
            var foreign = TestAuthenticator()
            _ = try await harness.store.addPasskey(
                Passkey(
                    tenant: fabrikam, userID: "u", credentialID: foreign.id, publicKey: foreign.coseKey, signCount: 0, transports: [],
                    aaguid: "", backupEligible: false, backedUp: false, attestationFormat: "none", name: "f", createdAt: time.now))
            let other = try await Self.passkeyPost(
                another, page: cloned, answer: foreign.assert(challenge: try #require(dataAttribute("challenge", in: cloned))))
            #expect(String(buffer: other.body).contains("9900208"))

            // None of this counted toward alice's lockout: her password still signs her in.
            let user = try #require(try await harness.store.user(tenant: Self.contoso, username: try Username("alice")))
            let failures = try await harness.store.signInFailures(
                key: PasswordSignIn.lockKey(tenant: Self.contoso, user: user, device: nil), since: time.now.addingTimeInterval(-3600))
            #expect(failures == 0)
        }
    }

    @Test func refusalsAreShownInTheUsersLanguage() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let browser = Browser(client)
            let page = try await browser.get(harness.authorizeURI(extra: [("ui_locales", "vi")]))
            #expect(String(buffer: page.body).contains("Đăng nhập bằng passkey"), "the button in Vietnamese")
            var stranger = TestAuthenticator()
            let refused = try await Self.passkeyPost(
                browser, page: page, answer: stranger.assert(challenge: try #require(dataAttribute("challenge", in: page))))
            let html = String(buffer: refused.body)
            #expect(refused.status == .badRequest && html.contains("9900208") && html.contains("chưa được đăng ký"), "\(html.prefix(600))")
            #expect(dataAttribute("conditional", in: refused) == "off", "no autofill on a page that shows a refusal")
        }
    }

    @Test func theThrottleRefusesOneSourceWithoutTouchingTheUser() async throws {
        let harness = try await Harness.make { configuration in
            configuration.throttling.passkey = FailureThrottle.Limit(failures: 3, window: 300)
        }
        try await harness.withClient { client in
            var authenticator = try await Self.register(harness, client)
            let browser = Browser(client)
            let pkce = PKCEPair()
            var page = try await Self.loginPage(harness, browser, pkce: pkce)
            for _ in 0..<3 {
                let challenge = try #require(dataAttribute("challenge", in: page))
                page = try await Self.passkeyPost(
                    browser, page: page, answer: authenticator.assert(challenge: challenge, origin: "https://x.test"))
                #expect(page.status == .badRequest)
            }
            let challenge = try #require(dataAttribute("challenge", in: page))
            let limited = try await Self.passkeyPost(browser, page: page, answer: authenticator.assert(challenge: challenge))
            #expect(limited.status == .tooManyRequests && limited.headers[.retryAfter] != nil, "\(limited.status)")
            // The password path of the same user is not held by it.
            let other = Browser(client)
            let reply = try await harness.signIn(other, uri: harness.authorizeURI())
            #expect(reply.status == .ok && String(buffer: reply.body).contains("data-mode=\"second\""), "password accepted, passkey asked")
        }
    }

    @Test func removingNeedsAFreshSignInAndThenThePasskeyIsRefused() async throws {
        let time = ManualTime()
        let harness = try await Harness.make(time: time.source)
        try await harness.withClient { client in
            var authenticator = try await Self.register(harness, client)
            let browser = Browser(client)
            _ = try await Self.accountSignIn(browser, &authenticator)
            let list = try await browser.get("/contoso/account/passkeys")
            #expect(list.status == .ok && String(buffer: list.body).contains("data-id=\"\(authenticator.id)\""))
            let csrf = field("csrf", in: list) ?? ""
            // Renaming needs no fresh sign-in; an empty name is refused.
            let renamed = try await browser.post(
                "/contoso/account/passkeys/rename", [("csrf", csrf), ("id", authenticator.id), ("name", "Laptop")])
            #expect(renamed.status == .seeOther)
            #expect(try await harness.store.passkey(tenant: Self.contoso, credentialID: authenticator.id)?.name == "Laptop")
            // Six minutes later the removal asks for the password again and removes nothing.
            time.now = time.now.addingTimeInterval(360)
            let stale = try await browser.post("/contoso/account/passkeys/remove", [("csrf", csrf), ("id", authenticator.id)])
            #expect(stale.status == .seeOther && AccountPageTests.path(stale.headers[.location]).contains("reauth=1"))
            #expect(try await harness.store.passkey(tenant: Self.contoso, credentialID: authenticator.id) != nil)
            // Fresh: removed, audited.
            let again = AccountPageTests.path(stale.headers[.location])
            _ = try await Self.accountSignIn(browser, &authenticator, start: again)
            let removed = try await browser.post(
                "/contoso/account/passkeys/remove",
                [("csrf", field("csrf", in: try await browser.get("/contoso/account/passkeys")) ?? ""), ("id", authenticator.id)])
            #expect(AccountPageTests.path(removed.headers[.location]) == "/contoso/account/passkeys?done=passkeyRemoved")
            #expect(try await harness.store.passkey(tenant: Self.contoso, credentialID: authenticator.id) == nil)
            // Every session the passkey began ended with it; this browser goes on in a new one.
            let alice = try #require(try await harness.store.user(tenant: Self.contoso, username: try Username("alice")))
            let live = try await harness.store.sessions(tenant: "contoso", userID: alice.id, now: time.now)
                .filter { alice.honours(sessionStartedAt: $0.authTime) }
            #expect(live.count == 1, "\(live)")
            #expect(try await browser.get("/contoso/account/passkeys").status == .ok, "the acting browser stays signed in")
            for action in ["user.passkey.add", "user.passkey.rename", "user.passkey.remove"] {
                let entries = try await harness.store.auditEntries(AuditQuery(tenant: Self.contoso, action: action, limit: 5))
                #expect(entries.count == 1, "\(action)")
            }
            // Its sign-in is refused now, and the password alone signs alice in again.
            let other = Browser(client)
            let page = try await Self.loginPage(harness, other, pkce: PKCEPair())
            let refused = try await Self.passkeyPost(
                other, page: page, answer: authenticator.assert(challenge: try #require(dataAttribute("challenge", in: page))))
            #expect(refused.status == .badRequest && String(buffer: refused.body).contains("9900208"))
        }
    }
}

/// Passkeys an administrator sees and removes (admin API), and a parallel burst of one answer.
@Suite struct PasskeyAdministrationTests {
    @Test func anAdministratorListsAndRemovesAPasskeyAndThePolicyIsSettable() async throws {
        let setup = try await AdminAccessTests.setUp()
        let harness = setup.harness
        try await harness.withClient { client in
            let authenticator = try await PasskeyTests.register(harness, client)
            let root = try await AdminAccessTests.automationToken(setup, client)
            let listed = json(try await AdminAccessTests.call(client, .get, "/tenants/contoso/users/alice/passkeys", token: root))
            let items = try #require(listed["items"] as? [[String: Any]])
            #expect(items.count == 1 && items.first?["credential_id"] as? String == authenticator.id, "\(listed)")
            // The public key as stored: the authenticator's COSE key.
            #expect(items.first?["public_key"] as? String == Base64URL.encode(authenticator.coseKey))
            let missing = try await AdminAccessTests.call(client, .delete, "/tenants/contoso/users/alice/passkeys/not-hers", token: root)
            #expect(missing.status == .notFound)
            let removed = try await AdminAccessTests.call(
                client, .delete, "/tenants/contoso/users/alice/passkeys/\(authenticator.id)", token: root)
            #expect(removed.status == .noContent)
            #expect(try await harness.store.passkeys(tenant: PasskeyTests.contoso, userID: "x").isEmpty)
            let after = json(try await AdminAccessTests.call(client, .get, "/tenants/contoso/users/alice/passkeys", token: root))
            #expect((after["items"] as? [Any])?.isEmpty == true)
            // The tenant's passkey policy through PATCH.
            let patched = try await AdminAccessTests.call(
                client, .patch, "/tenants/contoso", token: root,
                body: #"{"passkey_user_verification":"required","passkey_counter_regression":"flag","passkey_required":true}"#)
            #expect(patched.status == .ok, "\(String(buffer: patched.body))")
            let tenant = json(patched)
            #expect(tenant["passkey_user_verification"] as? String == "required" && tenant["passkey_attestation"] as? String == "none")
            #expect(
                try await harness.store.tenant(named: PasskeyTests.contoso)?.passkeyPolicy
                    == PasskeyPolicy(userVerification: .required, counterRegression: .flag, required: true))
        }
    }

    @Test func aTenantThatRequiresPasskeysHasTheUserRegisterOneBeforeTheSession() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            #expect(try await harness.store.setPasskeyPolicy(PasskeyPolicy(required: true), tenant: PasskeyTests.contoso))
            let browser = Browser(client)
            let pkce = PKCEPair()
            let page = try await PasskeyTests.loginPage(harness, browser, pkce: pkce)
            let registration = try await browser.post(
                "/contoso/oauth2/login",
                [
                    ("interaction", field("interaction", in: page) ?? ""), ("csrf", field("csrf", in: page) ?? ""), ("username", "alice"),
                    ("password", Harness.password),
                ])
            #expect(registration.status == .ok && dataAttribute("mode", in: registration) == "register")
            #expect(registration.headers[.setCookie] == nil, "no session before the passkey")
            // The page cannot be skipped: its interaction is refused by the consent and passkey steps.
            let pairs = [("interaction", field("interaction", in: registration) ?? ""), ("csrf", field("csrf", in: registration) ?? "")]
            let skipped = try await browser.post("/contoso/oauth2/consent", pairs + [("decision", "allow")])
            #expect(skipped.status == .badRequest && String(buffer: skipped.body).contains("9900143"))
            let empty = try await browser.post("/contoso/oauth2/login/passkey/register", pairs)
            #expect(empty.status == .badRequest && String(buffer: empty.body).contains("9900212"))
            // Registered: the session starts with the password's amr, and the next sign-in asks for the passkey.
            let authenticator = TestAuthenticator()
            let done = try await browser.post(
                "/contoso/oauth2/login/passkey/register",
                [("interaction", field("interaction", in: empty) ?? ""), ("csrf", field("csrf", in: empty) ?? ""), ("name", "Phone")]
                    + authenticator.register(challenge: try #require(dataAttribute("challenge", in: empty))))
            let idToken = try await PasskeyTests.finish(harness, client, browser, done, pkce: pkce)
            #expect(idToken["amr"] as? [String] == ["pwd"], "\(idToken)")
            let alice = try #require(try await harness.store.user(tenant: PasskeyTests.contoso, username: try Username("alice")))
            #expect(try await harness.store.passkeys(tenant: PasskeyTests.contoso, userID: alice.id).map(\.name) == ["Phone"])
        }
    }

    @Test func registrationRefusalsAttestationAndDuplicates() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let browser = Browser(client)
            _ = try await AccountPageTests.signIn(browser)
            func add(_ authenticator: TestAuthenticator, packed: Bool) async throws -> TestResponse {
                let page = try await browser.get("/contoso/account/passkeys/new")
                return try await browser.post(
                    "/contoso/account/passkeys/new",
                    [("csrf", field("csrf", in: page) ?? ""), ("name", "Key")]
                        + authenticator.register(challenge: try #require(dataAttribute("challenge", in: page)), packed: packed))
            }
            // A tenant that requires attestation refuses `none` and accepts packed self-attestation.
            #expect(try await harness.store.setPasskeyPolicy(PasskeyPolicy(attestation: .required), tenant: PasskeyTests.contoso))
            let authenticator = TestAuthenticator()
            let refused = try await add(authenticator, packed: false)
            #expect(refused.status == .badRequest && String(buffer: refused.body).contains("9900211"), "\(refused.status)")
            let accepted = try await add(authenticator, packed: true)
            #expect(accepted.status == .seeOther)
            #expect(
                try await harness.store.passkey(tenant: PasskeyTests.contoso, credentialID: authenticator.id)?.attestationFormat == "packed"
            )
            // The same credential again (a browser that ignored excludeCredentials): 9900213, nothing replaced.
            let page = try await browser.get("/contoso/account/passkeys/new")
            #expect(dataAttribute("exclude", in: page) == authenticator.id)
            let again = try await add(authenticator, packed: true)
            #expect(again.status == .conflict && String(buffer: again.body).contains("9900213"), "\(again.status)")
            // A challenge is the page session's: an answer made for another page session is refused.
            _ = try await harness.gatehouse.administration.createUser(
                tenant: PasskeyTests.contoso, username: "dora", email: nil, displayName: "Dora", password: Harness.password,
                passwords: harness.gatehouse.passwordHasher)
            let other = Browser(client)
            _ = try await AccountPageTests.signIn(other, user: "dora")
            let stolen = try await browser.get("/contoso/account/passkeys/new")
            let crossed = try await other.post(
                "/contoso/account/passkeys/new",
                [("csrf", field("csrf", in: try await other.get("/contoso/account/passkeys/new")) ?? ""), ("name", "X")]
                    + TestAuthenticator().register(challenge: try #require(dataAttribute("challenge", in: stolen))))
            #expect(crossed.status == .badRequest && String(buffer: crossed.body).contains("9900207"), "\(crossed.status)")
        }
    }

    @Test func theFlagPolicyLetsARegressedCounterThroughAndMarksIt() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            var authenticator = try await PasskeyTests.register(harness, client)
            #expect(try await harness.store.setPasskeyPolicy(PasskeyPolicy(counterRegression: .flag), tenant: PasskeyTests.contoso))
            authenticator.counter = 5
            let first = Browser(client)
            var page = try await PasskeyTests.loginPage(harness, first, pkce: PKCEPair())
            _ = try await PasskeyTests.passkeyPost(
                first, page: page, answer: authenticator.assert(challenge: try #require(dataAttribute("challenge", in: page))))
            // A copy whose counter is behind: signed in, and the credential is marked.
            var clone = authenticator
            clone.counter = 1
            let second = Browser(client)
            let pkce = PKCEPair()
            page = try await PasskeyTests.loginPage(harness, second, pkce: pkce)
            let response = try await PasskeyTests.passkeyPost(
                second, page: page, answer: clone.assert(challenge: try #require(dataAttribute("challenge", in: page))))
            let idToken = try await PasskeyTests.finish(harness, client, second, response, pkce: pkce)
            #expect(idToken["amr"] as? [String] == ["hwk", "user"])
            let stored = try #require(try await harness.store.passkey(tenant: PasskeyTests.contoso, credentialID: authenticator.id))
            #expect(stored.counterRegressed && stored.signCount == 6, "the counter never goes down: \(stored.signCount)")
        }
    }

    @Test func thePasswordGrantCannotSkipAPasskey() async throws {
        let (harness, _) = try await EntraModeTests.harness()
        try await harness.withClient { client in
            func ropc() async throws -> TestResponse {
                try await harness.token(
                    client,
                    [
                        ("grant_type", "password"), ("client_id", "tv"), ("username", "alice"), ("password", Harness.password),
                        ("scope", "openid api://middle/access_as_user"),
                    ], path: EntraModeTests.v2)
            }
            #expect(try await ropc().status == .ok)
            _ = try await PasskeyTests.register(harness, client)
            let refused = try await ropc()
            #expect(refused.status == .badRequest && (json(refused)["error_codes"] as? [Int])?.first == 50076, "\(json(refused))")
        }
    }

    @Test func aBurstOfOneAnswerSignsInOnce() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            var authenticator = try await PasskeyTests.register(harness, client)
            let browser = Browser(client)
            let page = try await PasskeyTests.loginPage(harness, browser, pkce: PKCEPair())
            let answer = authenticator.assert(challenge: try #require(dataAttribute("challenge", in: page)))
            let statuses = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        let response = try await PasskeyTests.passkeyPost(browser, page: page, answer: answer)
                        return response.status == .ok && String(buffer: response.body).contains("oauth2/consent")
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(statuses.count { $0 } == 1, "\(statuses)")
        }
    }
}
