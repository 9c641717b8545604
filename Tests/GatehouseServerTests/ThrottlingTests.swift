import Foundation
import GatehouseCore
import GatehouseServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

/// The throttles through the real router: 429 with `Retry-After` and the throttle's code, a good
/// client elsewhere unaffected, successes never counted, bursts held to the limit.
@Suite struct ThrottlingTests {
    final class Clock: Sendable {
        let now = Mutex(Date())
        func advance(_ seconds: TimeInterval) { now.withLock { $0 = $0.addingTimeInterval(seconds) } }
        var source: TimeSource { TimeSource { self.now.withLock { $0 } } }
    }

    static let forwarded = HTTPField.Name("X-Forwarded-For")!

    /// In-process requests have no peer address ("unknown"); trusting it as a proxy lets each test
    /// request name its address in `X-Forwarded-For`.
    static func harness(clock: Clock) async throws -> Harness {
        try await Harness.make(time: clock.source) { configuration in
            configuration.throttling = ThrottleSettings()
            configuration.throttling.client = .init(failures: 5, window: 60)
            configuration.throttling.signIn = .init(failures: 3, window: 300)
            configuration.throttling.userCode = .init(failures: 3, window: 300)
            configuration.throttling.trustedProxies = ["unknown"]
            configuration.signIn.lockoutThreshold = 100
        }
    }

    @Test func badSecretsFromOneAddressDoNotStopTheClientElsewhere() async throws {
        let clock = Clock()
        let harness = try await Self.harness(clock: clock)
        try await harness.withClient { client in
            @Sendable func request(_ secret: String, from address: String) async throws -> TestResponse {
                try await harness.token(
                    client, [("grant_type", "client_credentials")],
                    headers: [.authorization: basic("svc", secret), Self.forwarded: address])
            }
            // A burst of 30 wrong secrets from one address: five are checked, the rest refused unchecked.
            let statuses = try await withThrowingTaskGroup(of: (Int, Int?).self) { group in
                for index in 0..<30 {
                    group.addTask {
                        let response = try await request("wrong-\(index)", from: "203.0.113.5")
                        return (Int(response.status.code), (json(response)["error_codes"] as? [Int])?.first)
                    }
                }
                return try await group.reduce(into: [(Int, Int?)]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == (401, 7_000_215) }.count == 5, "\(statuses)")
            #expect(statuses.filter { $0 == (429, 9_900_429) }.count == 25, "\(statuses)")
            let throttled = try await request("wrong", from: "203.0.113.5")
            #expect(throttled.status.code == 429 && throttled.headers[.retryAfter] == "60")
            #expect(json(throttled)["error"] as? String == "temporarily_unavailable")
            // The same client from another address is unaffected, as is every success.
            for _ in 0..<20 { #expect(try await request(harness.secret("svc"), from: "198.51.100.7").status == .ok) }
            // The throttled address waits out the window, then succeeds.
            #expect(try await request(harness.secret("svc"), from: "203.0.113.5").status.code == 429)
            clock.advance(61)
            #expect(try await request(harness.secret("svc"), from: "203.0.113.5").status == .ok)
        }
    }

    @Test func aForwardedForFromAnUntrustedPeerIsIgnored() async throws {
        let clock = Clock()
        let harness = try await Harness.make(time: clock.source) { configuration in
            configuration.throttling = ThrottleSettings()
            configuration.throttling.client = .init(failures: 2, window: 60)
        }
        try await harness.withClient { client in
            // Each request claims a new address; none is believed, so all count under the peer.
            var statuses: [Int] = []
            for index in 0..<4 {
                let response = try await harness.token(
                    client, [("grant_type", "client_credentials")],
                    headers: [.authorization: basic("svc", "wrong"), Self.forwarded: "192.0.2.\(index)"])
                statuses.append(Int(response.status.code))
            }
            #expect(statuses == [401, 401, 429, 429])
        }
    }

    @Test func wrongPasswordsFromOneAddressAreThrottledPerUsername() async throws {
        let clock = Clock()
        let harness = try await Self.harness(clock: clock)
        try await harness.withClient { client in
            let browser = Browser(client)
            let page = try await browser.get(harness.authorizeURI())
            let interaction = try #require(field("interaction", in: page))
            let csrf = try #require(field("csrf", in: page))
            @Sendable func attempt(_ username: String, _ password: String) async throws -> (Int, String) {
                let response = try await browser.post(
                    "/contoso/oauth2/login", [("interaction", interaction), ("csrf", csrf), ("username", username), ("password", password)])
                let html = String(buffer: response.body)
                return (response.status.code, html.contains(">9900430<") ? "throttled" : html.contains(">50126<") ? "50126" : "other")
            }
            let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<12 { group.addTask { try await attempt("alice", "wrong \(index)").1 } }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == "50126" }.count == 3 && outcomes.filter { $0 == "throttled" }.count == 9, "\(outcomes)")
            let refused = try await attempt("alice", Harness.password)
            #expect(refused == (429, "throttled"), "the right password is not checked while throttled")
            // Another username from the same address is not throttled.
            #expect(try await attempt("nobody-\(UUID())", "x").1 == "50126")
        }
    }

    @Test func wrongUserCodesAreThrottledPerAddress() async throws {
        let clock = Clock()
        let harness = try await Self.harness(clock: clock)
        try await harness.withClient { client in
            let browser = Browser(client)
            var statuses: [Int] = []
            for index in 0..<5 {
                statuses.append(try await browser.post("/contoso/oauth2/device", [("user_code", "BBBB-BBB\(index)")]).status.code)
            }
            #expect(statuses == [400, 400, 400, 429, 429])
            let throttled = try await browser.post("/contoso/oauth2/device", [("user_code", "BBBB-BBBB")])
            #expect(throttled.headers[.retryAfter] == "300" && String(buffer: throttled.body).contains("9900431"))
        }
    }
}
