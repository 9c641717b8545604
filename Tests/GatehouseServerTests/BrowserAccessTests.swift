import Foundation
import GatehouseCore
import GatehouseServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// CORS (docs/browser-apps.md): metadata and keys for any page; the token, device authorization,
/// revocation and userinfo endpoints for the origins of a public client's redirect URIs only;
/// never `*` there, never credentials; confidential clients refused from a page (9002326); the
/// authorization endpoint and the pages never.
@Suite struct BrowserAccessTests {
    /// The harness's `native` client is public with redirect URI `http://127.0.0.1/callback`;
    /// `web` is confidential with `https://web.example.com/callback`.
    static let app = "http://127.0.0.1"
    static let confidentialOrigin = "https://web.example.com"
    static let stranger = "https://evil.example"

    static func preflight(_ client: any TestClientProtocol, _ path: String, origin: String, method: String = "POST") async throws
        -> TestResponse
    {
        try await client.execute(
            uri: path, method: .options,
            headers: [.origin: origin, .accessControlRequestMethod: method, .accessControlRequestHeaders: "content-type"])
    }

    @Test func aPreflightIsAllowedForThePublicClientsOriginsOnly() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            for (path, methods) in [
                ("/contoso/oauth2/token", "POST"), ("/contoso/oauth2/v2.0/token", "POST"), ("/contoso/oauth2/devicecode", "POST"),
                ("/contoso/oauth2/v2.0/devicecode", "POST"), ("/contoso/oauth2/revoke", "POST"), ("/contoso/oidc/userinfo", "GET, POST"),
            ] {
                let allowed = try await Self.preflight(client, path, origin: Self.app)
                #expect(allowed.status == .noContent, "\(path)")
                #expect(allowed.headers[.accessControlAllowOrigin] == Self.app, "\(path)")
                #expect(allowed.headers[.accessControlAllowMethods] == methods, "\(path)")
                #expect(allowed.headers[.accessControlMaxAge] == "600" && allowed.headers[.vary] == "Origin", "\(path)")
                #expect(allowed.headers[.accessControlAllowCredentials] == nil, "\(path)")
                let headers = allowed.headers[.accessControlAllowHeaders] ?? ""
                #expect(headers.contains("Content-Type"), "\(path)")
                #expect(headers.contains("client-request-id") == path.contains("v2.0"), "\(path)")
                #expect(headers.contains("Authorization") == path.contains("userinfo"), "\(path)")
                // A stranger's origin, a confidential client's origin, an unknown tenant: no CORS.
                for (origin, tenantPath) in [
                    (Self.stranger, path), (Self.confidentialOrigin, path),
                    (Self.app, path.replacingOccurrences(of: "/contoso/", with: "/nowhere/")),
                ] {
                    let refused = try await Self.preflight(client, tenantPath, origin: origin)
                    #expect(refused.headers[.accessControlAllowOrigin] == nil, "\(tenantPath) from \(origin)")
                    #expect(refused.headers[.accessControlAllowMethods] == nil, "\(tenantPath) from \(origin)")
                }
            }
            // `common` (Entra): a public client of any tenant.
            let common = try await Self.preflight(client, "/common/oauth2/v2.0/token", origin: Self.app)
            #expect(common.headers[.accessControlAllowOrigin] == Self.app)
        }
    }

    @Test func theAnswerIsReadableByThePresentingPublicClientsOriginOnly() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            func redeem(origin: String) async throws -> TestResponse {
                try await harness.token(
                    client, [("grant_type", "authorization_code"), ("code", "no-such-code"), ("client_id", "native")],
                    headers: [.origin: origin])
            }
            let own = try await redeem(origin: Self.app)
            expectError(own, status: 400, error: "invalid_grant", code: 70_000)
            #expect(own.headers[.accessControlAllowOrigin] == Self.app && own.headers[.vary] == "Origin")
            #expect(own.headers[.accessControlAllowCredentials] == nil)
            #expect(own.headers[.accessControlExposeHeaders] == "X-Trace-Id, DPoP-Nonce, WWW-Authenticate")
            // Answered as usual, but without CORS headers: the browser withholds it.
            let foreign = try await redeem(origin: Self.stranger)
            expectError(foreign, status: 400, error: "invalid_grant", code: 70_000)
            #expect(foreign.headers[.accessControlAllowOrigin] == nil && foreign.headers[.vary] == "Origin")
            // Revocation by the public client (RFC 7009 answers 200 for an unknown token).
            let revoked = try await client.execute(
                uri: "/contoso/oauth2/revoke", method: .post,
                headers: [.contentType: "application/x-www-form-urlencoded", .origin: Self.app],
                body: ByteBuffer(string: formEncode([("token", "whatever-token"), ("client_id", "native")])))
            #expect(revoked.status == .ok && revoked.headers[.accessControlAllowOrigin] == Self.app)
        }
    }

    @Test func aConfidentialClientIsRefusedFromAPage() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let pairs = [("grant_type", "client_credentials")]
            let auth = basic("web", harness.secret("web"))
            let fromItsPage = try await harness.token(client, pairs, headers: [.authorization: auth, .origin: Self.confidentialOrigin])
            expectError(fromItsPage, status: 400, error: "invalid_request", code: 9_002_326)
            // Its own developer can read why; another page cannot.
            #expect(fromItsPage.headers[.accessControlAllowOrigin] == Self.confidentialOrigin)
            let fromElsewhere = try await harness.token(client, pairs, headers: [.authorization: auth, .origin: Self.stranger])
            expectError(fromElsewhere, status: 400, error: "invalid_request", code: 9_002_326)
            #expect(fromElsewhere.headers[.accessControlAllowOrigin] == nil)
            // From a server (no Origin): as before.
            #expect(try await harness.token(client, pairs, headers: [.authorization: auth]).status == .ok)
            // Userinfo with a confidential client's token: answered, but not readable by its pages.
            let tokens = try await harness.tokens(client)
            let info = try await client.execute(
                uri: "/contoso/oidc/userinfo", method: .get,
                headers: [.authorization: "Bearer \(tokens["access_token"] as? String ?? "")", .origin: Self.confidentialOrigin])
            #expect(info.status == .ok && info.headers[.accessControlAllowOrigin] == nil && info.headers[.vary] == "Origin")
        }
    }

    @Test func userinfoIsReadableByTheTokensPublicClient() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let pkce = PKCEPair()
            let browser = Browser(client)
            let reply = try await harness.signIn(
                browser,
                uri: harness.authorizeURI(client: "native", redirect: "http://127.0.0.1:4242/callback", scope: "openid", pkce: pkce))
            let code = redirectParameters(reply)["code"] ?? ""
            let tokens = json(
                try await harness.redeem(client, code: code, pkce: pkce, clientID: "native", redirect: "http://127.0.0.1:4242/callback"))
            let token = try #require(tokens["access_token"] as? String)
            for (origin, readable) in [(Self.app, true), (Self.stranger, false)] {
                let info = try await client.execute(
                    uri: "/contoso/oidc/userinfo", method: .get, headers: [.authorization: "Bearer \(token)", .origin: origin])
                #expect(info.status == .ok)
                #expect((info.headers[.accessControlAllowOrigin] == origin) == readable, "\(origin)")
            }
        }
    }

    @Test func metadataAndKeysAreForAnyPageAndTheSignInPagesForNone() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            for path in [
                "/contoso/.well-known/openid-configuration", "/.well-known/oauth-authorization-server/contoso",
                "/contoso/discovery/keys", "/contoso/v2.0/.well-known/openid-configuration", "/contoso/discovery/v2.0/keys",
            ] {
                let response = try await client.execute(uri: path, method: .get, headers: [.origin: Self.stranger])
                #expect(response.status == .ok, "\(path)")
                #expect(response.headers[.accessControlAllowOrigin] == "*", "\(path)")
                #expect(response.headers[.accessControlAllowCredentials] == nil, "\(path)")
            }
            for path in [
                harness.authorizeURI(client: "native", redirect: "http://127.0.0.1/callback"), "/contoso/oauth2/logout",
                "/contoso/oauth2/device", "/contoso/oauth2/v2.0/authorize",
            ] {
                for method in [HTTPRequest.Method.get, .options] {
                    let response = try await client.execute(uri: path, method: method, headers: [.origin: Self.app])
                    #expect(response.headers[.accessControlAllowOrigin] == nil, "\(method) \(path)")
                }
            }
        }
    }
}
