import Foundation
import GatehouseCore
import GatehouseServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

/// A transport that keeps what it is given, or fails as told.
final class RecordingTransport: MailTransport {
    let sent = Mutex<[(mail: MailMessage, id: String)]>([])
    let failure = Mutex<MailDeliveryError?>(nil)

    func send(_ mail: MailMessage, id: String) async throws {
        if let failure = failure.withLock({ $0 }) { throw failure }
        sent.withLock { $0.append((mail, id)) }
    }

    var mails: [MailMessage] { sent.withLock { $0.map(\.mail) } }
}

/// The link's path and query in a mail's text (the harness's base URL taken off).
func link(in mail: MailMessage) -> String? {
    guard let start = mail.text.range(of: Harness.baseURL) else { return nil }
    let rest = mail.text[start.upperBound...]
    return String(rest.prefix { !$0.isWhitespace })
}

@Suite struct AccountMailTests {
    let contoso = try! TenantName("contoso")

    func harness(
        time: ManualTime = ManualTime(), transport: RecordingTransport? = RecordingTransport(),
        configure: @escaping (inout ServerConfiguration) -> Void = { _ in }
    ) async throws -> (Harness, OutboxSender) {
        let harness = try await Harness.make(time: time.source, mailTransport: transport, configure: configure)
        // Alice proved her address; Dana has one she never verified; Bob has none.
        _ = try await harness.gatehouse.administration.updateUser(tenant: contoso, user: "alice", emailVerified: true)
        _ = try await harness.gatehouse.administration.createUser(
            tenant: contoso, username: "dana", email: "dana@example.com", displayName: "Dana", password: Harness.password,
            passwords: harness.gatehouse.passwordHasher)
        let sender = OutboxSender(
            store: harness.store, transport: transport ?? RecordingTransport(), box: harness.gatehouse.secretBox, time: time.source,
            node: "node-a")
        return (harness, sender)
    }

    @Test func aResetLinkWorksOnceEndsSessionsAndMailsANotice() async throws {
        let transport = RecordingTransport()
        let (harness, sender) = try await harness(transport: transport)
        try await harness.withClient { client in
            let before = try await harness.tokens(client)
            let refreshToken = try #require(before["refresh_token"] as? String)
            let browser = Browser(client)
            let form = try await browser.get("/contoso/password/forgot")
            #expect(form.status == .ok)
            let asked = try await browser.post("/contoso/password/forgot", [("username", "alice")])
            #expect(asked.status == .ok)
            #expect(String(buffer: asked.body).contains("a mail is on its way"))
            #expect(try await sender.pass() == OutboxSender.Pass(sent: 1))
            let mail = try #require(transport.mails.first)
            #expect(mail.to == "alice@example.com")
            #expect(mail.subject == "Reset your password for contoso")
            #expect(mail.html.contains("<a href=\"https://login.test/contoso/password/reset?token="))
            let path = try #require(link(in: mail))
            #expect(path.hasPrefix("/contoso/password/reset?token="))
            let token = String(path.dropFirst("/contoso/password/reset?token=".count))

            // The link's page shows a form and uses nothing up.
            for _ in 0..<2 {
                let page = try await browser.get(path)
                #expect(page.status == .ok)
                #expect(field("token", in: page) == token)
            }
            // A refused password leaves the link usable.
            let differ = try await browser.post(
                "/contoso/password/reset", [("token", token), ("password", "new password 1"), ("confirm", "new password 2")])
            #expect(differ.status == .badRequest)
            #expect(String(buffer: differ.body).contains("9900186"))
            let short = try await browser.post("/contoso/password/reset", [("token", token), ("password", "short"), ("confirm", "short")])
            #expect(short.status == .badRequest)
            #expect(String(buffer: short.body).contains("9900185"))
            #expect(String(buffer: short.body).contains("This password cannot be used: it needs at least 8 characters."))
            let shortVi = try await browser.post(
                "/contoso/password/reset", [("token", token), ("password", "short"), ("confirm", "short"), ("ui_locales", "vi")])
            #expect(String(buffer: shortVi.body).contains("mật khẩu cần ít nhất 8 ký tự"))

            let done = try await browser.post(
                "/contoso/password/reset", [("token", token), ("password", "a brand new password"), ("confirm", "a brand new password")])
            #expect(done.status == .ok)
            #expect(String(buffer: done.body).contains("Password changed"))
            // Used once: the page and the form both refuse it now.
            let again = try await browser.post(
                "/contoso/password/reset", [("token", token), ("password", "another new password"), ("confirm", "another new password")])
            #expect(again.status == .badRequest)
            #expect(String(buffer: again.body).contains("9900183"))
            #expect(try await browser.get(path).status == .badRequest)

            // The user's grants are revoked; the old password fails, the new one works.
            let refreshed = try await harness.refresh(client, refreshToken)
            #expect(json(refreshed)["error"] as? String == "invalid_grant")
            let old = try await harness.signIn(Browser(client), uri: harness.authorizeURI())
            #expect(old.status == .badRequest)
            let new = try await harness.signIn(Browser(client), uri: harness.authorizeURI(), password: "a brand new password")
            #expect(new.status == .seeOther)
            #expect(redirectParameters(new)["code"] != nil)

            // The notice follows.
            #expect(try await sender.pass() == OutboxSender.Pass(sent: 1))
            #expect(transport.mails.last?.subject == "Your password for contoso was changed")
            #expect(transport.mails.last?.to == "alice@example.com")
            let audit = try await harness.store.auditEntries(AuditQuery(tenant: contoso, action: "user.password.reset_by_mail", limit: 5))
            #expect(audit.count == 1)
        }
    }

    /// One answer for everyone; both paths write an outbox row; only a verified address gets mail.
    @Test func theAnswerDoesNotTellWhetherAnAccountExists() async throws {
        let transport = RecordingTransport()
        let (harness, sender) = try await harness(transport: transport)
        try await harness.withClient { client in
            var answers: [(status: HTTPResponse.Status, body: String, headers: [String])] = []
            for (index, name) in ["alice", "nobody", "bob", "dana", "carol"].enumerated() {
                let response = try await Browser(client).post("/contoso/password/forgot", [("username", name)])
                answers.append(
                    (response.status, String(buffer: response.body), response.headers.map(\.name.canonicalName).sorted()))
                #expect(try await harness.store.outboxDepth().pending == index + 1)
            }
            for answer in answers.dropFirst() {
                #expect(answer.status == answers[0].status)
                #expect(answer.body == answers[0].body)
                #expect(answer.headers == answers[0].headers)
            }
            #expect(try await sender.pass() == OutboxSender.Pass(sent: 1, discarded: 4))
            #expect(transport.mails.map(\.to) == ["alice@example.com"])
            #expect(try await harness.store.outboxDepth().pending == 0)
            // The operator's note says which case each was.
            await harness.gatehouse.signIns.flush()
            let events = try await harness.store.signIns(SignInQuery(tenant: "contoso", limit: 20))
            let notes = Set(events.filter { $0.grantType == "password_reset_request" }.compactMap(\.detail))
            #expect(
                notes
                    == Set([
                        "reset link mailed", "no such account: nothing mailed", "account has no email address: nothing mailed",
                        "account's email address is not verified: nothing mailed", "account is disabled: nothing mailed",
                    ]))
        }
    }

    @Test func requestsAreLimitedPerAccountQuietlyAndPerSourceLoudly() async throws {
        let transport = RecordingTransport()
        let (harness, sender) = try await harness(transport: transport) { configuration in
            configuration.throttling.passwordReset = .init(failures: 6, window: 900)
            configuration.throttling.passwordResetAccount = .init(failures: 3, window: 900)
        }
        try await harness.withClient { client in
            // A parallel burst of five for one account: three mails, five identical answers.
            let bodies = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<5 {
                    group.addTask {
                        String(buffer: try await Browser(client).post("/contoso/password/forgot", [("username", "alice")]).body)
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(Set(bodies).count == 1)
            _ = try await sender.pass()
            #expect(transport.mails.count == 3)
            // The sixth request from this address is the last one it gets.
            #expect(try await Browser(client).post("/contoso/password/forgot", [("username", "nobody")]).status == .ok)
            let refused = try await Browser(client).post("/contoso/password/forgot", [("username", "alice")])
            #expect(refused.status == .tooManyRequests)
            #expect(String(buffer: refused.body).contains("9900432"))
            #expect(refused.headers[.retryAfter] != nil)
        }
    }

    @Test func twoUsesAtOnceOfOneLinkSucceedOnce() async throws {
        let transport = RecordingTransport()
        let (harness, sender) = try await harness(transport: transport)
        try await harness.withClient { client in
            _ = try await Browser(client).post("/contoso/password/forgot", [("username", "alice")])
            _ = try await sender.pass()
            let path = try #require(transport.mails.first.flatMap(link(in:)))
            let token = String(path.dropFirst("/contoso/password/reset?token=".count))
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for index in 0..<6 {
                    group.addTask {
                        try await Browser(client).post(
                            "/contoso/password/reset",
                            [("token", token), ("password", "password number \(index)"), ("confirm", "password number \(index)")]
                        ).status
                    }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .ok }.count == 1)
            #expect(statuses.filter { $0 == .badRequest }.count == 5)
        }
    }

    /// A second link voids nothing, but a password set after a link was mailed voids the link.
    @Test func aLinkMailedBeforeThePasswordChangedIsVoid() async throws {
        let transport = RecordingTransport()
        let time = ManualTime()
        let (harness, sender) = try await harness(time: time, transport: transport)
        try await harness.withClient { client in
            _ = try await Browser(client).post("/contoso/password/forgot", [("username", "alice")])
            _ = try await sender.pass()
            time.now += 1
            _ = try await harness.gatehouse.administration.setPassword(
                tenant: contoso, user: "alice", password: "set by an operator", passwords: harness.gatehouse.passwordHasher)
            let path = try #require(transport.mails.first.flatMap(link(in:)))
            #expect(try await Browser(client).get(path).status == .badRequest)
            // Expired: a fresh link 16 minutes later.
            _ = try await Browser(client).post("/contoso/password/forgot", [("username", "alice")])
            time.now += 2
            _ = try await sender.pass()
            let fresh = try #require(transport.mails.last.flatMap(link(in:)))
            #expect(try await Browser(client).get(fresh).status == .ok)
            time.now += 16 * 60
            #expect(try await Browser(client).get(fresh).status == .badRequest)
        }
    }

    @Test func withoutMailThereIsNoResetAndNoLink() async throws {
        let harness = try await Harness.make()
        try await harness.withClient { client in
            let page = try await Browser(client).get("/contoso/password/forgot")
            #expect(page.status == .notFound)
            #expect(String(buffer: page.body).contains("9900184"))
            let login = try await Browser(client).get(harness.authorizeURI())
            #expect(!String(buffer: login.body).contains("password/forgot"))
        }
        let (withMail, _) = try await self.harness()
        try await withMail.withClient { client in
            let login = try await Browser(client).get(withMail.authorizeURI())
            #expect(String(buffer: login.body).contains("https://login.test/contoso/password/forgot"))
        }
    }

    @Test func aVerificationLinkSetsTheFlagAndAnAddressChangeClearsIt() async throws {
        let transport = RecordingTransport()
        let (harness, sender) = try await harness(transport: transport)
        let admin = harness.gatehouse.administration
        _ = try await admin.updateTenant(tenant: contoso, verifyEmail: true)
        _ = try await admin.createUser(
            tenant: contoso, username: "erin", email: "erin@example.com", displayName: "Erin", password: Harness.password,
            passwords: harness.gatehouse.passwordHasher)
        _ = try await sender.pass()
        let mail = try #require(transport.mails.last)
        #expect(mail.to == "erin@example.com" && mail.subject == "Verify your email address for contoso")
        let path = try #require(link(in: mail))
        try await harness.withClient { client in
            let page = try await Browser(client).get(path)
            #expect(page.status == .ok)
            #expect(try await admin.findUser(tenant: contoso, "erin").emailVerified == false)
            let token = try #require(field("token", in: page))
            let done = try await Browser(client).post("/contoso/email/verify", [("token", token)])
            #expect(done.status == .ok)
            #expect(try await admin.findUser(tenant: contoso, "erin").emailVerified)
            #expect(try await Browser(client).post("/contoso/email/verify", [("token", token)]).status == .badRequest)

            // The ID token follows the flag.
            let tokens = try await harness.tokens(client)
            #expect(claims(tokens["id_token"] as? String ?? "")["email_verified"] as? Bool == true)

            // A new address is unverified, and mailed; a link for the old address verifies nothing.
            _ = try await admin.updateTenant(tenant: contoso, verifyEmail: false)
            _ = try await admin.updateUser(tenant: contoso, user: "erin", email: "erin@new.example.com")
            #expect(try await admin.findUser(tenant: contoso, "erin").emailVerified == false)
            _ = try await sender.pass()
            #expect(transport.mails.last?.to == "erin@new.example.com")
            _ = try await admin.updateUser(tenant: contoso, user: "erin", email: "erin@example.com")
            _ = try await sender.pass()
            let stale = try #require(transport.mails.dropLast().last.flatMap(link(in:)))
            #expect(try await Browser(client).get(stale).status == .badRequest)
            // Alice's address was verified by an operator: changing only the display name keeps it.
            _ = try await admin.updateUser(tenant: contoso, user: "alice", displayName: "Alice N.")
            #expect(try await admin.findUser(tenant: contoso, "alice").emailVerified)
        }
    }

    /// A mail server that is down loses nothing: the row waits with the reason and is sent later;
    /// a permanent refusal gives up at once.
    @Test func failedDeliveriesAreRetriedWithBackoffAndGivenUpWhenPermanent() async throws {
        let transport = RecordingTransport()
        let time = ManualTime()
        let (harness, sender) = try await harness(time: time, transport: transport)
        try await harness.withClient { client in
            transport.failure.withLock { $0 = MailDeliveryError("cannot connect to the SMTP server smtp://localhost:2525") }
            _ = try await Browser(client).post("/contoso/password/forgot", [("username", "alice")])
            #expect(try await sender.pass() == OutboxSender.Pass(failed: 1))
            var row = try #require(try await harness.store.outboxMessages(tenant: "contoso", limit: 5).first)
            #expect(row.attempts == 1 && row.lastError?.contains("cannot connect") == true)
            #expect(row.nextAttemptAt.map { $0.timeIntervalSince(time.now) } == 5)
            // Not due yet: nothing is tried.
            #expect(try await sender.pass() == OutboxSender.Pass())
            time.now += 5
            #expect(try await sender.pass() == OutboxSender.Pass(failed: 1))
            row = try #require(try await harness.store.outboxMessages(tenant: "contoso", limit: 5).first)
            #expect(row.attempts == 2 && row.nextAttemptAt.map { $0.timeIntervalSince(time.now) } == 10)
            // Another node does nothing while this one holds the lease.
            let other = OutboxSender(
                store: harness.store, transport: transport, box: harness.gatehouse.secretBox, time: time.source, node: "node-b")
            #expect(await other.pass() == nil)
            time.now += 10
            transport.failure.withLock { $0 = nil }
            #expect(try await sender.pass() == OutboxSender.Pass(sent: 1))
            #expect(transport.mails.count == 1)
            #expect(try await harness.store.outboxDepth() == (0, 0))

            transport.failure.withLock { $0 = MailDeliveryError("550 no such mailbox", permanent: true) }
            _ = try await Browser(client).post("/contoso/password/forgot", [("username", "alice")])
            #expect(try await sender.pass() == OutboxSender.Pass(abandoned: 1))
            row = try #require(try await harness.store.outboxMessages(tenant: "contoso", limit: 5).first)
            #expect(row.nextAttemptAt == nil && row.payload.isEmpty && row.lastError == "550 no such mailbox")
        }
    }

    /// A user who signed in on a Vietnamese page is mailed in Vietnamese, whatever the language of
    /// the page that asked for the reset.
    @Test func mailsAreWrittenInTheUsersLanguage() async throws {
        let transport = RecordingTransport()
        let (harness, sender) = try await harness(transport: transport)
        try await harness.withClient { client in
            let signedIn = try await harness.signIn(Browser(client), uri: harness.authorizeURI(extra: [("ui_locales", "vi")]))
            #expect(signedIn.status == .seeOther)
            #expect(try await harness.store.user(tenant: contoso, username: try Username("alice"))?.language == "vi")
            _ = try await Browser(client).post("/contoso/password/forgot", [("username", "alice")])
            _ = try await sender.pass()
            let mail = try #require(transport.mails.last)
            #expect(mail.subject == "Đặt lại mật khẩu cho contoso")
            #expect(mail.html.contains("<html lang=\"vi\">"))
            #expect(mail.text.contains("Xin chào Alice Nguyen,"))
            // An administrator may set it: a language mails are not written in is refused.
            let admin = harness.gatehouse.administration
            #expect(try await admin.updateUser(tenant: contoso, user: "alice", language: "en").language == "en")
            await #expect(throws: Administration.AdministrationError.self) {
                try await admin.updateUser(tenant: contoso, user: "alice", language: "xx")
            }
        }
    }

    /// The console's Outbox page lists kind, attempts, next attempt and last error, never the payload.
    @Test func theConsoleShowsTheOutboxWithoutPayloads() async throws {
        let transport = RecordingTransport()
        let time = ManualTime()
        let (harness, sender) = try await harness(time: time, transport: transport)
        let admin = harness.gatehouse.administration
        _ = try await admin.createUser(
            tenant: contoso, username: "dave", email: nil, displayName: "Dave", password: Harness.password,
            passwords: harness.gatehouse.passwordHasher)
        _ = try await admin.assignRole(tenant: contoso, user: "dave", api: BuiltInAdminAPI.applicationID, role: BuiltInAdminAPI.readRole)
        try await harness.withClient { client in
            transport.failure.withLock { $0 = MailDeliveryError("the SMTP server smtp://localhost:2525 answered EHLO with 421 busy") }
            _ = try await Browser(client).post("/contoso/password/forgot", [("username", "alice")])
            _ = try await sender.pass()
            let browser = Browser(client)
            _ = try await ConsoleTests.signIn(browser, tenant: "contoso", user: "dave")
            let page = try await browser.get("/contoso/console/tenants/contoso/outbox")
            let html = String(buffer: page.body)
            #expect(page.status == .ok)
            #expect(html.contains("id=\"outbox\"") && html.contains("<code>mail</code>") && html.contains("answered EHLO with 421 busy"))
            let row = try #require(try await harness.store.outboxMessages(tenant: "contoso", limit: 1).first)
            #expect(!html.contains(row.payload) && !html.contains("password/reset?token"))
        }
    }

    /// A slow delivery keeps the lease: no other node takes over and sends the same mail meanwhile.
    @Test func aSlowDeliveryKeepsTheLease() async throws {
        final class SlowTransport: MailTransport {
            let time: ManualTime
            let store: any GatehouseStore
            let stolen = Mutex(true)
            init(time: ManualTime, store: any GatehouseStore) { (self.time, self.store) = (time, store) }
            func send(_ mail: MailMessage, id: String) async throws {
                // 30 s into the delivery: well past the idle lease of three 2-second intervals.
                let later = time.now.addingTimeInterval(30)
                let taken = try await store.acquireLease("outbox", holder: "node-b", until: later.addingTimeInterval(6), now: later)
                stolen.withLock { $0 = taken }
            }
        }
        let time = ManualTime()
        let (harness, _) = try await harness(time: time)
        let transport = SlowTransport(time: time, store: harness.store)
        let sender = OutboxSender(
            store: harness.store, transport: transport,
            box: harness.gatehouse.secretBox, time: time.source, node: "node-a")
        try await harness.withClient { client in
            _ = try await Browser(client).post("/contoso/password/forgot", [("username", "alice")])
        }
        #expect(await sender.pass() == OutboxSender.Pass(sent: 1))
        #expect(transport.stolen.withLock { $0 } == false)
    }

    /// A reset writes the password and nothing else: an administrator who disables the user while
    /// the new password is being hashed is not undone, and the link then sets nothing.
    @Test func aResetDoesNotUndoAConcurrentChange() async throws {
        struct DisablingHasher: PasswordHasher {
            let admin: Administration
            let inner: any PasswordHasher
            func hash(_ password: String) async throws -> String {
                _ = try await admin.setEnabled(tenant: try TenantName("contoso"), user: "alice", enabled: false)
                return try await inner.hash(password)
            }
            func verify(_ password: String, hash: String) async -> Bool { await inner.verify(password, hash: hash) }
        }
        let transport = RecordingTransport()
        let (harness, sender) = try await harness(transport: transport)
        let admin = harness.gatehouse.administration
        let contosoTenant = try #require(try await harness.store.tenant(named: contoso))
        _ = try await admin.requestPasswordReset(tenant: contosoTenant, name: "alice", language: "en")
        _ = try await sender.pass()
        let path = try #require(transport.mails.last.flatMap(link(in:)))
        let token = String(path.dropFirst("/contoso/password/reset?token=".count))
        let reset = try await admin.completePasswordReset(
            tenant: contosoTenant, token: token, password: "a brand new password",
            passwords: DisablingHasher(admin: admin, inner: harness.gatehouse.passwordHasher), language: "en")
        #expect(reset == nil)
        let alice = try await admin.findUser(tenant: contoso, "alice")
        #expect(alice.enabled == false)
        #expect(await harness.gatehouse.passwordHasher.verify(Harness.password, hash: alice.passwordHash))
    }

    /// A link is for the address it was mailed to: once the address changed (or is no longer
    /// verified), the link sets nothing.
    @Test func aLinkMailedToAnOldAddressIsVoid() async throws {
        let transport = RecordingTransport()
        let (harness, sender) = try await harness(transport: transport)
        let admin = harness.gatehouse.administration
        try await harness.withClient { client in
            _ = try await Browser(client).post("/contoso/password/forgot", [("username", "alice")])
            _ = try await sender.pass()
            let path = try #require(transport.mails.last.flatMap(link(in:)))
            #expect(try await Browser(client).get(path).status == .ok)
            _ = try await admin.updateUser(tenant: contoso, user: "alice", email: "alice@new.example.com", emailVerified: true)
            #expect(try await Browser(client).get(path).status == .badRequest)
            let token = String(path.dropFirst("/contoso/password/reset?token=".count))
            let posted = try await Browser(client).post(
                "/contoso/password/reset", [("token", token), ("password", "a brand new password"), ("confirm", "a brand new password")])
            #expect(posted.status == .badRequest)
        }
    }

    /// The per-account limit counts a user's name and address as one account.
    @Test func aNameAndAnAddressShareTheAccountsLimit() async throws {
        let transport = RecordingTransport()
        let (harness, sender) = try await harness(transport: transport) { configuration in
            configuration.throttling.passwordResetAccount = .init(failures: 2, window: 900)
        }
        try await harness.withClient { client in
            for name in ["alice", "alice@example.com", "ALICE", "Alice@Example.com"] {
                #expect(try await Browser(client).post("/contoso/password/forgot", [("username", name)]).status == .ok)
            }
            _ = try await sender.pass()
            #expect(transport.mails.count == 2)
        }
    }

    /// A flood of decoys (resets for made-up names) is deleted in one statement a pass and never
    /// holds a real mail back.
    @Test func decoysDoNotHoldRealMailBack() async throws {
        let transport = RecordingTransport()
        let (harness, sender) = try await harness(transport: transport)
        let contosoTenant = try #require(try await harness.store.tenant(named: contoso))
        let admin = harness.gatehouse.administration
        for index in 0..<100 {
            _ = try await admin.requestPasswordReset(tenant: contosoTenant, name: "nobody-\(index)", language: "en")
        }
        _ = try await admin.requestPasswordReset(tenant: contosoTenant, name: "alice", language: "en")
        #expect(try await sender.pass() == OutboxSender.Pass(sent: 1, discarded: 100))
        #expect(transport.mails.map(\.to) == ["alice@example.com"])
    }
}
