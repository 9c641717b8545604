import Foundation
import GatehouseCore
import GatehouseServer
import GatehouseStore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JWTKit
import NIOCore
import Testing

/// The whole code flow through the real router: authorize, sign-in page, consent, code,
/// tokens, ID token, userinfo, refresh, reuse detection, revocation, introspection, logout.
@Suite struct AuthorizationCodeFlowTests {
    @Test func fullFlowIssuesVerifiableTokensAndRotatesRefreshTokens() async throws {
        let time = ManualTime()
        let harness = try await Harness.make(time: time.source)
        try await harness.withClient { client in
            let browser = Browser(client)
            let pkce = PKCEPair()
            let page = try await browser.get(harness.authorizeURI(pkce: pkce))
            #expect(page.status == .ok)
            let csp = page.headers[.contentSecurityPolicy] ?? ""
            #expect(csp.contains("frame-ancestors 'none'") && csp.contains("form-action 'self' https://web.example.com"))
            #expect(page.headers[.init("X-Content-Type-Options")!] == "nosniff")
            #expect(page.headers[.cacheControl] == "no-store")
            let html = String(buffer: page.body)
            #expect(html.contains(#"<label for="username">"#) && html.contains(#"<label for="password">"#) && html.contains(#"lang="en""#))
            let cookie = page.headers[values: .setCookie].first { $0.hasPrefix("gatehouse_browser=") } ?? ""
            #expect(
                cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Secure")
                    && cookie.contains("Path=/contoso/"))
            let interaction = try #require(field("interaction", in: page))
            let csrf = try #require(field("csrf", in: page))

            // Wrong password: 50126 on the page, no redirect.
            let wrong = try await browser.post(
                "/contoso/oauth2/login", [("interaction", interaction), ("csrf", csrf), ("username", "alice"), ("password", "nope nope")])
            #expect(wrong.status == .badRequest && wrong.headers[.location] == nil)
            #expect(String(buffer: wrong.body).contains(">50126<") && String(buffer: wrong.body).contains(#"role="alert""#))

            let login = try await browser.post(
                "/contoso/oauth2/login",
                [("interaction", interaction), ("csrf", csrf), ("username", "Alice"), ("password", Harness.password)])
            #expect(login.status == .ok)
            let session = login.headers[values: .setCookie].first { $0.hasPrefix("gatehouse_session=") } ?? ""
            #expect(session.contains("HttpOnly") && session.contains("SameSite=Lax") && session.contains("Secure"))
            let consentHTML = String(buffer: login.body)
            #expect(consentHTML.contains("See your email address") && consentHTML.contains("oauth2/consent"))
            let reply = try await browser.post(
                "/contoso/oauth2/consent",
                [
                    ("interaction", try #require(field("interaction", in: login))), ("csrf", try #require(field("csrf", in: login))),
                    ("decision", "allow"),
                ])
            #expect(reply.status == .seeOther)
            #expect(reply.headers[.location]?.hasPrefix(Harness.webRedirect + "?code=") == true)
            let parameters = redirectParameters(reply)
            #expect(parameters["state"] == "st-1")
            #expect(parameters["iss"] == "\(Harness.baseURL)/contoso")
            let code = try #require(parameters["code"])

            let tokenResponse = try await harness.redeem(client, code: code, pkce: pkce)
            #expect(tokenResponse.status == .ok)
            #expect(tokenResponse.headers[.cacheControl] == "no-store")
            let tokens = json(tokenResponse)
            let accessToken = try #require(tokens["access_token"] as? String)
            let idToken = try #require(tokens["id_token"] as? String)
            let refreshToken = try #require(tokens["refresh_token"] as? String)
            #expect(tokens["scope"] as? String == "openid profile email offline_access")

            // Signatures verify with the tenant's keys; claims are as OpenID Connect Core §2 and RFC 9068 say.
            let ring = try await harness.gatehouse.keyRings.keyRing(for: try TenantName("contoso"))
            let access = try await ring.verify(accessToken, as: AccessTokenClaims.self)
            let id = try await ring.verify(idToken, as: IDTokenClaims.self)
            let alice = try #require(try await harness.store.user(tenant: try TenantName("contoso"), username: try Username("alice")))
            #expect(access.sub == alice.id && access.clientID == "web" && access.grantID != nil && access.authTime != nil)
            #expect(id.sub == alice.id && id.aud == "web" && id.azp == "web" && id.nonce == "n-1" && id.iss == "\(Harness.baseURL)/contoso")
            #expect(id.atHash == IDTokenClaims.atHash(accessToken, algorithm: .es256))
            #expect(id.sid != nil && id.amr == ["pwd"] && id.acr == "1" && id.authTime == access.authTime)
            #expect(id.email == "alice@example.com" && id.name == "Alice Nguyen" && id.preferredUsername == "alice")

            // userinfo, GET and POST.
            let info = try await client.execute(
                uri: "/contoso/oidc/userinfo", method: .get, headers: [.authorization: "Bearer \(accessToken)"])
            #expect(info.status == .ok)
            #expect(json(info)["sub"] as? String == alice.id && json(info)["email"] as? String == "alice@example.com")
            let infoPost = try await client.execute(
                uri: "/contoso/oidc/userinfo", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "access_token=\(accessToken)"))
            #expect(json(infoPost)["preferred_username"] as? String == "alice")

            // Refresh: rotated; the ID token keeps auth_time and drops the nonce.
            time.now += 60
            let first = try await harness.refresh(client, refreshToken)
            #expect(first.status == .ok)
            let rotated = try #require(json(first)["refresh_token"] as? String)
            #expect(rotated != refreshToken)
            let refreshedID = claims(json(first)["id_token"] as? String ?? "")
            #expect(refreshedID["nonce"] == nil && refreshedID["auth_time"] as? Int == id.authTime)
            // Narrowing is allowed, widening is not.
            let narrow = try await harness.refresh(client, rotated, scope: "openid")
            #expect(narrow.status == .ok && json(narrow)["scope"] as? String == "openid")
            let newest = try #require(json(narrow)["refresh_token"] as? String)
            expectError(
                try await harness.refresh(client, newest, scope: "openid api.read"), status: 400, error: "invalid_scope", code: 9900124)

            // Introspection by the owner.
            let introspected = json(
                try await harness.token(
                    client, [("token", newest)], headers: [.authorization: basic("web", harness.secret("web"))],
                    path: "/contoso/oauth2/introspect"))
            #expect(
                introspected["active"] as? Bool == true && introspected["token_type"] as? String == "refresh_token"
                    && introspected["username"] as? String == "alice")

            // Reuse of a replaced token after the grace period revokes the whole grant.
            time.now += 60
            expectError(try await harness.refresh(client, refreshToken), status: 400, error: "invalid_grant", code: 9900154)
            expectError(try await harness.refresh(client, newest), status: 400, error: "invalid_grant", code: 50173)
            let afterRevoke = try await client.execute(
                uri: "/contoso/oidc/userinfo", method: .get, headers: [.authorization: "Bearer \(accessToken)"])
            #expect(afterRevoke.status == .unauthorized)
            #expect(afterRevoke.headers[.wwwAuthenticate]?.hasPrefix(#"Bearer realm="contoso", error="invalid_token""#) == true)
            let inactive = json(
                try await harness.token(
                    client, [("token", newest)], headers: [.authorization: basic("web", harness.secret("web"))],
                    path: "/contoso/oauth2/introspect"))
            #expect(inactive["active"] as? Bool == false && inactive.count == 1)
        }
    }

    @Test func secondRedemptionFailsAndRevokesWhatTheFirstIssued() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let pkce = PKCEPair()
            let reply = try await harness.signIn(Browser(client), uri: harness.authorizeURI(pkce: pkce))
            let code = try #require(redirectParameters(reply)["code"])
            let tokens = json(try await harness.redeem(client, code: code, pkce: pkce))
            let accessToken = try #require(tokens["access_token"] as? String)
            expectError(try await harness.redeem(client, code: code, pkce: pkce), status: 400, error: "invalid_grant", code: 54005)
            expectError(
                try await harness.refresh(client, tokens["refresh_token"] as? String ?? ""), status: 400, error: "invalid_grant",
                code: 50173)
            let info = try await client.execute(
                uri: "/contoso/oidc/userinfo", method: .get, headers: [.authorization: "Bearer \(accessToken)"])
            #expect(info.status == .unauthorized)
        }
    }

    @Test func codeRedemptionErrors() async throws {
        let time = ManualTime()
        let harness = try await Harness.make(time: time.source)
        try await harness.withClient { client in
            let browser = Browser(client)
            func code(_ pkce: PKCEPair?, redirect: String? = Harness.webRedirect, clientID: String = "web") async throws -> String {
                let reply = try await harness.signIn(browser, uri: harness.authorizeURI(client: clientID, redirect: redirect, pkce: pkce))
                return redirectParameters(reply)["code"] ?? ""
            }
            let pkce = PKCEPair()
            expectError(
                try await harness.redeem(client, code: try await code(pkce), pkce: PKCEPair()), status: 400, error: "invalid_grant",
                code: 50148)
            expectError(
                try await harness.redeem(client, code: try await code(pkce), pkce: nil), status: 400, error: "invalid_grant", code: 9900150)
            expectError(
                try await harness.redeem(client, code: try await code(nil), pkce: pkce), status: 400, error: "invalid_grant", code: 9900151)
            expectError(
                try await harness.redeem(client, code: try await code(pkce), pkce: pkce, redirect: "https://web.example.com/other"),
                status: 400, error: "invalid_grant", code: 9900153)
            expectError(
                try await harness.redeem(client, code: try await code(pkce), pkce: pkce, clientID: "web2"), status: 400,
                error: "invalid_grant", code: 9900152)
            expectError(
                try await harness.redeem(client, code: "no-such-code", pkce: pkce), status: 400, error: "invalid_grant", code: 70000)
            expectError(
                try await harness.redeem(client, code: try await code(pkce), pkce: PKCEPair(verifierOverride: "short")), status: 400,
                error: "invalid_request", code: 90100)
            let late = try await code(pkce)
            time.now += 121
            expectError(try await harness.redeem(client, code: late, pkce: pkce), status: 400, error: "invalid_grant", code: 70008)
            // The code parameter itself is required.
            expectError(
                try await harness.token(
                    client, [("grant_type", "authorization_code")], headers: [.authorization: basic("web", harness.secret("web"))]),
                status: 400, error: "invalid_request", code: 900144)
        }
    }

    @Test func refreshLifetimesAndDisabledUsers() async throws {
        let time = ManualTime()
        let harness = try await Harness.make(time: time.source)
        try await harness.withClient { client in
            let tokens = try await harness.tokens(client)
            let refresh = try #require(tokens["refresh_token"] as? String)
            time.now += 15 * 86400
            let expired = try await harness.refresh(client, refresh)
            expectError(expired, status: 400, error: "invalid_grant", code: 700082)
            #expect(json(expired)["suberror"] as? String == "bad_token")
            time.now = Date()
            // Absolute lifetime: used every 10 days, it still ends after 90.
            var current = try #require(try await harness.tokens(client)["refresh_token"] as? String)
            for _ in 0..<8 {
                time.now += 10 * 86400
                let next = try await harness.refresh(client, current)
                #expect(next.status == .ok)
                current = json(next)["refresh_token"] as? String ?? ""
            }
            time.now += 10 * 86400 + 1
            expectError(try await harness.refresh(client, current), status: 400, error: "invalid_grant", code: 700082)
            // A disabled user's grant stops working.
            time.now = Date()
            let fresh = try #require(try await harness.tokens(client)["refresh_token"] as? String)
            _ = try await harness.gatehouse.administration.setEnabled(tenant: try TenantName("contoso"), user: "alice", enabled: false)
            expectError(try await harness.refresh(client, fresh), status: 400, error: "invalid_grant", code: 50057)
            // Another client cannot use it.
            expectError(try await harness.refresh(client, fresh, clientID: "web2"), status: 400, error: "invalid_grant", code: 9900152)
        }
    }

    @Test func offlineAccessDecidesRefreshTokensForOpenIDRequests() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let withoutOffline = try await harness.tokens(client, scope: "openid profile")
            #expect(withoutOffline["refresh_token"] == nil && withoutOffline["id_token"] != nil)
            let plainOAuth = try await harness.tokens(client, scope: "api.read")
            #expect(plainOAuth["refresh_token"] != nil && plainOAuth["id_token"] == nil)
        }
    }

    @Test func publicNativeClientWithLoopbackPortAndPKCE() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let pkce = PKCEPair()
            let redirect = "http://127.0.0.1:53117/callback"
            let reply = try await harness.signIn(
                Browser(client), uri: harness.authorizeURI(client: "native", redirect: redirect, scope: "openid offline_access", pkce: pkce)
            )
            #expect(reply.headers[.location]?.hasPrefix(redirect + "?code=") == true)
            let tokens = try await harness.redeem(
                client, code: redirectParameters(reply)["code"] ?? "", pkce: pkce, clientID: "native", redirect: redirect)
            #expect(tokens.status == .ok && json(tokens)["refresh_token"] != nil)
            // Another port's URI is fine for loopback; another path is not.
            let page = try await client.execute(
                uri: harness.authorizeURI(client: "native", redirect: "http://127.0.0.1:1/other", pkce: pkce), method: .get)
            #expect(page.status == .badRequest && page.headers[.location] == nil && String(buffer: page.body).contains("50011"))
        }
    }
}

extension PKCEPair {
    init(verifierOverride: String) {
        self.init()
        self = PKCEPair(verifier: verifierOverride, challenge: challenge)
    }
    init(verifier: String, challenge: String) {
        self.verifier = verifier
        self.challenge = challenge
    }
}
