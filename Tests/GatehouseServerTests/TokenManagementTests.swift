import Foundation
import GatehouseCore
import GatehouseServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// Introspection (RFC 7662), revocation (RFC 7009), userinfo errors (RFC 6750), logout, discovery.
@Suite struct TokenManagementTests {
    func introspect(_ harness: Harness, _ client: any TestClientProtocol, _ token: String, as clientID: String = "web") async throws
        -> [String: Any]
    {
        json(
            try await harness.token(
                client, [("token", token)], headers: [.authorization: basic(clientID, harness.secret(clientID))],
                path: "/contoso/oauth2/introspect"))
    }

    func revoke(_ harness: Harness, _ client: any TestClientProtocol, _ token: String, as clientID: String = "web", hint: String? = nil)
        async throws -> TestResponse
    {
        var pairs = [("token", token)]
        if let hint { pairs.append(("token_type_hint", hint)) }
        return try await harness.token(
            client, pairs, headers: [.authorization: basic(clientID, harness.secret(clientID))], path: "/contoso/oauth2/revoke")
    }

    @Test func introspectionShowsOnlyWhatTheClientMaySee() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let tokens = try await harness.tokens(client)
            let access = try #require(tokens["access_token"] as? String)
            let refresh = try #require(tokens["refresh_token"] as? String)
            let own = try await introspect(harness, client, access)
            #expect(own["active"] as? Bool == true && own["client_id"] as? String == "web" && own["token_type"] as? String == "Bearer")
            #expect(own["username"] as? String == "alice" && own["scope"] as? String == "openid profile email offline_access")
            #expect(try await introspect(harness, client, access, as: "web2")["active"] as? Bool == false)
            #expect(try await introspect(harness, client, refresh, as: "web2")["active"] as? Bool == false)
            #expect(try await introspect(harness, client, "garbage")["active"] as? Bool == false)
            // Client authentication is required.
            expectError(
                try await harness.token(client, [("token", access)], path: "/contoso/oauth2/introspect"), status: 401,
                error: "invalid_client", code: 9900110)
            expectError(
                try await harness.token(
                    client, [], headers: [.authorization: basic("web", harness.secret("web"))], path: "/contoso/oauth2/introspect"),
                status: 400, error: "invalid_request", code: 900144)
        }
    }

    @Test func revocation() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let tokens = try await harness.tokens(client)
            let access = try #require(tokens["access_token"] as? String)
            let refresh = try #require(tokens["refresh_token"] as? String)
            // Another client may not revoke it; unknown tokens are fine (RFC 7009 §2.2).
            expectError(try await revoke(harness, client, refresh, as: "web2"), status: 400, error: "invalid_request", code: 9900163)
            #expect(try await revoke(harness, client, "unknown-token").status == .ok)
            // Revoking the access token: introspection and userinfo refuse it; the refresh token lives on.
            #expect(try await revoke(harness, client, access, hint: "access_token").status == .ok)
            #expect(try await introspect(harness, client, access)["active"] as? Bool == false)
            #expect(
                try await client.execute(uri: "/contoso/oidc/userinfo", method: .get, headers: [.authorization: "Bearer \(access)"]).status
                    == .unauthorized)
            let refreshed = try await harness.refresh(client, refresh)
            #expect(refreshed.status == .ok)
            // Revoking a refresh token ends its family: the newest token and its access token too.
            let newest = try #require(json(refreshed)["refresh_token"] as? String)
            let newestAccess = try #require(json(refreshed)["access_token"] as? String)
            #expect(try await revoke(harness, client, newest, hint: "refresh_token").status == .ok)
            expectError(try await harness.refresh(client, newest), status: 400, error: "invalid_grant", code: 50173)
            #expect(try await introspect(harness, client, newestAccess)["active"] as? Bool == false)
            #expect(try await revoke(harness, client, newest).status == .ok)
        }
    }

    @Test func userinfoErrors() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let missing = try await client.execute(uri: "/contoso/oidc/userinfo", method: .get)
            // Both schemes are offered, neither with an error (RFC 6750 §3, RFC 9449 §7.1).
            #expect(
                missing.status == .unauthorized
                    && missing.headers[values: .wwwAuthenticate]
                        == [#"Bearer realm="contoso""#, #"DPoP realm="contoso", algs="ES256 RS256 PS256 EdDSA""#]
            )
            #expect(json(missing)["error_codes"] as? [Int] == [9900160])
            let bad = try await client.execute(uri: "/contoso/oidc/userinfo", method: .get, headers: [.authorization: "Bearer not.a.jwt"])
            #expect(bad.status == .unauthorized && json(bad)["error"] as? String == "invalid_token")
            // Another scheme is refused as such; the scheme's case and blanks around the token do not matter.
            let basicScheme = try await client.execute(uri: "/contoso/oidc/userinfo", method: .get, headers: [.authorization: "Basic abc"])
            #expect(basicScheme.status == .unauthorized && json(basicScheme)["error_codes"] as? [Int] != [9900160])
            let tokens = try await harness.tokens(client, scope: "openid profile")
            let access = try #require(tokens["access_token"] as? String)
            let lower = try await client.execute(
                uri: "/contoso/oidc/userinfo", method: .get, headers: [.authorization: "bearer   \(access) "])
            #expect(lower.status == .ok, "\(String(buffer: lower.body))")
            // A client credentials token has no openid scope.
            let service = json(
                try await harness.token(
                    client, [("grant_type", "client_credentials")], headers: [.authorization: basic("svc", harness.secret("svc"))]))
            let forbidden = try await client.execute(
                uri: "/contoso/oidc/userinfo", method: .get, headers: [.authorization: "Bearer \(service["access_token"] as? String ?? "")"]
            )
            #expect(forbidden.status == .forbidden && json(forbidden)["error"] as? String == "insufficient_scope")
            #expect(forbidden.headers[.wwwAuthenticate]?.contains(#"error="insufficient_scope", "#) == true)
        }
    }

    @Test func logout() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let browser = Browser(client)
            let pkce = PKCEPair()
            let code = redirectParameters(try await harness.signIn(browser, uri: harness.authorizeURI(pkce: pkce)))["code"] ?? ""
            let idToken = try #require(json(try await harness.redeem(client, code: code, pkce: pkce))["id_token"] as? String)
            // Unregistered post_logout_redirect_uri and a forged hint are shown here, not redirected.
            let unregistered = try await browser.get(
                "/contoso/oauth2/logout?"
                    + formEncode([("id_token_hint", idToken), ("post_logout_redirect_uri", "https://evil.example.com/")]))
            #expect(
                unregistered.status == .badRequest && unregistered.headers[.location] == nil
                    && String(buffer: unregistered.body).contains(">9900171<"))
            let forged = try await browser.get("/contoso/oauth2/logout?" + formEncode([("id_token_hint", idToken.dropLast(4) + "AAAA")]))
            #expect(forged.status == .badRequest && String(buffer: forged.body).contains(">9900170<"))
            // A logout's error page is titled for signing out, not in.
            #expect(
                String(buffer: forged.body).contains("<title>Sign out</title>") && !String(buffer: forged.body).contains("<title>Sign in"))
            // Without a hint the user confirms first.
            let confirm = try await browser.get("/contoso/oauth2/logout")
            #expect(confirm.status == .ok && field("csrf", in: confirm) != nil)
            #expect(redirectParameters(try await browser.get(harness.authorizeURI(extra: [("prompt", "none")])))["code"] != nil)
            // With the hint: the session ends and the browser goes to the registered URI with state.
            let out = try await browser.get(
                "/contoso/oauth2/logout?"
                    + formEncode([("id_token_hint", idToken), ("post_logout_redirect_uri", "https://web.example.com/bye"), ("state", "s9")])
            )
            #expect(out.status == .seeOther && out.headers[.location] == "https://web.example.com/bye?state=s9")
            #expect(redirectParameters(try await browser.get(harness.authorizeURI(extra: [("prompt", "none")])))["error_codes"] == "50058")
            // The confirmation form ends a session too.
            _ = try await harness.signIn(browser, uri: harness.authorizeURI())
            let page = try await browser.get("/contoso/oauth2/logout")
            // A forged confirmation only shows the question again.
            let forgedConfirm = try await browser.post("/contoso/oauth2/logout", [("csrf", "forged")])
            #expect(forgedConfirm.status == .ok && field("csrf", in: forgedConfirm) == field("csrf", in: page))
            #expect(redirectParameters(try await browser.get(harness.authorizeURI(extra: [("prompt", "none")])))["code"] != nil)
            let done = try await browser.post("/contoso/oauth2/logout", [("csrf", field("csrf", in: page) ?? "")])
            #expect(done.status == .ok && String(buffer: done.body).contains("You have signed out"))
            #expect(redirectParameters(try await browser.get(harness.authorizeURI(extra: [("prompt", "none")])))["error_codes"] == "50058")
        }
    }

    @Test func discoveryDescribesTheSignInEndpoints() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let document = json(try await client.execute(uri: "/contoso/.well-known/openid-configuration", method: .get))
            let issuer = "\(Harness.baseURL)/contoso"
            #expect(document["authorization_endpoint"] as? String == "\(issuer)/oauth2/authorize")
            #expect(document["userinfo_endpoint"] as? String == "\(issuer)/oidc/userinfo")
            #expect(document["end_session_endpoint"] as? String == "\(issuer)/oauth2/logout")
            #expect(document["introspection_endpoint"] as? String == "\(issuer)/oauth2/introspect")
            #expect(document["revocation_endpoint"] as? String == "\(issuer)/oauth2/revoke")
            #expect(document["response_types_supported"] as? [String] == ["code"])
            #expect(document["code_challenge_methods_supported"] as? [String] == ["S256"])
            #expect(document["authorization_response_iss_parameter_supported"] as? Bool == true)
            let grants = Set(document["grant_types_supported"] as? [String] ?? [])
            #expect(
                grants == [
                    "authorization_code", "refresh_token", "client_credentials", "password", GrantType.deviceCode.rawValue,
                    GrantType.jwtBearer.rawValue,
                ])
        }
    }
}
