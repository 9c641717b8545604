import Foundation
import GatehouseCore
import GatehouseServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// The account page through the in-process server: its sign-in is the server's own code flow as
/// the built-in account client; forged and stale posts are refused; sensitive actions need a fresh
/// sign-in; enrolment codes and recovery codes hold against bursts.
@Suite struct AccountPageTests {
    static func path(_ location: String?) -> String { ConsoleTests.path(location) }

    /// Signs in to contoso's account page as `user` (without a second factor); returns the page.
    static func signIn(_ browser: Browser, user: String = "alice", start: String = "/contoso/account") async throws -> TestResponse {
        var next = start
        for _ in 0..<4 where !next.contains("/oauth2/authorize") {
            let response = try await browser.get(next)
            #expect(response.status == .seeOther, "\(next)")
            next = path(response.headers[.location])
        }
        #expect(next.contains("client_id=gatehouse-account") && next.contains("code_challenge_method=S256"), "\(next)")
        let page = try await browser.get(next)
        let interaction = try #require(field("interaction", in: page), "\(String(buffer: page.body))")
        let posted = try await browser.post(
            "/contoso/oauth2/login",
            [("interaction", interaction), ("csrf", field("csrf", in: page) ?? ""), ("username", user), ("password", Harness.password)])
        let callback = path(posted.headers[.location])
        #expect(callback.hasPrefix("/contoso/account/callback?"), "no consent page for the first-party account page: \(callback)")
        let back = try await browser.get(callback)
        #expect(back.status == .seeOther, "\(String(buffer: back.body))")
        return try await browser.get(path(back.headers[.location]))
    }

    @Test func theAccountPageSignsInThroughTheCodeFlowAndRefusesForgedPosts() async throws {
        let time = ManualTime()
        let harness = try await Harness.make(time: time.source)
        try await harness.withClient { client in
            let browser = Browser(client)
            let page = try await Self.signIn(browser)
            let html = String(buffer: page.body)
            #expect(page.status == .ok && html.contains("id=\"change-password\"") && html.contains("Alice"), "\(html.prefix(300))")
            #expect(page.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
            #expect(page.headers[.cacheControl] == "no-store")
            // The page's cookie is its own: scoped to the tenant's account page.
            let before = try await harness.store.user(tenant: try TenantName("contoso"), username: try Username("alice"))
            // A post without the session's CSRF token (a cross-site form) changes nothing.
            let forged = try await browser.post(
                "/contoso/account/password",
                [("current", Harness.password), ("password", "forged password!"), ("confirm", "forged password!")])
            #expect(forged.status == .badRequest && String(buffer: forged.body).contains("9900144"), "\(String(buffer: forged.body))")
            let after = try await harness.store.user(tenant: try TenantName("contoso"), username: try Username("alice"))
            #expect(before?.passwordHash == after?.passwordHash)
            // Another browser, not signed in: sent to the sign-in, nothing done.
            let stranger = Browser(client)
            let anonymous = try await stranger.post("/contoso/account/sessions/end", [("sid", "all")])
            #expect(anonymous.status == .seeOther && Self.path(anonymous.headers[.location]) == "/contoso/account/login")
            // `return` never leaves the account page.
            let login = try await stranger.get("/contoso/account/login?return=https://evil.example/x")
            #expect(login.status == .seeOther)
        }
    }

    @Test func aWrongFirstCodeBurstGetsFiveChecksAndSensitiveActionsNeedAFreshSignIn() async throws {
        let time = ManualTime()
        let harness = try await Harness.make(time: time.source)
        try await harness.withClient { client in
            let browser = Browser(client)
            let home = try await Self.signIn(browser)
            let csrf = field("csrf", in: home) ?? ""
            let enrol = try await browser.get("/contoso/account/totp")
            let enrolHTML = String(buffer: enrol.body)
            #expect(enrol.status == .ok && enrolHTML.contains("<svg") && enrolHTML.contains("id=\"setup-key\""))
            // Twelve wrong codes at once: at most five are checked, the rest refused unchecked.
            let answers = try await withThrowingTaskGroup(of: (HTTPResponse.Status, String).self) { group in
                for _ in 0..<12 {
                    group.addTask {
                        let response = try await browser.post("/contoso/account/totp", [("csrf", csrf), ("otp", "12345")])
                        return (response.status, String(buffer: response.body))
                    }
                }
                return try await group.reduce(into: [(HTTPResponse.Status, String)]()) { $0.append($1) }
            }
            let checked = answers.filter { $0.1.contains("9900145") }.count
            #expect(checked >= 1 && checked <= Administration.enrolmentAttempts)
            // The rest: refused unchecked (9900146), or, once the spent secret was dropped, sent to a new one.
            #expect(answers.allSatisfy { $0.1.contains("9900145") || $0.1.contains("9900146") || $0.0 == .seeOther })
            let next = try await browser.post("/contoso/account/totp", [("csrf", csrf), ("otp", "12345")])
            #expect(next.status == .seeOther || String(buffer: next.body).contains("9900146"))
            let alice = try #require(try await harness.store.user(tenant: try TenantName("contoso"), username: try Username("alice")))
            #expect(alice.sealedTOTPSecret == nil)

            // A second factor (made by an operator), then a sign-in older than five minutes: the
            // removal asks for a fresh sign-in and removes nothing.
            _ = try await harness.gatehouse.administration.enrollTOTP(
                tenant: try TenantName("contoso"), user: "alice", box: harness.gatehouse.secretBox)
            time.now = time.now.addingTimeInterval(6 * 60)
            let confirm = try await browser.get("/contoso/account/security/remove")
            #expect(confirm.status == .seeOther && Self.path(confirm.headers[.location]).hasPrefix("/contoso/account/login?reauth=1"))
            let removed = try await browser.post("/contoso/account/security/remove", [("csrf", csrf)])
            #expect(removed.status == .seeOther && Self.path(removed.headers[.location]).hasPrefix("/contoso/account/login?reauth=1"))
            let codes = try await browser.post("/contoso/account/security/codes", [("csrf", csrf)])
            #expect(codes.status == .seeOther && !String(buffer: codes.body).contains("recovery-codes"))
            let still = try await harness.store.user(tenant: try TenantName("contoso"), username: try Username("alice"))
            #expect(still?.sealedTOTPSecret != nil)
        }
    }

    @Test func aRecoveryCodeBurstSignsInOnceAndTheCodeIsNotUsableTwice() async throws {
        let harness = try await Harness.make()
        let admin = harness.gatehouse.administration
        let tenant = try #require(try await harness.store.tenant(named: try TenantName("contoso")))
        let bob = try #require(try await harness.store.user(tenant: tenant.name, username: try Username("bob")))
        let codes = try await admin.renewRecoveryCodes(tenant: tenant, user: bob)
        #expect(codes.count == 10 && Set(codes).count == 10)
        let signIn = harness.gatehouse.passwords
        let box = harness.gatehouse.secretBox
        let results = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<4 {
                group.addTask {
                    (try? await signIn.verifyTOTP(
                        index.isMultiple(of: 2) ? codes[0] : codes[0].lowercased().replacingOccurrences(of: "-", with: " "), user: bob,
                        interaction: nil, box: box, generator: HummingbirdTOTP(), replay: harness.store)) != nil
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.filter { $0 }.count == 1)
        #expect(try await harness.store.recoveryCodesLeft(tenant: tenant.name, userID: bob.id) == 9)
        // Another of the codes still works; a made-up one does not.
        let used = try await signIn.verifyTOTP(
            codes[1], user: bob, interaction: nil, box: box, generator: HummingbirdTOTP(), replay: harness.store)
        #expect(used == .recoveryCode(left: 8))
        await #expect(throws: CatalogueError.self) {
            try await signIn.verifyTOTP(
                "AAAAA-AAAAA", user: bob, interaction: nil, box: box, generator: HummingbirdTOTP(), replay: harness.store)
        }
        // Removing the second factor voids them.
        _ = try await admin.removeTOTP(tenant: tenant.name, user: "bob")
        #expect(try await harness.store.recoveryCodesLeft(tenant: tenant.name, userID: bob.id) == 0)
    }
}
