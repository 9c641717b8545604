import Foundation
import GatehouseCore
import GatehouseServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// Every authorization endpoint and sign-in page error, and where it is shown.
@Suite struct AuthorizationEndpointTests {
    /// An error sent back to the redirect URI: error, catalogue code, state and iss.
    func expectRedirectError(
        _ response: TestResponse, error: String, code: Int, to redirect: String = Harness.webRedirect,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(response.status == .seeOther, sourceLocation: sourceLocation)
        #expect(
            response.headers[.location]?.hasPrefix(redirect + "?") == true, "location \(response.headers[.location] ?? "-")",
            sourceLocation: sourceLocation)
        let parameters = redirectParameters(response)
        #expect(parameters["error"] == error, sourceLocation: sourceLocation)
        #expect(parameters["error_codes"] == "\(code)", sourceLocation: sourceLocation)
        #expect(parameters["state"] == "st-1" && parameters["iss"] == "\(Harness.baseURL)/contoso", sourceLocation: sourceLocation)
        #expect(parameters["error_description"]?.isEmpty == false && parameters["trace_id"] != nil, sourceLocation: sourceLocation)
        #expect(
            parameters["error_uri"] == "\(Harness.baseURL)/error?code=\(code)&trace_id=\(parameters["trace_id"] ?? "-")",
            sourceLocation: sourceLocation)
    }

    /// An error shown on Gatehouse's page, never redirected.
    func expectPageError(_ response: TestResponse, code: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(response.status.code == 400, sourceLocation: sourceLocation)
        #expect(response.headers[.location] == nil, sourceLocation: sourceLocation)
        #expect(response.headers[.contentType] == "text/html; charset=utf-8", sourceLocation: sourceLocation)
        #expect(String(buffer: response.body).contains(">\(code)<"), "page shows \(code)", sourceLocation: sourceLocation)
    }

    @Test func untrustedClientOrRedirectURIIsShownOnAPage() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            expectPageError(try await client.execute(uri: harness.authorizeURI(client: "nobody"), method: .get), code: 700016)
            expectPageError(
                try await client.execute(uri: harness.authorizeURI(redirect: "https://evil.example.com/cb"), method: .get), code: 50011)
            expectPageError(
                try await client.execute(uri: harness.authorizeURI(redirect: Harness.webRedirect + "/"), method: .get), code: 50011)
            // Two URIs registered: redirect_uri is required.
            expectPageError(try await client.execute(uri: harness.authorizeURI(redirect: nil), method: .get), code: 900144)
            expectPageError(
                try await client.execute(uri: "/contoso/oauth2/authorize?client_id=web&client_id=web2", method: .get), code: 9900101)
            expectPageError(try await client.execute(uri: "/nosuchtenant/oauth2/authorize?client_id=web", method: .get), code: 90002)
        }
    }

    @Test func requestErrorsGoBackToTheClient() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            func get(_ uri: String) async throws -> TestResponse { try await client.execute(uri: uri, method: .get) }
            expectRedirectError(
                try await get(
                    harness.authorizeURI(extra: [("response_type", "token")]).replacingOccurrences(of: "response_type=code&", with: "")),
                error: "unsupported_response_type", code: 9900140)
            expectRedirectError(try await get(harness.authorizeURI(scope: "openid admin")), error: "invalid_scope", code: 9900121)
            expectRedirectError(
                try await get(harness.authorizeURI(pkce: nil, extra: [("code_challenge", PKCEPair().challenge)])), error: "invalid_request",
                code: 9900142)
            expectRedirectError(
                try await get(
                    harness.authorizeURI(pkce: nil, extra: [("code_challenge", PKCEPair().challenge), ("code_challenge_method", "plain")])),
                error: "invalid_request", code: 9900142)
            expectRedirectError(
                try await get(
                    harness.authorizeURI(client: "native", redirect: "http://127.0.0.1:8000/callback", scope: "openid", pkce: nil)),
                error: "invalid_request", code: 9900141, to: "http://127.0.0.1:8000/callback")
            expectRedirectError(
                try await get(harness.authorizeURI(extra: [("prompt", "none login")])), error: "invalid_request", code: 90100)
            expectRedirectError(try await get(harness.authorizeURI(extra: [("max_age", "-1")])), error: "invalid_request", code: 90100)
            expectRedirectError(
                try await get(harness.authorizeURI(extra: [("response_mode", "web_message")])), error: "invalid_request", code: 90100)
            expectRedirectError(
                try await get(harness.authorizeURI(extra: [("resource", "https://unknown.example.com")])), error: "invalid_target",
                code: 500011)
            // A client without registered redirect URIs cannot use the endpoint at all.
            expectPageError(try await get(harness.authorizeURI(client: "svc", redirect: nil)), code: 900144)
        }
    }

    @Test func silentRequestsAndConsent() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let browser = Browser(client)
            expectRedirectError(
                try await browser.get(harness.authorizeURI(extra: [("prompt", "none")])), error: "login_required", code: 50058)
            // Deny: access_denied 65004.
            let page = try await browser.get(harness.authorizeURI())
            let consentPage = try await browser.post(
                "/contoso/oauth2/login",
                [
                    ("interaction", field("interaction", in: page) ?? ""), ("csrf", field("csrf", in: page) ?? ""), ("username", "alice"),
                    ("password", Harness.password),
                ])
            let denied = try await browser.post(
                "/contoso/oauth2/consent",
                [
                    ("interaction", field("interaction", in: consentPage) ?? ""), ("csrf", field("csrf", in: consentPage) ?? ""),
                    ("decision", "deny"),
                ])
            expectRedirectError(denied, error: "access_denied", code: 65004)
            // Signed in, no consent yet: prompt=none answers consent_required.
            expectRedirectError(
                try await browser.get(harness.authorizeURI(extra: [("prompt", "none")])), error: "consent_required", code: 65001)
            // Consent once; then the code comes without pages, also silently; prompt=consent asks again.
            let consentAgain = try await browser.get(harness.authorizeURI())
            let allowed = try await browser.post(
                "/contoso/oauth2/consent",
                [
                    ("interaction", field("interaction", in: consentAgain) ?? ""), ("csrf", field("csrf", in: consentAgain) ?? ""),
                    ("decision", "allow"),
                ])
            #expect(redirectParameters(allowed)["code"] != nil)
            #expect(redirectParameters(try await browser.get(harness.authorizeURI(extra: [("prompt", "none")])))["code"] != nil)
            #expect(redirectParameters(try await browser.get(harness.authorizeURI(scope: "openid email")))["code"] != nil)
            let forced = try await browser.get(harness.authorizeURI(extra: [("prompt", "consent")]))
            #expect(forced.status == .ok && String(buffer: forced.body).contains("oauth2/consent"))
            // prompt=login and max_age=0 show the sign-in page again.
            #expect(String(buffer: try await browser.get(harness.authorizeURI(extra: [("prompt", "login")])).body).contains("oauth2/login"))
            #expect(String(buffer: try await browser.get(harness.authorizeURI(extra: [("max_age", "0")])).body).contains("oauth2/login"))
            // A disabled user's session no longer counts.
            _ = try await harness.gatehouse.administration.setEnabled(tenant: try TenantName("contoso"), user: "alice", enabled: false)
            expectRedirectError(
                try await browser.get(harness.authorizeURI(extra: [("prompt", "none")])), error: "login_required", code: 50058)
            _ = try await harness.gatehouse.administration.setEnabled(tenant: try TenantName("contoso"), user: "alice", enabled: true)
            // A consent form can be posted once.
            let once = try await browser.post(
                "/contoso/oauth2/consent",
                [
                    ("interaction", field("interaction", in: consentAgain) ?? ""), ("csrf", field("csrf", in: consentAgain) ?? ""),
                    ("decision", "allow"),
                ])
            expectPageError(once, code: 9900143)
        }
    }

    @Test func responseModes() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let browser = Browser(client)
            _ = try await harness.signIn(browser, uri: harness.authorizeURI())
            let fragment = try await browser.get(harness.authorizeURI(extra: [("response_mode", "fragment")]))
            #expect(fragment.headers[.location]?.hasPrefix(Harness.webRedirect + "#code=") == true)
            let formPost = try await browser.get(harness.authorizeURI(extra: [("response_mode", "form_post")]))
            let html = String(buffer: formPost.body)
            #expect(
                formPost.status == .ok && html.contains(#"action="https://web.example.com/callback""#) && html.contains(#"name="code""#))
            #expect(html.contains(#"name="iss" value="https://login.test/contoso""#) && html.contains("<noscript>"))
            let csp = formPost.headers[.contentSecurityPolicy] ?? ""
            #expect(csp.contains("script-src 'nonce-") && csp.contains("form-action 'self' https://web.example.com"))
        }
    }

    @Test func signInPageErrorsRevealNoAccounts() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let browser = Browser(client)
            let page = try await browser.get(harness.authorizeURI())
            let interaction = try #require(field("interaction", in: page))
            let csrf = try #require(field("csrf", in: page))
            func login(_ user: String, _ password: String, csrf: String? = nil) async throws -> TestResponse {
                try await browser.post(
                    "/contoso/oauth2/login",
                    [
                        ("interaction", interaction), ("csrf", csrf ?? field("csrf", in: page) ?? ""), ("username", user),
                        ("password", password),
                    ])
            }
            // An unknown user looks like a wrong password on the page; the log knows better.
            let unknown = try await login("mallory", "whatever1")
            #expect(String(buffer: unknown.body).contains(">50126<") && !String(buffer: unknown.body).contains("50034"))
            await harness.gatehouse.signIns.flush()
            #expect(try await harness.store.signIns(SignInQuery(errorCode: 50034)).count == 1)
            // Disabled: only after the right password.
            #expect(String(buffer: try await login("carol", "wrong password").body).contains(">50126<"))
            #expect(String(buffer: try await login("carol", Harness.password).body).contains(">50057<"))
            // Lockout after five failures, for unknown usernames too.
            for _ in 0..<4 { _ = try await login("alice", "wrong password") }
            let locked = try await login("alice", "wrong password")
            #expect(String(buffer: locked.body).contains(">50053<"))
            #expect(String(buffer: try await login("alice", Harness.password).body).contains(">50053<"))
            for _ in 0..<4 { _ = try await login("nobody", "wrong password") }
            #expect(String(buffer: try await login("nobody", "wrong password").body).contains(">50053<"))
            // A forged form: CSRF token or binding cookie wrong.
            expectPageError(try await login("bob", Harness.password, csrf: "forged"), code: 9900144)
            let stranger = Browser(client)
            expectPageError(
                try await stranger.post(
                    "/contoso/oauth2/login",
                    [("interaction", interaction), ("csrf", csrf), ("username", "bob"), ("password", Harness.password)]), code: 9900144)
            expectPageError(
                try await browser.post("/contoso/oauth2/login", [("interaction", "expired-or-made-up"), ("csrf", csrf)]), code: 9900143)
        }
    }

    @Test func secondFactor() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let browser = Browser(client)
            let page = try await browser.get(harness.authorizeURI())
            let interaction = try #require(field("interaction", in: page))
            let csrf = try #require(field("csrf", in: page))
            let totpPage = try await browser.post(
                "/contoso/oauth2/login",
                [("interaction", interaction), ("csrf", csrf), ("username", "bob"), ("password", Harness.password)])
            #expect(String(buffer: totpPage.body).contains(#"autocomplete="one-time-code""#))
            #expect(totpPage.headers[values: .setCookie].allSatisfy { !$0.hasPrefix("gatehouse_session=") })
            let wrong = try await browser.post(
                "/contoso/oauth2/login/totp", [("interaction", interaction), ("csrf", csrf), ("otp", "000000")])
            #expect(String(buffer: wrong.body).contains(">9900145<"))
            let code = HummingbirdTOTP().code(secret: harness.totpSecret, at: Date())
            let consent = try await browser.post(
                "/contoso/oauth2/login/totp", [("interaction", interaction), ("csrf", csrf), ("otp", code)])
            let reply = try await browser.post(
                "/contoso/oauth2/consent",
                [
                    ("interaction", field("interaction", in: consent) ?? ""), ("csrf", field("csrf", in: consent) ?? ""),
                    ("decision", "allow"),
                ])
            #expect(redirectParameters(reply)["code"] != nil)
        }
    }

    @Test func vietnamesePages() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let page = try await client.execute(uri: harness.authorizeURI(extra: [("ui_locales", "vi")]), method: .get)
            let html = String(buffer: page.body)
            #expect(html.contains(#"lang="vi""#) && html.contains("Mật khẩu") && html.contains("Đăng nhập"))
        }
    }
}
