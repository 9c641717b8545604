import Foundation
import GatehouseCore
import GatehouseServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// Regression tests for the second security probe's findings (docs/security.md, "Second probe"),
/// each named by its finding; others are named by feature in the suites they belong to.
@Suite struct SecondProbeTests {
    /// Finding 1: a request's identifiers were stored and logged whole (a 60,000-character client
    /// ID in `sign_ins.client_id` for 30 days). Every value is cut to its documented length, and
    /// failures that name no tenant or client that exists are counted under one bounded key: a
    /// flood of made-up identifiers adds one whole row per kind and minute, not one per request.
    @Test func finding1_identifiersAreCutAndAnonymousFailuresAreCounted() async throws {
        let harness = try await Harness.make()
        let big: @Sendable (String, Int) -> String = { tag, index in String(repeating: "\(tag)\(index)-", count: 3_000) }
        let traces = try await harness.withClient { client in
            var traces: [String] = []
            for index in 0..<20 {
                let agent: HTTPFields = [.userAgent: big("ua", index)]
                let authorize = try await client.execute(
                    uri: "/contoso/oauth2/authorize?client_id=\(big("c", index))&response_type=code", method: .get, headers: agent)
                let tenant = try await client.execute(
                    uri: "/\(big("t", index))/oauth2/token", method: .post,
                    headers: [.userAgent: big("ua", index), .contentType: "application/x-www-form-urlencoded"],
                    body: ByteBuffer(string: "grant_type=client_credentials&client_id=svc&client_secret=x"))
                let grant = try await harness.token(client, [("grant_type", big("g", index).prefix(3_000).description)], headers: agent)
                let unknown = try await harness.token(
                    client, [("grant_type", "client_credentials"), ("client_id", "nobody-\(index)"), ("client_secret", "x")])
                #expect(authorize.status == .badRequest && tenant.status == .badRequest)
                #expect([.badRequest, .unauthorized].contains(grant.status) && unknown.status == .unauthorized)
                for response in [authorize, tenant, grant, unknown] { traces.append(response.headers[.init("X-Trace-Id")!] ?? "") }
            }
            return traces
        }
        await harness.gatehouse.signIns.flush()
        let rows = try await harness.store.signIns(SignInQuery(limit: 1_000))
        // Counted, not kept: at most the first of each kind in each minute (two minutes at most).
        #expect(!rows.isEmpty && rows.count <= 2 * 4, "\(rows.count) whole rows")
        for row in rows {
            #expect(row.clientID.map { $0.utf8.count <= RecordedValue.clientID + 3 } ?? true)
            #expect(row.userAgent.map { $0.utf8.count <= RecordedValue.userAgent + 3 } ?? true)
            #expect(row.detail.map { $0.utf8.count <= 2 * RecordedValue.detail } ?? true)
            #expect(row.grantType.map { $0.utf8.count <= RecordedValue.step } ?? true)
            #expect(["contoso", RecordedValue.unknownTenant].contains(row.tenant), "\(row.tenant.prefix(80))")
        }
        let aggregates = try await harness.store.signInAggregates(SignInAggregateQuery())
        #expect(aggregates.reduce(0) { $0 + $1.count } == 80)
        #expect(Set(aggregates.map(\.key.clientID)) == [RecordedValue.unknownClient])
        // Every request is still found from its trace ID: whole, or in the aggregate that counted it.
        for trace in traces {
            let whole = try await harness.store.signIns(SignInQuery(traceID: trace))
            let counted = try await SignInLookup.aggregates(containing: trace, in: harness.store)
            #expect(!whole.isEmpty || !counted.isEmpty)
        }
        // The error description a client gets is cut too.
        try await harness.withClient { client in
            let response = try await client.execute(uri: "/\(big("t", 0))/oauth2/token", method: .get)
            #expect((json(response)["error_description"] as? String ?? "").utf8.count < 2_000)
        }
    }

    /// Finding 2: the tenant GUID in any letter case and `common` were each a tenant of their own
    /// in the sign-in log and the metric labels. Every spelling is filed under the tenant's name.
    @Test func finding2_everySpellingOfATenantIsFiledUnderItsName() async throws {
        let harness = try await Harness.make { $0.metricsToken = "token" }
        let tenant = try #require(try await harness.store.tenant(named: try TenantName(Harness.tenant)))
        let spellings = [
            Harness.tenant, tenant.guid, tenant.guid.uppercased(), "\(tenant.guid.prefix(8).uppercased())\(tenant.guid.dropFirst(8))",
        ]
        try await harness.withClient { client in
            for spelling in spellings {
                let response = try await harness.token(
                    client, [("grant_type", "client_credentials")], headers: [.authorization: basic("svc", "not-the-secret")],
                    path: "/\(spelling)/oauth2/token")
                #expect(response.status == .unauthorized)
                // A request refused before the tenant is looked up (GET) is filed under it too.
                _ = try await client.execute(uri: "/\(spelling)/oauth2/token", method: .get)
            }
            let common = try await harness.token(
                client, [("grant_type", "client_credentials"), ("client_id", "svc"), ("client_secret", "not-the-secret")],
                path: "/common/oauth2/v2.0/token")
            #expect(common.status == .unauthorized)
            let metrics = try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer token"])
            let text = String(buffer: metrics.body)
            #expect(
                text.contains(
                    #"gatehouse_token_requests_total{tenant="contoso",grant_type="client_credentials",result="failure",code="7000215"} 5"#))
            #expect(text.contains(#"gatehouse_token_requests_total{tenant="contoso",grant_type="none",result="failure",code="900561"} 4"#))
            #expect(!text.contains(tenant.guid) && !text.lowercased().contains(tenant.guid) && !text.contains(#"tenant="common""#))
        }
        await harness.gatehouse.signIns.flush()
        let rows = try await harness.store.signIns(SignInQuery(limit: 100))
        // The GETs name no client: counted under one key per minute, the first of each minute also
        // kept whole (two minutes when the test runs across a minute's end).
        let counted = try await harness.store.signInAggregates(SignInAggregateQuery())
        #expect(counted.allSatisfy { $0.key.tenant == Harness.tenant } && counted.reduce(0) { $0 + $1.count } == 4)
        #expect(rows.count == 5 + counted.count, "\(rows.map { ($0.tenant, $0.errorCode, $0.detail) })")
        #expect(rows.allSatisfy { $0.tenant == Harness.tenant })
        #expect(try await harness.store.signIns(SignInQuery(tenant: Harness.tenant, errorCode: 7000215)).count == 5)
    }

    /// Finding 8: attempt counts were never deleted, and an unknown username's count was kept
    /// under the name as typed (a password typed as a username stayed in the database). It is
    /// kept under a keyed hash, and the janitor deletes counts whose window is over.
    @Test func finding8_attemptCountsHoldNoTypedNameAndArePurged() async throws {
        let time = ManualTime()
        let harness = try await Harness.make(time: time.source)
        let typed = "Correct-Horse-Battery-Staple-42"
        var spec = Administration.ClientSpec(id: try ClientID("ropc"), name: "ropc")
        spec.type = .public
        spec.grantTypes = [.password]
        spec.allowedScopes = Scope(tokens: ["api.read"])
        spec.defaultScopes = Scope(tokens: ["api.read"])
        _ = try await harness.gatehouse.administration.createClient(tenant: try TenantName(Harness.tenant), spec: spec)
        try await harness.withClient { client in
            for _ in 0..<3 {
                let response = try await harness.token(
                    client, [("grant_type", "password"), ("client_id", "ropc"), ("username", typed), ("password", "x")])
                #expect(response.status == .badRequest && (json(response)["error_codes"] as? [Int]) == [50126])
            }
        }
        let tenant = try TenantName(Harness.tenant)
        let key = harness.gatehouse.passwords.unknownUsernameKey(tenant: tenant, username: typed)
        #expect(!key.contains(typed) && !key.lowercased().contains(typed.lowercased()))
        #expect(try await harness.store.signInFailures(key: key, since: .distantPast) == 3)
        // The key of before the fix held the name as typed.
        #expect(try await harness.store.signInFailures(key: "unknown contoso \(typed.lowercased())", since: .distantPast) == 0)
        // The window is 15 minutes: a pass before it ends keeps the count, one after deletes it.
        let sweeper = Sweeper(store: harness.store, time: time.source, failureWindow: 900)
        time.now = time.now.addingTimeInterval(600)
        #expect(await sweeper.sweep()?.failures == 0)
        time.now = time.now.addingTimeInterval(400)
        #expect(await sweeper.sweep()?.failures == 1)
        #expect(try await harness.store.signInFailures(key: key, since: .distantPast) == 0)
    }

    /// Finding 11: a stolen device cookie got its own five guesses and locked the owner's browser,
    /// stayed familiar after `set-password`, and the lock it caused outlived the password change.
    /// A device is familiar only if its cookie was given after the password was last set, so a
    /// new password ends both the thief's familiarity and the lock on the owner's browser.
    @Test func finding11_aNewPasswordEndsAStolenDeviceCookiesFamiliarityAndItsLock() async throws {
        let harness = try await Harness.make { $0.signIn.lockoutThreshold = 5 }
        try await harness.withClient { client in
            let own = Browser(client)
            #expect(try await SmartLockoutTests.attempt(harness, own, password: Harness.password) == "ok")
            let stolen = try #require(own.cookies.withLock { $0["gatehouse_device"] })
            let thief = Browser(client)
            thief.cookies.withLock { $0["gatehouse_device"] = stolen }
            var guesses: [String] = []
            for index in 0..<5 { guesses.append(try await SmartLockoutTests.attempt(harness, thief, password: "guess \(index)")) }
            #expect(guesses == ["50126", "50126", "50126", "50126", "50053"])
            // The thief's guesses counted under the owner's device: the owner's browser is held too.
            #expect(try await SmartLockoutTests.attempt(harness, own, password: Harness.password) == "50053")

            let newPassword = "a brand new passphrase"
            _ = try await harness.gatehouse.administration.setPassword(
                tenant: try TenantName(Harness.tenant), user: "alice", password: newPassword, passwords: harness.gatehouse.passwordHasher)
            // The stolen cookie is a stranger's now: its guesses count against the account, which the
            // new password unlocked; the owner's browser signs in with the new password.
            #expect(try await SmartLockoutTests.attempt(harness, thief, password: "guess 5") == "50126")
            #expect(try await SmartLockoutTests.attempt(harness, own, password: newPassword) == "ok")
            // Signed in after the change, the owner's browser is familiar again: strangers' guesses
            // (the thief's included) lock strangers out, not it.
            for index in 6..<11 { _ = try await SmartLockoutTests.attempt(harness, thief, password: "guess \(index)") }
            #expect(try await SmartLockoutTests.attempt(harness, thief, password: newPassword) == "50053")
            #expect(try await SmartLockoutTests.attempt(harness, own, password: newPassword) == "ok")
        }
    }

    /// Finding 4: a public client's replaced refresh token, presented by another party within the
    /// 10 s grace, got 200 and the live successor. Inside the grace a retry is answered only from
    /// where the rotation came from (source address and user agent); from anywhere else it is
    /// reuse, and the grant is revoked.
    @Test func finding4_aPublicClientsRetryFromElsewhereIsReuse() async throws {
        let forwarded = HTTPField.Name("X-Forwarded-For")!
        for changed in ["address", "user agent"] {
            let time = ManualTime()
            let harness = try await Harness.make(time: time.source) { $0.throttling.trustedProxies = ["unknown"] }
            try await harness.withClient { client in
                let pkce = PKCEPair()
                let reply = try await harness.signIn(
                    Browser(client),
                    uri: harness.authorizeURI(
                        client: "native", redirect: "http://127.0.0.1/callback", scope: "openid offline_access", pkce: pkce))
                let tokens = json(
                    try await harness.redeem(
                        client, code: redirectParameters(reply)["code"] ?? "", pkce: pkce, clientID: "native",
                        redirect: "http://127.0.0.1/callback"))
                let original = try #require(tokens["refresh_token"] as? String)
                func refresh(_ token: String, from address: String, agent: String) async throws -> TestResponse {
                    try await harness.token(
                        client, [("grant_type", "refresh_token"), ("refresh_token", token), ("client_id", "native")],
                        headers: [forwarded: address, .userAgent: agent])
                }
                let rotated = try await refresh(original, from: "198.51.100.4", agent: "app/1.0")
                let successor = try #require(json(rotated)["refresh_token"] as? String)
                time.now += 2
                // The app's own retry goes on.
                #expect(json(try await refresh(original, from: "198.51.100.4", agent: "app/1.0"))["refresh_token"] as? String == successor)
                let replay =
                    changed == "address"
                    ? try await refresh(original, from: "203.0.113.66", agent: "app/1.0")
                    : try await refresh(original, from: "198.51.100.4", agent: "curl/8.0")
                #expect(replay.status == .badRequest && (json(replay)["error_codes"] as? [Int]) == [9_900_154], "\(changed)")
                #expect(json(replay)["refresh_token"] == nil && json(replay)["access_token"] == nil)
                // The grant is revoked: the successor the app holds stops working too.
                #expect((json(try await refresh(successor, from: "198.51.100.4", agent: "app/1.0"))["error_codes"] as? [Int]) == [50173])
            }
        }
    }
}
