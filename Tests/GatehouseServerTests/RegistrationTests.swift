import Foundation
import GatehouseCore
import GatehouseServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// Self-registration through the in-process server: closed by default; a domain restriction; one
/// answer whether the address is new or taken; a burst with one address makes one user; the
/// source's budget; no sign-in before the address is verified.
@Suite struct RegistrationTests {
    let contoso = try! TenantName("contoso")

    func form(_ email: String, name: String = "Eve Example", password: String = "a fine password") -> [(String, String)] {
        [("email", email), ("display_name", name), ("password", password), ("confirm", password)]
    }

    @Test func registrationIsClosedByDefaultAndNeedsAnAllowedDomain() async throws {
        let harness = try await Harness.make(mailTransport: RecordingTransport())
        try await harness.withClient { client in
            let browser = Browser(client)
            let closed = try await browser.get("/contoso/register")
            #expect(closed.status == .notFound && String(buffer: closed.body).contains("9900191"))
            let posted = try await browser.post("/contoso/register", form("eve@example.com"))
            #expect(posted.status == .notFound)
            #expect(try await harness.store.user(tenant: contoso, signInName: "eve@example.com") == nil)

            _ = try await harness.gatehouse.administration.updateTenantProfile(
                tenant: contoso, registration: .open, domains: ["Example.com"])
            harness.gatehouse.tenants.invalidateAll()
            let elsewhere = try await browser.post("/contoso/register", form("eve@elsewhere.example"))
            #expect(elsewhere.status == .badRequest && String(buffer: elsewhere.body).contains("9900193"))
            // A subdomain is another domain.
            let sub = try await browser.post("/contoso/register", form("eve@mail.example.com"))
            #expect(String(buffer: sub.body).contains("9900193"))
            let registered = try await browser.post("/contoso/register", form("eve@example.com"))
            #expect(registered.status == .ok && String(buffer: registered.body).contains("eve@example.com"))
            let eve = try #require(try await harness.store.user(tenant: contoso, signInName: "eve@example.com"))
            #expect(eve.selfRegistered && !eve.emailVerified && eve.awaitsVerification)
            // The right password does not sign in before the address is verified.
            await #expect(throws: CatalogueError.self) {
                _ = try await harness.gatehouse.passwords.verify(tenant: contoso, username: "eve@example.com", password: "a fine password")
            }
            do {
                _ = try await harness.gatehouse.passwords.verify(tenant: contoso, username: "eve@example.com", password: "a fine password")
            } catch let error as CatalogueError {
                #expect(error.entry == Catalogue.emailNotVerified)
            }
        }
    }

    @Test func aTakenAddressGetsTheSameAnswerAndABurstMakesOneUser() async throws {
        let transport = RecordingTransport()
        let harness = try await Harness.make(mailTransport: transport)
        _ = try await harness.gatehouse.administration.updateTenantProfile(tenant: contoso, registration: .open)
        harness.gatehouse.tenants.invalidateAll()
        try await harness.withClient { client in
            let answers = try await withThrowingTaskGroup(of: (HTTPResponse.Status, String).self) { group in
                for index in 0..<6 {
                    group.addTask {
                        let response = try await Browser(client).post(
                            "/contoso/register", form("burst@example.com", name: "Burst \(index)"))
                        return (response.status, String(buffer: response.body))
                    }
                }
                return try await group.reduce(into: [(HTTPResponse.Status, String)]()) { $0.append($1) }
            }
            // Every answer is "check your mail"; one user exists.
            #expect(
                answers.allSatisfy { $0.0 == .ok && $0.1.contains("burst@example.com") },
                "\(answers.map { "\($0.0) \($0.0 == .ok ? "" : String($0.1.prefix(700)))" })")
            let users = try await harness.store.users(tenant: contoso).filter { $0.email == "burst@example.com" }
            #expect(users.count == 1)
        }
    }

    @Test func everyAttemptCountsAgainstTheSourcesBudget() async throws {
        let harness = try await Harness.make(mailTransport: RecordingTransport()) {
            $0.throttling.registration = FailureThrottle.Limit(failures: 10, window: 3600)
        }
        _ = try await harness.gatehouse.administration.updateTenantProfile(tenant: contoso, registration: .open, domains: ["example.com"])
        harness.gatehouse.tenants.invalidateAll()
        try await harness.withClient { client in
            let browser = Browser(client)
            for index in 0..<10 {
                let refused = try await browser.post("/contoso/register", form("user\(index)@elsewhere.example"))
                #expect(refused.status == .badRequest)
            }
            let limited = try await browser.post("/contoso/register", form("fine@example.com"))
            #expect(limited.status == .tooManyRequests && String(buffer: limited.body).contains("9900433"))
            #expect(limited.headers[.retryAfter] != nil)
        }
    }

    /// Someone registers another person's address first: the owner's own registration replaces
    /// it, and a link opens the account only with the password typed on its page.
    @Test func registeringSomeoneElsesAddressFirstTakesNothingFromThem() async throws {
        let transport = RecordingTransport()
        let time = ManualTime()
        let harness = try await Harness.make(time: time.source, mailTransport: transport)
        _ = try await harness.gatehouse.administration.updateTenantProfile(tenant: contoso, registration: .open)
        let sender = OutboxSender(
            store: harness.store, transport: transport, box: harness.gatehouse.secretBox, time: time.source, node: "node-a")
        try await harness.withClient { client in
            let attacker = Browser(client)
            #expect(
                try await attacker.post("/contoso/register", form("victim@example.com", name: "Evil", password: "attacker password")).status
                    == .ok)
            let victim = Browser(client)
            #expect(
                try await victim.post("/contoso/register", form("victim@example.com", name: "Vic", password: "victim password")).status
                    == .ok)
            _ = await sender.pass()
            let links = transport.mails.filter { $0.to == "victim@example.com" }.compactMap(link(in:))
            #expect(links.count == 2, "\(transport.mails.map(\.subject))")
            let users = try await harness.store.users(tenant: contoso).filter { $0.email == "victim@example.com" }
            #expect(users.count == 1 && users.first?.displayName == "Vic")
            // Either link with the attacker's password: refused, nothing verified.
            for path in links {
                let page = try await victim.get(path)
                #expect(String(buffer: page.body).contains("id=\"password\""))
                let token = String(path.split(separator: "=").last ?? "")
                let refused = try await victim.post("/contoso/email/verify", [("token", token), ("password", "attacker password")])
                #expect(refused.status == .badRequest && String(buffer: refused.body).contains("50126"), "\(String(buffer: refused.body))")
            }
            #expect(try await harness.store.user(tenant: contoso, signInName: "victim@example.com")?.emailVerified == false)
            let token = String(links.last?.split(separator: "=").last ?? "")
            let verified = try await victim.post("/contoso/email/verify", [("token", token), ("password", "victim password")])
            #expect(verified.status == .ok, "\(String(buffer: verified.body))")
            let account = try await harness.gatehouse.passwords.verify(
                tenant: contoso, username: "victim@example.com", password: "victim password")
            #expect(account.emailVerified && !account.awaitsVerification)
        }
    }
}
