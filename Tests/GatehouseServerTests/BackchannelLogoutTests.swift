import Foundation
import GatehouseCore
import GatehouseServer
import HTTPTypes
import HummingbirdTesting
import JWTKit
import NIOCore
import Synchronization
import Testing

/// Posts a test scripts the answers of (`OutboundFetcher.post`); records each.
final class RecordingPoster: OutboundFetcher {
    struct Post: Sendable {
        let url: String
        let form: [String: String]
        let policy: OutboundPolicy
    }
    let posts = Mutex<[Post]>([])
    /// The outcome of each next post, in order; when empty, success.
    let script = Mutex<[(any Error)?]>([])

    func fetch(_ url: String, policy: OutboundPolicy, accept: String) async throws -> FetchedDocument {
        throw CatalogueError(Catalogue.outboundFailed, ["url": url, "reason": "not in this test"])
    }

    func post(_ url: String, form: [(String, String)], policy: OutboundPolicy) async throws {
        _ = try OutboundGuard.target(url, loopbackHTTP: true)
        posts.withLock { $0.append(Post(url: url, form: Dictionary(form, uniquingKeysWith: { $1 }), policy: policy)) }
        let next = script.withLock { $0.isEmpty ? nil : $0.removeFirst() }
        if let next { throw next }
    }
}

/// OpenID Connect Back-Channel Logout: which sessions' relying parties hear of a logout, what the
/// logout token says, and how a delivery that fails is retried, given up and recorded.
@Suite struct BackchannelLogoutTests {
    static let logoutURI = "https://rp.example.com/backchannel"

    struct Setup {
        let harness: Harness
        let time: ManualTime
        let poster: RecordingPoster
        let sender: OutboxSender
    }

    /// The harness with the web client given a back-channel logout URI, and an outbox sender
    /// that posts through `poster`.
    static func setup() async throws -> Setup {
        let time = ManualTime()
        let harness = try await Harness.make(time: time.source)
        var change = Administration.ClientChange()
        change.backchannelLogoutURI = .some(logoutURI)
        change.backchannelLogoutSessionRequired = true
        _ = try await harness.gatehouse.administration.updateClient(tenant: TenantName("contoso"), id: ClientID("web"), change: change)
        let poster = RecordingPoster()
        let sender = OutboxSender(
            store: harness.store, transport: nil,
            logouts: BackchannelLogoutSender(
                keyRings: harness.gatehouse.keyRings, fetcher: poster, tenants: harness.store, signIns: harness.gatehouse.signIns,
                time: time.source),
            box: harness.gatehouse.secretBox, time: time.source, node: "node-a")
        return Setup(harness: harness, time: time, poster: poster, sender: sender)
    }

    /// Alice signs in to the web client (and to web2, which has no logout URI): the ID token.
    static func signIn(_ harness: Harness, _ client: any TestClientProtocol, _ browser: Browser) async throws -> String {
        let pkce = PKCEPair()
        let reply = try await harness.signIn(browser, uri: harness.authorizeURI(pkce: pkce))
        let code = try #require(redirectParameters(reply)["code"])
        let tokens = json(try await harness.redeem(client, code: code, pkce: pkce))
        let second = PKCEPair()
        let other = try await browser.get(harness.authorizeURI(client: "web2", pkce: second))
        #expect(redirectParameters(other)["code"] != nil || other.status == .ok)
        return try #require(tokens["id_token"] as? String)
    }

    @Test func anRPInitiatedLogoutSendsASignedLogoutTokenToTheRelyingParty() async throws {
        let setup = try await Self.setup()
        let harness = setup.harness
        try await harness.withClient { client in
            let browser = Browser(client)
            let idToken = try await Self.signIn(harness, client, browser)
            let sid = try #require(claims(idToken)["sid"] as? String)
            let out = try await browser.get("/contoso/oauth2/logout?" + formEncode([("id_token_hint", idToken)]))
            #expect(out.status == .ok, "\(String(buffer: out.body).prefix(300))")
            let pass = await setup.sender.pass()
            #expect(pass?.sent == 1, "only the client with a logout URI: \(String(describing: pass))")
            let post = try #require(setup.poster.posts.withLock { $0.first })
            #expect(post.url == Self.logoutURI)
            #expect(post.policy.allowLocalAddresses, "an administrator's client may be on the local network")
            let token = try #require(post.form["logout_token"])
            // Signed with the tenant's key; explicitly typed; the claims of §2.4 and no nonce.
            let header = try #require(
                try JSONSerialization.jsonObject(with: Base64URL.decode(Substring(token.split(separator: ".")[0])) ?? Data())
                    as? [String: Any])
            #expect(header["typ"] as? String == "logout+jwt")
            _ = try await harness.gatehouse.keyRings.keyRing(for: TenantName("contoso")).verify(token, as: LogoutTokenClaims.self)
            let body = claims(token)
            #expect(body["iss"] as? String == "\(Harness.baseURL)/contoso")
            #expect(body["aud"] as? String == "web")
            #expect(body["sid"] as? String == sid)
            #expect(body["sub"] as? String == claims(idToken)["sub"] as? String)
            #expect((body["events"] as? [String: Any])?["http://schemas.openid.net/event/backchannel-logout"] != nil)
            #expect(body["nonce"] == nil)
            #expect((body["jti"] as? String)?.isEmpty == false)
            #expect((body["exp"] as? Int ?? 0) - (body["iat"] as? Int ?? 0) == 120)
            // Recorded in the sign-in log; sent once (a second pass finds nothing).
            await harness.gatehouse.signIns.flush()
            let events = try await harness.store.signIns(SignInQuery(tenant: "contoso", limit: 50)).filter {
                $0.grantType == "backchannel_logout"
            }
            #expect(events.count == 1 && events.first?.result == .success, "\(events)")
            #expect(await setup.sender.pass()?.sent == 0)
        }
    }

    @Test func aFailedDeliveryIsRetriedAndRecordedEachTime() async throws {
        let setup = try await Self.setup()
        let harness = setup.harness
        setup.poster.script.withLock {
            $0 = [CatalogueError(Catalogue.outboundTimedOut, ["url": Self.logoutURI, "seconds": "5"]), nil]
        }
        try await harness.withClient { client in
            let browser = Browser(client)
            _ = try await Self.signIn(harness, client, browser)
            // An administrator ends every session of Alice's.
            _ = try await harness.gatehouse.administration.endSessions(tenant: TenantName("contoso"), user: "alice", sid: nil)
            #expect(await setup.sender.pass()?.failed == 1)
            // Not yet due: nothing posted.
            #expect(await setup.sender.pass()?.failed == 0)
            #expect(setup.poster.posts.withLock { $0.count } == 1)
            setup.time.now += 6
            #expect(await setup.sender.pass()?.sent == 1)
            let posts = setup.poster.posts.withLock { $0 }
            #expect(posts.count == 2)
            // Signed at each attempt: a new jti.
            #expect(
                claims(posts[0].form["logout_token"] ?? "")["jti"] as? String != claims(posts[1].form["logout_token"] ?? "")["jti"]
                    as? String)
            await harness.gatehouse.signIns.flush()
            let events = try await harness.store.signIns(SignInQuery(tenant: "contoso", limit: 50)).filter {
                $0.grantType == "backchannel_logout"
            }
            #expect(events.map(\.errorCode).sorted { ($0 ?? 0) < ($1 ?? 0) } == [nil, 9900241], "\(events)")
            #expect(events.contains { $0.detail?.contains("administrator") == true })
        }
    }

    @Test func aRefusedDeliveryIsGivenUpAndRecorded() async throws {
        let setup = try await Self.setup()
        let harness = setup.harness
        setup.poster.script.withLock { $0 = [DeliveryRefused("it answered HTTP 400")] }
        try await harness.withClient { client in
            let browser = Browser(client)
            _ = try await Self.signIn(harness, client, browser)
            // A password reset by an administrator ends the sessions.
            _ = try await harness.gatehouse.administration.setPassword(
                tenant: TenantName("contoso"), user: "alice", password: "another long password", passwords: harness.gatehouse.passwordHasher
            )
            #expect(await setup.sender.pass()?.abandoned == 1)
            setup.time.now += 3600
            #expect(await setup.sender.pass()?.sent == 0)
            #expect(setup.poster.posts.withLock { $0.count } == 1)
            let rows = try await harness.store.outboxMessages(tenant: "contoso", limit: 10)
            #expect(rows.count == 1 && rows[0].nextAttemptAt == nil && rows[0].lastError?.contains("400") == true, "\(rows)")
            await harness.gatehouse.signIns.flush()
            let events = try await harness.store.signIns(SignInQuery(tenant: "contoso", errorCode: 9900242, limit: 10))
            #expect(events.count == 1 && events[0].detail?.contains("credentials") == true, "\(events)")
        }
    }

    @Test func aDeliveryThatKeepsFailingIsGivenUpAfterADay() async throws {
        let setup = try await Self.setup()
        let harness = setup.harness
        let failure = CatalogueError(Catalogue.outboundFailed, ["url": Self.logoutURI, "reason": "the connection failed (refused)"])
        setup.poster.script.withLock { $0 = Array(repeating: failure, count: 100) }
        try await harness.withClient { client in
            let browser = Browser(client)
            _ = try await Self.signIn(harness, client, browser)
            let user = try #require(try await harness.store.user(tenant: TenantName("contoso"), username: Username("alice")))
            // The account page's "sign out everywhere".
            _ = try await harness.gatehouse.administration.endOwnSessions(user: user, sid: nil)
            var abandoned = 0
            for _ in 0..<40 where abandoned == 0 {
                abandoned += await setup.sender.pass()?.abandoned ?? 0
                setup.time.now += 3600
            }
            // Hourly passes: one attempt each until the day is over, then given up.
            #expect(abandoned == 1)
            let attempts = setup.poster.posts.withLock { $0.count }
            #expect((24...26).contains(attempts), "\(attempts)")
        }
    }

    @Test func onlyTheEndedSessionsRelyingPartiesAreToldAndOnlyOnce() async throws {
        let setup = try await Self.setup()
        let harness = setup.harness
        try await harness.withClient { client in
            // Two browsers, two sessions, each signed in to the web client.
            let first = Browser(client)
            let second = Browser(client)
            let firstToken = try await Self.signIn(harness, client, first)
            let secondToken = try await Self.signIn(harness, client, second)
            let firstSID = try #require(claims(firstToken)["sid"] as? String)
            #expect(firstSID != claims(secondToken)["sid"] as? String)
            // The administrator ends the first session only.
            _ = try await harness.gatehouse.administration.endSessions(tenant: TenantName("contoso"), user: "alice", sid: firstSID)
            #expect(await setup.sender.pass()?.sent == 1)
            #expect(claims(setup.poster.posts.withLock { $0[0].form["logout_token"] ?? "" })["sid"] as? String == firstSID)
            // Ending everything afterwards tells the rest: the second session, not the first again.
            _ = try await harness.gatehouse.administration.endSessions(tenant: TenantName("contoso"), user: "alice", sid: nil)
            #expect(await setup.sender.pass()?.sent == 1)
            #expect(
                claims(setup.poster.posts.withLock { $0[1].form["logout_token"] ?? "" })["sid"] as? String == claims(secondToken)["sid"]
                    as? String)
            _ = try await harness.gatehouse.administration.endSessions(tenant: TenantName("contoso"), user: "alice", sid: nil)
            #expect(await setup.sender.pass()?.sent == 0)
        }
    }

    @Test func aLogoutURIMustBeHTTPSOrLoopback() async throws {
        let harness = try await Harness.make()
        let admin = harness.gatehouse.administration
        for bad in [
            "http://rp.example.com/logout", "https://rp.example.com/logout#x", "ftp://rp.example.com/", "https://user:pw@rp.example.com/",
        ] {
            var change = Administration.ClientChange()
            change.backchannelLogoutURI = .some(bad)
            await #expect(throws: Administration.AdministrationError.self, "\(bad)") {
                _ = try await admin.updateClient(tenant: TenantName("contoso"), id: ClientID("web"), change: change)
            }
        }
        var change = Administration.ClientChange()
        change.backchannelLogoutURI = .some("http://127.0.0.1:8080/protected/redirect_uri?logout=backchannel")
        let client = try await admin.updateClient(tenant: TenantName("contoso"), id: ClientID("web"), change: change)
        #expect(client.backchannelLogoutURI == "http://127.0.0.1:8080/protected/redirect_uri?logout=backchannel")
        try await harness.withClient { http in
            let discovery = json(try await http.execute(uri: "/contoso/.well-known/openid-configuration", method: .get))
            #expect(discovery["backchannel_logout_supported"] as? Bool == true)
            #expect(discovery["backchannel_logout_session_supported"] as? Bool == true)
        }
    }

    @Test func aNewSignInInTheSameBrowserEndsTheOldSessionForItsRelyingParties() async throws {
        let setup = try await Self.setup()
        let harness = setup.harness
        try await harness.withClient { client in
            let browser = Browser(client)
            let first = try await Self.signIn(harness, client, browser)
            // prompt=login: a new sign-in replaces the session in this browser.
            setup.time.now += 5
            let pkce = PKCEPair()
            let reply = try await harness.signIn(
                browser, uri: harness.authorizeURI(pkce: pkce, extra: [("prompt", "login")]), user: "alice")
            #expect(redirectParameters(reply)["code"] != nil, "\(String(buffer: reply.body).prefix(200))")
            #expect(await setup.sender.pass()?.sent == 1)
            let token = setup.poster.posts.withLock { $0.first?.form["logout_token"] ?? "" }
            #expect(claims(token)["sid"] as? String == claims(first)["sid"] as? String)
            #expect(setup.poster.posts.withLock { $0.count } == 1)
        }
    }

    @Test func aRemovedLogoutURIOrDisabledClientIsNotPosted() async throws {
        let setup = try await Self.setup()
        let harness = setup.harness
        try await harness.withClient { client in
            _ = try await Self.signIn(harness, client, Browser(client))
            var change = Administration.ClientChange()
            change.backchannelLogoutURI = .some(nil)
            _ = try await harness.gatehouse.administration.updateClient(tenant: TenantName("contoso"), id: ClientID("web"), change: change)
            _ = try await harness.gatehouse.administration.endSessions(tenant: TenantName("contoso"), user: "alice", sid: nil)
            #expect(await setup.sender.pass()?.sent == 0)
            #expect(setup.poster.posts.withLock { $0.isEmpty })
        }
    }

    @Test func mailIsSentInThePassWhileRelyingPartiesFail() async throws {
        let time = ManualTime()
        let transport = RecordingTransport()
        let harness = try await Harness.make(time: time.source, mailTransport: transport)
        let poster = RecordingPoster()
        let timeout = CatalogueError(Catalogue.outboundTimedOut, ["url": Self.logoutURI, "seconds": "5"])
        poster.script.withLock { $0 = Array(repeating: timeout, count: 50) }
        let sender = OutboxSender(
            store: harness.store, transport: transport,
            logouts: BackchannelLogoutSender(
                keyRings: harness.gatehouse.keyRings, fetcher: poster, tenants: harness.store, signIns: nil, time: time.source),
            box: harness.gatehouse.secretBox, time: time.source, node: "node-a")
        // 30 logout tokens due, and one mail queued after them.
        for index in 0..<30 {
            let participant = SessionParticipant(
                tenant: "contoso", sid: "s\(index)", clientID: "web", userID: "u", issuer: "https://login.test/contoso",
                logoutURI: Self.logoutURI, source: .administrator, expiresAt: time.now.addingTimeInterval(3600))
            try await harness.store.enqueue(
                BackchannelLogoutDelivery(participant: participant, reason: "test").queued(id: "l\(index)", now: time.now))
        }
        time.now += 1
        try await harness.store.enqueue(
            try MailMessage(to: "a@example.com", subject: "s", text: "t", html: "h").queued(
                id: "m1", tenant: "contoso", box: harness.gatehouse.secretBox, now: time.now))
        let pass = try #require(await sender.pass())
        #expect(pass.sent == 1 && transport.mails.count == 1, "the mail first: \(pass)")
        #expect(pass.failed == 20, "one batch of logout tokens a pass: \(pass)")
    }
}
