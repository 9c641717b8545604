import Foundation
import GatehouseCore
import GatehouseServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// RFC 8707 at the token endpoint for grants the user authorized: `resource` on the redemption of
/// a code, a refresh or a device code narrows the access token's audience among the grant's, and
/// a resource the grant does not cover is `invalid_target` (9900125).
@Suite struct ResourceIndicatorTests {
    static let api = "https://api.example.com"
    static let other = "urn:example:other"

    /// Signs in as alice for `web` with the given resources; the code and its verifier.
    static func code(_ harness: Harness, _ client: any TestClientProtocol, resources: [String]) async throws -> (String, PKCEPair) {
        let pkce = PKCEPair()
        let reply = try await harness.signIn(
            Browser(client),
            uri: harness.authorizeURI(scope: "openid offline_access api.read", pkce: pkce, extra: resources.map { ("resource", $0) }))
        return (try #require(redirectParameters(reply)["code"]), pkce)
    }

    static func redeem(
        _ harness: Harness, _ client: any TestClientProtocol, _ code: String, _ pkce: PKCEPair, resources: [String]
    ) async throws -> TestResponse {
        try await harness.token(
            client,
            [
                ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", Harness.webRedirect),
                ("code_verifier", pkce.verifier),
            ] + resources.map { ("resource", $0) }, headers: [.authorization: basic("web", harness.secret("web"))])
    }

    static func audience(_ response: TestResponse) -> [String] {
        let aud = claims(json(response)["access_token"] as? String ?? "")["aud"]
        return (aud as? [String]) ?? (aud as? String).map { [$0] } ?? []
    }

    static func code(_ response: TestResponse) -> Int? { (json(response)["error_codes"] as? [Int])?.first }

    @Test func aRedemptionNarrowsTheAudienceAmongTheGrantsResources() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let (both, pkce) = try await Self.code(harness, client, resources: [Self.api, Self.other])
            let narrowed = try await Self.redeem(harness, client, both, pkce, resources: [Self.other])
            #expect(narrowed.status == .ok && Self.audience(narrowed) == [Self.other], "\(json(narrowed))")
            // The refresh token is the grant's: a refresh may name the other resource of the grant.
            let refresh = try #require(json(narrowed)["refresh_token"] as? String)
            let api = try await harness.token(
                client, [("grant_type", "refresh_token"), ("refresh_token", refresh), ("resource", Self.api)],
                headers: [.authorization: basic("web", harness.secret("web"))])
            #expect(api.status == .ok && Self.audience(api) == [Self.api], "\(json(api))")
            // Without a resource: the grant's whole audience.
            let (again, pkce2) = try await Self.code(harness, client, resources: [Self.api, Self.other])
            #expect(Self.audience(try await Self.redeem(harness, client, again, pkce2, resources: [])) == [Self.api, Self.other])
        }
    }

    @Test func aResourceTheGrantDoesNotCoverIsInvalidTarget() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            // Authorized for A, redeemed naming B (which the client may also use): refused, not A.
            let (code, pkce) = try await Self.code(harness, client, resources: [Self.api])
            let refused = try await Self.redeem(harness, client, code, pkce, resources: [Self.other])
            #expect(refused.status == .badRequest && json(refused)["error"] as? String == "invalid_target")
            #expect(Self.code(refused) == 9_900_125 && (json(refused)["error_description"] as? String ?? "").contains(Self.other))
            // A malformed resource is refused before the code is spent: the code still works.
            let (kept, pkce2) = try await Self.code(harness, client, resources: [Self.api])
            #expect(Self.code(try await Self.redeem(harness, client, kept, pkce2, resources: ["not a uri"])) == 9_900_123)
            let tokens = try await Self.redeem(harness, client, kept, pkce2, resources: [Self.api])
            #expect(tokens.status == .ok && Self.audience(tokens) == [Self.api])
            // A refresh naming B after a grant for A: refused, and the refresh token still works.
            let refresh = try #require(json(tokens)["refresh_token"] as? String)
            let wider = try await harness.token(
                client, [("grant_type", "refresh_token"), ("refresh_token", refresh), ("resource", Self.other)],
                headers: [.authorization: basic("web", harness.secret("web"))])
            #expect(Self.code(wider) == 9_900_125 && json(wider)["error"] as? String == "invalid_target")
            let same = try await harness.refresh(client, refresh)
            #expect(same.status == .ok && Self.audience(same) == [Self.api])
        }
    }

    /// A device code redeemed naming one of the approved resources gets a token for it alone; one
    /// the user did not approve is refused without taking the approval.
    @Test func aDeviceCodeRedemptionNarrowsTheAudience() async throws {
        let time = ManualTime()
        let harness = try await Harness.make(time: time.source)
        var spec = Administration.ClientSpec(id: try ClientID("tv"), name: "TV")
        spec.type = .public
        spec.grantTypes = [.deviceCode]
        spec.allowedScopes = Scope(tokens: ["openid", "api.read"])
        spec.allowedResources = [try ResourceIndicator(Self.api), try ResourceIndicator(Self.other)]
        _ = try await harness.gatehouse.administration.createClient(tenant: try TenantName(Harness.tenant), spec: spec)
        try await harness.withClient { client in
            let start = try await client.execute(
                uri: "/contoso/oauth2/devicecode", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(
                    string: formEncode([
                        ("client_id", "tv"), ("scope", "openid api.read"), ("resource", Self.api), ("resource", Self.other),
                    ])))
            let flow = json(start)
            let deviceCode = try #require(flow["device_code"] as? String, "\(flow)")
            let userCode = try #require(flow["user_code"] as? String)
            let browser = Browser(client)
            let login = try await browser.post("/contoso/oauth2/device", [("user_code", userCode)])
            let consent = try await browser.post(
                "/contoso/oauth2/login",
                [
                    ("interaction", field("interaction", in: login) ?? ""), ("csrf", field("csrf", in: login) ?? ""),
                    ("username", "alice"), ("password", Harness.password),
                ])
            _ = try await browser.post(
                "/contoso/oauth2/consent",
                [
                    ("interaction", field("interaction", in: consent) ?? ""), ("csrf", field("csrf", in: consent) ?? ""),
                    ("decision", "allow"),
                ])
            func poll(_ resources: [String]) async throws -> TestResponse {
                time.now += 10
                return try await harness.token(
                    client,
                    [("grant_type", GrantType.deviceCode.rawValue), ("client_id", "tv"), ("device_code", deviceCode)]
                        + resources.map { ("resource", $0) })
            }
            let refused = try await poll(["urn:example:never-approved"])
            #expect(Self.code(refused) == 9_900_125, "\(json(refused))")
            let narrowed = try await poll([Self.other])
            #expect(narrowed.status == .ok && Self.audience(narrowed) == [Self.other], "\(json(narrowed))")
        }
    }
}
