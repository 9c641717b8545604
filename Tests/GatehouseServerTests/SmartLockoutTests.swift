import Foundation
import GatehouseCore
import GatehouseServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// Smart lockout through the sign-in pages: a stranger's burst locks strangers out, not the
/// browser the user signed in with before; an unknown username cannot be locked into existence.
@Suite struct SmartLockoutTests {
    /// Posts a password on a fresh sign-in page; "ok" when it signed in, else the code shown.
    static func attempt(_ harness: Harness, _ browser: Browser, user: String = "alice", password: String) async throws -> String {
        browser.cookies.withLock { $0["gatehouse_session"] = nil }
        let page = try await browser.get(harness.authorizeURI(extra: [("prompt", "login")]))
        guard let interaction = field("interaction", in: page), let csrf = field("csrf", in: page) else { return "no page" }
        let response = try await browser.post(
            "/contoso/oauth2/login", [("interaction", interaction), ("csrf", csrf), ("username", user), ("password", password)])
        let html = String(buffer: response.body)
        if response.status == .found || html.contains("oauth2/consent") { return "ok" }
        for code in ["50053", "50126"] where html.contains(">\(code)<") { return code }
        return "other \(response.status.code)"
    }

    @Test func aStrangersBurstDoesNotLockOutTheUsersOwnBrowser() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let own = Browser(client)
            #expect(try await Self.attempt(harness, own, password: Harness.password) == "ok")
            #expect(own.cookies.withLock { $0["gatehouse_device"] } != nil, "a sign-in makes the browser familiar")

            // A stranger's parallel burst: five checks, then the account is locked for strangers.
            let stranger = Browser(client)
            let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<20 { group.addTask { try await Self.attempt(harness, Browser(client), password: "wrong \(index)") } }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == "50126" }.count == 4 && outcomes.filter { $0 == "50053" }.count == 16, "\(outcomes.sorted())")
            #expect(try await Self.attempt(harness, stranger, password: Harness.password) == "50053")

            // The user's own browser still signs in.
            #expect(try await Self.attempt(harness, own, password: Harness.password) == "ok")
            // ...and is limited by the same threshold for its own failures.
            var own5: [String] = []
            for index in 0..<5 { own5.append(try await Self.attempt(harness, own, password: "mine wrong \(index)")) }
            #expect(own5 == ["50126", "50126", "50126", "50126", "50053"])
            #expect(try await Self.attempt(harness, own, password: Harness.password) == "50053")
        }
    }

    @Test func aForgedOrBorrowedDeviceCookieIsAStrangers() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            _ = try await harness.gatehouse.administration.createUser(
                tenant: TenantName("contoso"), username: "dave", email: nil, displayName: nil, password: Harness.password,
                passwords: harness.gatehouse.passwordHasher)
            let daves = Browser(client)
            #expect(try await Self.attempt(harness, daves, user: "dave", password: Harness.password) == "ok")
            let daveDevice = try #require(daves.cookies.withLock { $0["gatehouse_device"] })
            let aliceID = try #require(try await harness.store.user(tenant: TenantName("contoso"), username: Username("alice"))?.id)
            let parts = daveDevice.split(separator: ".").map(String.init)
            for index in 0..<5 { _ = try await Self.attempt(harness, Browser(client), password: "wrong \(index)") }
            // Dave's device cookie with Alice's ID swapped in, and Dave's cookie as it is: both strangers to Alice.
            for value in ["\(parts[0]).\(aliceID).\(parts[2]).\(parts[3])", daveDevice] {
                let browser = Browser(client)
                browser.cookies.withLock { $0["gatehouse_device"] = value }
                #expect(try await Self.attempt(harness, browser, password: Harness.password) == "50053")
            }
        }
    }

    @Test func anUnknownUsernameCannotBeLockedIntoExistence() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let browser = Browser(client)
            var outcomes: [String] = []
            for index in 0..<6 { outcomes.append(try await Self.attempt(harness, browser, user: "newbie", password: "guess \(index)")) }
            // Looks the same as a real account being locked (no enumeration)...
            #expect(outcomes == ["50126", "50126", "50126", "50126", "50053", "50053"])
            // ...but the user made later under that name is not locked.
            _ = try await harness.gatehouse.administration.createUser(
                tenant: TenantName("contoso"), username: "newbie", email: nil, displayName: nil, password: Harness.password,
                passwords: harness.gatehouse.passwordHasher)
            #expect(try await Self.attempt(harness, Browser(client), user: "newbie", password: Harness.password) == "ok")
        }
    }
}
