import Foundation
import GatehouseCore
import GatehouseServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// Availability under abuse: the throttles count guesses, not a busy app's mistakes, and refuse
/// only requests that would perform the same kind of check; a confidential client's retry of a
/// replaced refresh token within the retry window gets the same successor, and every retry is a
/// whole row in the sign-in log.
@Suite struct AvailabilityTests {
    static let forwarded = HTTPField.Name("X-Forwarded-For")!

    /// Throttles on with small limits; in-process requests have no peer ("unknown"), trusted as a
    /// proxy so that a request can name its address in `X-Forwarded-For`.
    static func harness(time: ManualTime, lockout: Int = 100) async throws -> Harness {
        try await Harness.make(time: time.source) { configuration in
            configuration.throttling = ThrottleSettings()
            configuration.throttling.client = .init(failures: 5, window: 60)
            configuration.throttling.signIn = .init(failures: 3, window: 300)
            configuration.throttling.passwordSource = .init(failures: 5, window: 300)
            configuration.throttling.trustedProxies = ["unknown"]
            configuration.signIn.lockoutThreshold = lockout
        }
    }

    static func code(_ response: TestResponse) -> Int? { (json(response)["error_codes"] as? [Int])?.first }

    @Test func aBusyAppsFailedRedemptionsNeverThrottleItsValidGrants() async throws {
        let time = ManualTime()
        let harness = try await Self.harness(time: time)
        try await harness.withClient { client in
            let tokens = try await harness.tokens(client)
            let refresh = try #require(tokens["refresh_token"] as? String)
            // 60 expired, revoked or unknown refresh tokens of its users, from the app's one address.
            for index in 0..<60 {
                let response = try await harness.refresh(client, "unknown-refresh-token-\(index)")
                #expect(response.status == .badRequest && Self.code(response) == 70000, "\(response.status)")
            }
            // A code double-submitted 30 times by its front end (a real race).
            let pkce = PKCEPair()
            let reply = try await harness.signIn(Browser(client), uri: harness.authorizeURI(pkce: pkce))
            let replayed = try #require(redirectParameters(reply)["code"])
            let redemptions = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<30 { group.addTask { Int(try await harness.redeem(client, code: replayed, pkce: pkce).status.code) } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(!redemptions.contains(429) && redemptions.filter { $0 == 400 }.count >= 29, "\(redemptions)")
            // The app's valid grants still get tokens: a refresh, a fresh code, client credentials.
            let refreshed = try await harness.refresh(client, refresh)
            #expect(refreshed.status == .ok, "\(json(refreshed))")
            let fresh = try await harness.tokens(client)
            #expect(fresh["access_token"] != nil && fresh["refresh_token"] != nil, "\(fresh)")
            let credentials = try await harness.token(
                client, [("grant_type", "client_credentials")], headers: [.authorization: basic("web", harness.secret("web"))])
            #expect(credentials.status == .ok)
        }
    }

    @Test func aStrangerGuessingAClientSecretIsThrottledAndTheClientIsNot() async throws {
        let time = ManualTime()
        let harness = try await Self.harness(time: time)
        try await harness.withClient { client in
            func request(_ secret: String, from address: String) async throws -> TestResponse {
                try await harness.token(
                    client, [("grant_type", "client_credentials")],
                    headers: [.authorization: basic("web", secret), Self.forwarded: address])
            }
            var stranger: [Int] = []
            for index in 0..<8 { stranger.append(Int(try await request("guess-\(index)", from: "203.0.113.9").status.code)) }
            #expect(stranger == [401, 401, 401, 401, 401, 429, 429, 429])
            // The client on its own address is not refused, and neither are its users' refreshes.
            #expect(try await request(harness.secret("web"), from: "198.51.100.20").status == .ok)
            let refresh = try #require(try await harness.tokens(client)["refresh_token"] as? String)
            #expect(try await harness.refresh(client, refresh).status == .ok)
            // A public client has no credential: a stranger's garbage refresh tokens for it count toward nothing.
            for index in 0..<20 {
                let response = try await harness.token(
                    client, [("grant_type", "refresh_token"), ("refresh_token", "garbage-\(index)"), ("client_id", "native")],
                    headers: [Self.forwarded: "203.0.113.9"])
                #expect(response.status == .badRequest && Self.code(response) == 70000)
            }
        }
    }

    @Test func clientAssertionsWithBadSignaturesAreThrottledPerClient() async throws {
        let time = ManualTime()
        let harness = try await Self.harness(time: time)
        try await harness.withClient { client in
            func request(_ assertion: String, from address: String) async throws -> TestResponse {
                try await harness.token(
                    client,
                    [
                        ("grant_type", "client_credentials"),
                        ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                        ("client_assertion", assertion),
                    ], headers: [Self.forwarded: address])
            }
            var codes: [Int?] = []
            for _ in 0..<7 {
                codes.append(Self.code(try await request(try await harness.assertion(key: harness.strangerKey), from: "203.0.113.9")))
            }
            #expect(codes == [700027, 700027, 700027, 700027, 700027, 9_900_429, 9_900_429])
            // An expired assertion signed with the right key is a mistake, not a guess: from another
            // address it neither counts nor is refused; the client's valid assertions go on.
            let elsewhere = "198.51.100.20"
            for _ in 0..<6 {
                let expired = try await harness.assertion(exp: Date().timeIntervalSince1970 - 600)
                #expect(Self.code(try await request(expired, from: elsewhere)) == 700024)
            }
            #expect(try await request(try await harness.assertion(), from: elsewhere).status == .ok)
        }
    }

    @Test func passwordGuessesAtThePasswordGrantAreThrottledPerUsernameAndTheUsersBrowserStillSignsIn() async throws {
        let time = ManualTime()
        let harness = try await Self.harness(time: time, lockout: 5)
        try await harness.withClient { client in
            var spec = Administration.ClientSpec(id: try ClientID("ropc"), name: "ropc")
            spec.type = .public
            spec.grantTypes = [.password]
            spec.allowedScopes = Scope(tokens: ["api.read"])
            spec.defaultScopes = Scope(tokens: ["api.read"])
            _ = try await harness.gatehouse.administration.createClient(tenant: try TenantName("contoso"), spec: spec)
            func password(_ user: String, _ password: String, from address: String) async throws -> TestResponse {
                try await harness.token(
                    client, [("grant_type", "password"), ("client_id", "ropc"), ("username", user), ("password", password)],
                    headers: [Self.forwarded: address])
            }
            // Alice signs in on the pages first: her browser becomes familiar.
            let own = Browser(client)
            #expect(try await SmartLockoutTests.attempt(harness, own, password: Harness.password) == "ok")
            // A stranger's parallel burst of guesses at the password grant: three checked, the rest refused unchecked.
            let burst = try await withThrowingTaskGroup(of: Int?.self) { group in
                for index in 0..<12 { group.addTask { Self.code(try await password("alice", "guess \(index)", from: "203.0.113.9")) } }
                return try await group.reduce(into: [Int?]()) { $0.append($1) }
            }
            #expect(burst.filter { $0 == 50126 }.count == 3 && burst.filter { $0 == 9_900_430 }.count == 9, "\(burst)")
            // Per username: another user from the same address is checked.
            #expect(Self.code(try await password("bob", "guess", from: "203.0.113.9")) == 50126)
            // One address spraying one password over many usernames is held per source address
            // (5 here; 4 guesses from it so far), whatever the username.
            var spray: [Int?] = []
            for index in 0..<4 { spray.append(Self.code(try await password("user\(index)", "Summer2026!", from: "203.0.113.9"))) }
            #expect(spray == [50126, 9_900_430, 9_900_430, 9_900_430], "\(spray)")
            // Two more guesses from elsewhere reach the account's lock (five checks)...
            for index in 0..<2 { _ = try await password("alice", "more \(index)", from: "192.0.2.44") }
            #expect(Self.code(try await password("alice", Harness.password, from: "192.0.2.45")) == 50053)
            // ...and Alice's own browser still signs in (smart lockout's device cookie).
            #expect(try await SmartLockoutTests.attempt(harness, own, password: Harness.password) == "ok")
        }
    }

    /// RFC 9700 §4.14.2 with the retry window: a confidential client's retry of generation G-1
    /// gets the same successor G while the grant is at G and within 120 s; a public client's
    /// within 10 s; each retry is kept whole in the sign-in log.
    @Test func aConfidentialClientsRetryWithinTheWindowGetsTheSameSuccessor() async throws {
        let time = ManualTime()
        let harness = try await Harness.make(time: time.source)
        try await harness.withClient { client in
            let original = try #require(try await harness.tokens(client)["refresh_token"] as? String)
            let first = json(try await harness.refresh(client, original))
            let successor = try #require(first["refresh_token"] as? String)
            time.now += 60
            let retry = try await harness.refresh(client, original)
            #expect(retry.status == .ok)
            #expect(json(retry)["refresh_token"] as? String == successor)
            #expect(json(retry)["access_token"] as? String != first["access_token"] as? String)
            time.now += 70
            let late = try await harness.refresh(client, original)
            #expect(Self.code(late) == 9_900_154, "130 s after the rotation it is reuse")
            #expect(Self.code(try await harness.refresh(client, successor)) == 50173, "reuse revoked the grant")

            // Once G+1 exists, G-1 is reuse at once.
            let other = try #require(try await harness.tokens(client)["refresh_token"] as? String)
            let next = try #require(json(try await harness.refresh(client, other))["refresh_token"] as? String)
            #expect(try await harness.refresh(client, next).status == .ok)
            time.now += 5
            #expect(Self.code(try await harness.refresh(client, other)) == 9_900_154)

            await harness.gatehouse.signIns.flush()
            let rows = try await harness.store.signIns(SignInQuery(tenant: "contoso", clientID: "web", limit: 1_000))
            let retries = rows.filter { $0.result == .success && ($0.detail ?? "").hasPrefix("retry of the replaced refresh token") }
            #expect(retries.count == 1, "\(rows.map { $0.detail ?? "-" })")
            #expect(retries.first?.grantType == "refresh_token" && retries.first?.countedInAggregate == false)
        }
    }

    @Test func aPublicClientsRetryGetsTheShortGrace() async throws {
        let time = ManualTime()
        let harness = try await Harness.make(time: time.source)
        try await harness.withClient { client in
            func nativeTokens() async throws -> String {
                let pkce = PKCEPair()
                let reply = try await harness.signIn(
                    Browser(client),
                    uri: harness.authorizeURI(
                        client: "native", redirect: "http://127.0.0.1/callback", scope: "openid offline_access", pkce: pkce))
                let code = redirectParameters(reply)["code"] ?? ""
                let tokens = json(
                    try await harness.redeem(client, code: code, pkce: pkce, clientID: "native", redirect: "http://127.0.0.1/callback"))
                return tokens["refresh_token"] as? String ?? ""
            }
            func refresh(_ token: String) async throws -> TestResponse {
                try await harness.token(client, [("grant_type", "refresh_token"), ("refresh_token", token), ("client_id", "native")])
            }
            let original = try await nativeTokens()
            let rotated = try await refresh(original)
            let successor = try #require(json(rotated)["refresh_token"] as? String, "\(json(rotated)) original \(original.prefix(8))")
            time.now += 5
            let retry = try await refresh(original)
            #expect(json(retry)["refresh_token"] as? String == successor, "\(json(retry))")
            time.now += 6
            #expect(Self.code(try await refresh(original)) == 9_900_154, "11 s after the rotation a public client's retry is reuse")
            await harness.gatehouse.signIns.flush()
            let rows = try await harness.store.signIns(SignInQuery(tenant: "contoso", clientID: "native", limit: 1_000))
            #expect(rows.filter { ($0.detail ?? "").hasPrefix("retry of the replaced refresh token") }.count == 1)
        }
    }

    /// Behind a trusted proxy the sign-in log records the client's address, the one the throttles count.
    @Test func theSignInLogRecordsTheAddressBehindATrustedProxy() async throws {
        let harness = try await Self.harness(time: ManualTime())
        try await harness.withClient { client in
            let response = try await harness.token(
                client, [("grant_type", "client_credentials")],
                headers: [.authorization: basic("svc", "wrong"), Self.forwarded: "192.0.2.10, 203.0.113.77"])
            #expect(response.status.code == 401)
            await harness.gatehouse.signIns.flush()
            let rows = try await harness.store.signIns(SignInQuery(tenant: "contoso", clientID: "svc", limit: 10))
            #expect(rows.map(\.clientIP) == ["203.0.113.77"])
        }
    }

    /// One address guessing passwords over many usernames on the sign-in page is held per source
    /// address before bcrypt; a browser that signed in as its user before goes on from there.
    @Test func sprayingPasswordsOverManyUsernamesIsHeldPerSourceAndTheUsersOwnBrowserGoesOn() async throws {
        let harness = try await Self.harness(time: ManualTime())
        try await harness.withClient { client in
            // In-process requests all come from "unknown": Alice's own browser signs in first.
            let own = Browser(client)
            #expect(try await SmartLockoutTests.attempt(harness, own, password: Harness.password) == "ok")
            var outcomes: [String] = []
            for index in 0..<8 {
                outcomes.append(
                    try await SmartLockoutTests.attempt(harness, Browser(client), user: "name\(index)", password: "Summer2026!"))
            }
            #expect(outcomes.filter { $0 == "50126" }.count == 5 && outcomes.filter { $0 == "other 429" }.count == 3, "\(outcomes)")
            // A new browser is refused unchecked, even with Alice's right password...
            #expect(try await SmartLockoutTests.attempt(harness, Browser(client), password: Harness.password) == "other 429")
            // ...Alice's own browser is not held by the per-source limit.
            #expect(try await SmartLockoutTests.attempt(harness, own, password: Harness.password) == "ok")
        }
    }
}
