import Foundation
import GatehouseCore
import GatehouseServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// The console: its operator signs in through the server's own code flow as the built-in console
/// client; roles decide what each page shows and does; a tenant's operator never reaches another
/// tenant's objects; forged and stale posts are refused; the troubleshooting page shows "your request".
@Suite struct ConsoleTests {
    struct Setup {
        let harness: Harness
        let time: ManualTime
    }

    /// contoso: alice reads (Admin.Read), dave writes (Admin.Write). fabrikam: erin writes there.
    /// gatehouse (administrative): root writes everywhere.
    static func setUp() async throws -> Setup {
        let time = ManualTime()
        let harness = try await Harness.make(time: time.source)
        let admin = harness.gatehouse.administration
        let contoso = try TenantName(Harness.tenant)
        let hasher = harness.gatehouse.passwordHasher
        _ = try await admin.bootstrap(
            tenant: try TenantName("gatehouse"), username: "root", password: Harness.password, passwords: hasher,
            clientID: try ClientID("automation"))
        _ = try await admin.assignRole(tenant: contoso, user: "alice", api: BuiltInAdminAPI.applicationID, role: BuiltInAdminAPI.readRole)
        _ = try await admin.createUser(
            tenant: contoso, username: "dave", email: nil, displayName: "Dave", password: Harness.password, passwords: hasher)
        _ = try await admin.assignRole(tenant: contoso, user: "dave", api: BuiltInAdminAPI.applicationID, role: BuiltInAdminAPI.writeRole)
        let fabrikam = try TenantName("fabrikam")
        try await admin.createTenant(name: fabrikam)
        _ = try await admin.createUser(
            tenant: fabrikam, username: "erin", email: nil, displayName: "Erin", password: Harness.password, passwords: hasher)
        _ = try await admin.assignRole(tenant: fabrikam, user: "erin", api: BuiltInAdminAPI.applicationID, role: BuiltInAdminAPI.writeRole)
        return Setup(harness: harness, time: time)
    }

    /// The path of an absolute URL of this server.
    static func path(_ location: String?) -> String {
        guard let location else { return "" }
        return location.hasPrefix(Harness.baseURL) ? String(location.dropFirst(Harness.baseURL.count)) : location
    }

    /// Signs in to `tenant`'s console as `user` through the authorization endpoint's pages;
    /// returns the response of the page the sign-in came back to.
    static func signIn(_ browser: Browser, tenant: String, user: String, returnTo: String? = nil) async throws -> TestResponse {
        // Not signed in: the console's home, its first page, the console's sign-in, the authorization endpoint.
        var next = returnTo ?? "/\(tenant)/console"
        for _ in 0..<4 where !next.contains("/oauth2/authorize") {
            let response = try await browser.get(next)
            #expect(response.status == .seeOther, "\(next)")
            next = path(response.headers[.location])
        }
        let authorize = next
        #expect(authorize.hasPrefix("/\(tenant)/oauth2/authorize?") && authorize.contains("code_challenge_method=S256"), "\(authorize)")
        let page = try await browser.get(authorize)
        let interaction = try #require(field("interaction", in: page), "\(String(buffer: page.body))")
        let csrf = try #require(field("csrf", in: page))
        let posted = try await browser.post(
            "/\(tenant)/oauth2/login", [("interaction", interaction), ("csrf", csrf), ("username", user), ("password", Harness.password)])
        let callback = path(posted.headers[.location])
        #expect(callback.hasPrefix("/\(tenant)/console/callback?"), "no consent page for the first-party console: \(callback)")
        let back = try await browser.get(callback)
        #expect(back.status == .seeOther, "\(String(buffer: back.body))")
        return try await browser.get(path(back.headers[.location]))
    }

    static func csrf(_ page: TestResponse) -> String { field("csrf", in: page) ?? "" }

    @Test func aReaderSeesTheLogButNoWriteControlsAndAForgedPostIsRefused() async throws {
        let setup = try await Self.setUp()
        let harness = setup.harness
        try await harness.withClient { client in
            let browser = Browser(client)
            let log = try await Self.signIn(browser, tenant: "contoso", user: "alice")
            let html = String(buffer: log.body)
            #expect(log.status == .ok && html.contains("<svg") && html.contains("id=\"chart-table\""), "\(html.prefix(400))")
            #expect(log.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
            #expect(log.headers[.contentSecurityPolicy]?.contains("script-src") == false, "no script allowed at all")
            #expect(html.contains("Admin.Read (read-only)"))
            // A client that registered itself is marked in the list and on its page.
            try await harness.store.createClient(
                Client(
                    tenant: TenantName("contoso"), id: ClientID("self-made"), name: "Self made", type: .public, authMethods: [.none],
                    grantTypes: [.authorizationCode], allowedScopes: .empty, defaultScopes: .empty,
                    redirectURIs: ["http://127.0.0.1/cb"], createdAt: Date()))
            try await harness.store.addClientRegistration(
                ClientRegistrationRecord(
                    tenant: TenantName("contoso"), clientID: ClientID("self-made"), policy: .open, tokenHash: "h", metadata: "{}",
                    initialTokenID: nil, createdAt: Date(), updatedAt: Date()))
            let clients = try await browser.get("/contoso/console/tenants/contoso/clients")
            #expect(clients.status == .ok && !String(buffer: clients.body).contains("create-client"), "no create form for a reader")
            #expect(String(buffer: clients.body).contains("CLI) · self-registered (RFC 7591)"))
            let selfMade = String(buffer: try await browser.get("/contoso/console/tenants/contoso/clients/self-made").body)
            #expect(selfMade.contains("Registered by") && selfMade.contains("self-registered (RFC 7591)"))
            let web = try await browser.get("/contoso/console/tenants/contoso/clients/web")
            let webHTML = String(buffer: web.body)
            #expect(
                web.status == .ok && !webHTML.contains("edit-client") && !webHTML.contains("add-secret")
                    && !webHTML.contains("remove-client"))
            // What the client's authorization requests must be, and where its logout tokens go.
            #expect(webHTML.contains("Authorization requests") && webHTML.contains("plain, pushed or signed"))
            #expect(webHTML.contains("Back-channel logout URI"))
            let before = try await harness.store.clients(tenant: try TenantName("contoso")).count
            // A forged post with her own valid CSRF token: refused for the role.
            let forged = try await browser.post(
                "/contoso/console/tenants/contoso/clients", [("csrf", Self.csrf(log)), ("name", "evil"), ("type", "confidential")])
            #expect(forged.status == .forbidden && String(buffer: forged.body).contains("9900203"), "\(String(buffer: forged.body))")
            // Without the token (a cross-site form): refused before anything else.
            let noToken = try await browser.post("/contoso/console/tenants/contoso/users/x/disable", [("name", "evil")])
            #expect(noToken.status == .badRequest && String(buffer: noToken.body).contains("9900144"))
            #expect(try await harness.store.clients(tenant: try TenantName("contoso")).count == before)
        }
    }

    @Test func aWriterCreatesAClientWhoseSecretIsShownOnceAndAudited() async throws {
        let setup = try await Self.setUp()
        let harness = setup.harness
        try await harness.withClient { client in
            let browser = Browser(client)
            let log = try await Self.signIn(browser, tenant: "contoso", user: "dave")
            let created = try await browser.post(
                "/contoso/console/tenants/contoso/clients",
                [("csrf", Self.csrf(log)), ("name", "Billing"), ("client_id", "billing"), ("type", "confidential"), ("scopes", "api.read")])
            let shown = try #require(field("secret-value", in: created) ?? Self.secretValue(created), "\(String(buffer: created.body))")
            #expect(created.status == .ok && shown.count >= 40)
            // The secret works at the token endpoint, and is never shown again.
            let token = try await harness.token(
                client, [("grant_type", "client_credentials")], headers: [.authorization: basic("billing", shown)])
            #expect(token.status == .ok, "\(String(buffer: token.body))")
            let page = try await browser.get("/contoso/console/tenants/contoso/clients/billing")
            #expect(page.status == .ok && !String(buffer: page.body).contains(shown))
            let audit = try await harness.store.auditEntries(AuditQuery(tenant: try TenantName("contoso")))
            let dave = try #require(try await harness.store.user(tenant: try TenantName("contoso"), username: try Username("dave")))
            #expect(
                audit.contains { $0.action == "client.create" && $0.target == "billing" && $0.actor.contains(dave.id) },
                "\(audit.map(\.actor))")
            #expect(audit.contains { $0.action == "client.secret.add" && $0.target == "billing" })
            // Editing: redirect URIs and grants through the form; the audit log names the change.
            let edited = try await browser.post(
                "/contoso/console/tenants/contoso/clients/billing",
                [
                    ("csrf", Self.csrf(log)), ("name", "Billing"), ("redirect_uris", "https://billing.example.com/cb"),
                    ("grant", "authorization_code"), ("grant", "client_credentials"), ("enabled", "on"),
                ])
            #expect(edited.status == .seeOther, "\(String(buffer: edited.body))")
            let stored = try #require(try await harness.store.client(tenant: try TenantName("contoso"), id: try ClientID("billing")))
            #expect(
                stored.redirectURIs == ["https://billing.example.com/cb"] && stored.grantTypes == [.authorizationCode, .clientCredentials])
            // An invalid change is explained on the page with its catalogue code, nothing stored.
            let bad = try await browser.post(
                "/contoso/console/tenants/contoso/clients/billing",
                [("csrf", Self.csrf(log)), ("redirect_uris", "not a uri"), ("grant", "authorization_code"), ("enabled", "on")])
            #expect(bad.status == .badRequest && String(buffer: bad.body).contains("9900200"), "\(String(buffer: bad.body))")
        }
    }

    static func secretValue(_ page: TestResponse) -> String? {
        let html = String(buffer: page.body)
        guard let range = html.range(of: #"id="secret-value" readonly value="([^"]*)""#, options: .regularExpression) else { return nil }
        return html[range].split(separator: "\"").last.map(String.init)
    }

    @Test func sensitiveActionsNeedARecentSignInAndAnIdleSessionEnds() async throws {
        let setup = try await Self.setUp()
        let harness = setup.harness
        try await harness.withClient { client in
            let browser = Browser(client)
            let log = try await Self.signIn(browser, tenant: "contoso", user: "dave")
            let keys = try await harness.store.keys(tenant: try TenantName("contoso"))
            setup.time.now += 6 * 60
            let rotate = try await browser.post("/contoso/console/tenants/contoso/keys/rotate", [("csrf", Self.csrf(log))])
            #expect(rotate.status == .seeOther && rotate.headers[.location]?.contains("/contoso/console/login?reauth=1") == true)
            #expect(try await harness.store.keys(tenant: try TenantName("contoso")) == keys, "nothing rotated")
            // The re-authentication asks the authorization endpoint for max_age=0 (a fresh password).
            let login = try await browser.get(Self.path(rotate.headers[.location]))
            #expect(Self.path(login.headers[.location]).contains("max_age=0"))
            // Idle for longer than the timeout: signed out.
            setup.time.now += 15 * 60 + 1
            let idle = try await browser.get("/contoso/console/tenants/contoso/signins")
            #expect(idle.status == .seeOther && idle.headers[.location]?.contains("/contoso/console/login") == true)
        }
    }

    @Test func aTenantsOperatorReachesNothingOfAnotherTenant() async throws {
        let setup = try await Self.setUp()
        let harness = setup.harness
        try await harness.withClient { client in
            let browser = Browser(client)
            let home = try await Self.signIn(browser, tenant: "fabrikam", user: "erin")
            #expect(home.status == .ok)
            let alice = try #require(try await harness.store.user(tenant: try TenantName("contoso"), username: try Username("alice")))
            for page in ["signins", "clients", "clients/web", "users", "users/\(alice.id)", "keys", "apis", "audit", "preview"] {
                let other = try await browser.get("/fabrikam/console/tenants/contoso/\(page)")
                #expect(other.status == .forbidden && String(buffer: other.body).contains("9900204"), "\(page): \(other.status)")
            }
            for (page, form) in [("clients", [("name", "x")]), ("keys/rotate", []), ("users/\(alice.id)/disable", [])] {
                let other = try await browser.post("/fabrikam/console/tenants/contoso/\(page)", [("csrf", Self.csrf(home))] + form)
                #expect(other.status == .forbidden, "\(page)")
            }
            // Contoso's objects named under her own tenant are not found there.
            for page in ["clients/web", "users/\(alice.id)"] {
                #expect(try await browser.get("/fabrikam/console/tenants/fabrikam/\(page)").status == .notFound, "\(page)")
            }
            // Her session is fabrikam's: contoso's console asks for a sign-in there.
            let elsewhere = try await browser.get("/contoso/console/tenants/contoso/signins")
            #expect(elsewhere.status == .seeOther && elsewhere.headers[.location]?.hasPrefix("/contoso/console/login") == true)
            #expect(try await harness.store.user(tenant: try TenantName("contoso"), id: alice.id)?.enabled == true)

            // The administrative tenant's operator reaches every tenant.
            let root = Browser(client)
            _ = try await Self.signIn(root, tenant: "gatehouse", user: "root")
            #expect(try await root.get("/gatehouse/console/tenants/contoso/clients").status == .ok)
            #expect(try await root.get("/gatehouse/console/tenants/fabrikam/users").status == .ok)
        }
    }

    @Test func aPastedErrorFindsItsRecordAndTheTroubleshootingPageShowsYourRequest() async throws {
        let setup = try await Self.setUp()
        let harness = setup.harness
        try await harness.withClient { client in
            let failed = try await harness.token(
                client, [("grant_type", "client_credentials")], headers: [.authorization: basic("svc", "wrong-secret")])
            let body = String(buffer: failed.body)
            let traceID = try #require(json(failed)["trace_id"] as? String)
            let errorURI = try #require(json(failed)["error_uri"] as? String)
            await harness.gatehouse.signIns.flush()
            let browser = Browser(client)
            let log = try await Self.signIn(browser, tenant: "contoso", user: "alice")
            #expect(String(buffer: log.body).contains("7000215"), "the failure is in the chart and the table")
            let found = try await browser.get("/contoso/console/tenants/contoso/signins?q=" + ConsoleTests.encode(body))
            let foundHTML = String(buffer: found.body)
            #expect(found.status == .ok && foundHTML.contains("signins/\(traceID)") && foundHTML.contains("Records found: 1"))
            let record = try await browser.get("/contoso/console/tenants/contoso/signins/\(traceID)")
            let recordHTML = String(buffer: record.body)
            #expect(record.status == .ok && recordHTML.contains("Client authentication") && recordHTML.contains("trace_id=\(traceID)"))
            // The troubleshooting page, as the client received its link: the request's public record.
            let page = try await client.execute(uri: Self.path(errorURI), method: .get)
            let pageHTML = String(buffer: page.body)
            #expect(
                pageHTML.contains("Your request") && pageHTML.contains(traceID) && pageHTML.contains(">svc<"), "\(pageHTML.suffix(1500))")
            #expect(!pageHTML.contains("open-in-console"), "no console link without a console session")
            #expect(page.headers[.cacheControl] == "no-store")
            // With the operator's console cookie: a link to the full record.
            let signedIn = try await browser.get(Self.path(errorURI))
            #expect(String(buffer: signedIn.body).contains("/contoso/console/tenants/contoso/signins/\(traceID)"))
            // A trace ID this server did not make is not looked up.
            let made = try await client.execute(uri: "/error?code=7000215&trace_id=00000000-0000-4000-8000-000000000000", method: .get)
            #expect(String(buffer: made.body).contains("not looked up"))
        }
    }

    @Test func theTroubleshootingPagesLookupsAreBoundedPerSource() async throws {
        let setup = try await Self.setUp()
        let harness = setup.harness
        try await harness.withClient { client in
            let failed = try await harness.token(
                client, [("grant_type", "client_credentials")], headers: [.authorization: basic("svc", "wrong-secret")])
            let errorURI = Self.path(json(failed)["error_uri"] as? String)
            await harness.gatehouse.signIns.flush()
            var notes: [Bool] = []
            for _ in 0..<(30 + 5) {
                let page = try await client.execute(uri: errorURI, method: .get)
                #expect(page.status == .ok && String(buffer: page.body).contains("How to fix it"), "the explanation always")
                notes.append(String(buffer: page.body).contains("too many lookups"))
            }
            #expect(notes.prefix(30).allSatisfy { !$0 } && notes.suffix(5).allSatisfy { $0 })
        }
    }

    @Test func theConsoleClientIsBuiltInFixedAndItsFlowCannotBeReplayed() async throws {
        let setup = try await Self.setUp()
        let harness = setup.harness
        let admin = harness.gatehouse.administration
        let contoso = try TenantName("contoso")
        let id = try ClientID(BuiltInConsole.clientID)
        let console = try #require(try await harness.store.client(tenant: contoso, id: id))
        #expect(console.type == .public && console.redirectURIs.isEmpty && console.firstParty)
        await #expect(throws: Administration.AdministrationError.self) { try await admin.removeClient(tenant: contoso, id: id) }
        var change = Administration.ClientChange()
        change.redirectURIs = ["https://evil.example/cb"]
        await #expect(throws: Administration.AdministrationError.self) {
            try await admin.updateClient(tenant: contoso, id: id, change: change)
        }
        #expect(try await admin.ensureConsoleClient(tenant: contoso) == false)
        try await harness.withClient { client in
            // Only the derived redirect URI is accepted.
            let pkce = PKCEPair()
            let elsewhere = try await client.execute(
                uri: harness.authorizeURI(
                    client: BuiltInConsole.clientID, redirect: "https://evil.example/cb", scope: "openid", pkce: pkce),
                method: .get)
            #expect(elsewhere.status == .badRequest && String(buffer: elsewhere.body).contains("50011"))
            // A callback replayed (or forged without the browser's binding cookie) signs no one in.
            let browser = Browser(client)
            let start = try await browser.get("/contoso/console/login")
            let authorize = try await browser.get(Self.path(start.headers[.location]))
            let posted = try await browser.post(
                "/contoso/oauth2/login",
                [
                    ("interaction", field("interaction", in: authorize) ?? ""), ("csrf", field("csrf", in: authorize) ?? ""),
                    ("username", "dave"), ("password", Harness.password),
                ])
            let callback = Self.path(posted.headers[.location])
            let stranger = Browser(client)
            #expect(try await stranger.get(callback).status == .badRequest, "another browser's callback")
            #expect(try await browser.get(callback).status == .seeOther, "the browser that started it signs in")
            #expect(try await browser.get(callback).status == .badRequest, "the state was spent")
            // A user without a role on the admin API is refused at the callback.
            let bob = Browser(client)
            let bobStart = try await bob.get("/contoso/console/login")
            let bobPage = try await bob.get(Self.path(bobStart.headers[.location]))
            let bobPosted = try await bob.post(
                "/contoso/oauth2/login",
                [
                    ("interaction", field("interaction", in: bobPage) ?? ""), ("csrf", field("csrf", in: bobPage) ?? ""),
                    ("username", "carol2"), ("password", Harness.password),
                ])
            #expect(bobPosted.status == .badRequest, "an unknown user: the form again")
            _ = try await harness.gatehouse.administration.createUser(
                tenant: contoso, username: "frank", email: nil, displayName: "Frank", password: Harness.password,
                passwords: harness.gatehouse.passwordHasher)
            let again = try await bob.post(
                "/contoso/oauth2/login",
                [
                    ("interaction", field("interaction", in: bobPosted) ?? ""), ("csrf", field("csrf", in: bobPosted) ?? ""),
                    ("username", "frank"), ("password", Harness.password),
                ])
            let refused = try await bob.get(Self.path(again.headers[.location]))
            #expect(refused.status == .forbidden && String(buffer: refused.body).contains("9900203"), "\(String(buffer: refused.body))")
            #expect(try await bob.get("/contoso/console/tenants/contoso/signins").status == .seeOther, "no session made")
        }
    }

    @Test func thePreviewShowsTheClaimsOfTheNextTokenWithoutIssuingOne() async throws {
        let setup = try await Self.setUp()
        let harness = setup.harness
        try await harness.withClient { client in
            let browser = Browser(client)
            _ = try await Self.signIn(browser, tenant: "contoso", user: "alice")
            let grantsBefore = try await harness.store.grant(id: "preview")
            let app = try await browser.get("/contoso/console/tenants/contoso/preview?client=svc")
            let appHTML = String(buffer: app.body)
            #expect(
                app.status == .ok && appHTML.contains("&quot;client_id&quot; : &quot;svc&quot;") && appHTML.contains("api.read"),
                "\(appHTML)")
            let user = try await browser.get("/contoso/console/tenants/contoso/preview?client=web&user=alice&scope=openid+profile")
            let userHTML = String(buffer: user.body)
            #expect(
                userHTML.contains("id=\"id-claims\"") && userHTML.contains("&quot;preferred_username&quot; : &quot;alice&quot;"),
                "\(userHTML)")
            let refused = try await browser.get("/contoso/console/tenants/contoso/preview?client=web&user=alice&scope=api.write")
            #expect(refused.status == .badRequest, "a scope the client may not have: the catalogue's answer")
            let grantsAfter = try await harness.store.grant(id: "preview")
            #expect(grantsBefore == nil && grantsAfter == nil, "nothing stored")
        }
    }

    @Test func aWriterManagesUsersAPIsAndKeysThroughTheAdministrationService() async throws {
        let setup = try await Self.setUp()
        let harness = setup.harness
        let contoso = try TenantName("contoso")
        try await harness.withClient { client in
            let browser = Browser(client)
            let log = try await Self.signIn(browser, tenant: "contoso", user: "dave")
            let csrf = Self.csrf(log)
            // A new user, then disabled, password reset and second factor removed (bob has one).
            let made = try await browser.post(
                "/contoso/console/tenants/contoso/users",
                [("csrf", csrf), ("username", "grace"), ("name", "Grace"), ("password", "a long enough password")])
            #expect(made.status == .seeOther, "\(String(buffer: made.body))")
            let grace = try #require(try await harness.store.user(tenant: contoso, username: try Username("grace")))
            #expect(
                try await browser.post("/contoso/console/tenants/contoso/users/\(grace.id)/disable", [("csrf", csrf)]).status == .seeOther)
            #expect(try await harness.store.user(tenant: contoso, id: grace.id)?.enabled == false)
            let bob = try #require(try await harness.store.user(tenant: contoso, username: try Username("bob")))
            #expect(
                try await browser.post("/contoso/console/tenants/contoso/users/\(bob.id)/remove-totp", [("csrf", csrf)]).status == .seeOther
            )
            #expect(try await harness.store.user(tenant: contoso, id: bob.id)?.requiresSecondFactor == false)
            let reset = try await browser.post(
                "/contoso/console/tenants/contoso/users/\(bob.id)/password", [("csrf", csrf), ("password", "another long password")])
            #expect(reset.status == .seeOther)
            // He cannot disable himself (he would lock himself out mid-session).
            let dave = try #require(try await harness.store.user(tenant: contoso, username: try Username("dave")))
            let own = try await browser.post("/contoso/console/tenants/contoso/users/\(dave.id)/disable", [("csrf", csrf)])
            let stillEnabled = try await harness.store.user(tenant: contoso, id: dave.id)?.enabled
            #expect(own.status == .conflict && stillEnabled == true)
            // An API with a permission.
            let api = try await browser.post(
                "/contoso/console/tenants/contoso/apis", [("csrf", csrf), ("name", "Orders"), ("identifier", "api://orders")])
            #expect(api.status == .seeOther, "\(String(buffer: api.body))")
            let orders = try #require(try await harness.store.api(tenant: contoso, identifier: "api://orders"))
            let permission = try await browser.post(
                "/contoso/console/tenants/contoso/apis/\(orders.applicationID.value)/permissions",
                [("csrf", csrf), ("name", "Orders.Read"), ("description", "Read orders"), ("kind", "permission")])
            #expect(permission.status == .seeOther)
            #expect(try await harness.store.api(tenant: contoso, identifier: "api://orders")?.permissions.map(\.name) == ["Orders.Read"])
            // Keys rotate right after a sign-in (recent enough).
            let before = try await harness.store.keys(tenant: contoso).first { $0.status == .active }?.kid
            #expect(try await browser.post("/contoso/console/tenants/contoso/keys/rotate", [("csrf", csrf)]).status == .seeOther)
            #expect(try await harness.store.keys(tenant: contoso).first { $0.status == .active }?.kid != before)
            let actions = Set(
                try await harness.store.auditEntries(AuditQuery(tenant: contoso)).filter { $0.actor.contains(dave.id) }.map(\.action))
            #expect(actions.isSuperset(of: ["user.create", "api.create"]), "\(actions)")
            let audit = try await browser.get("/contoso/console/tenants/contoso/audit")
            #expect(audit.status == .ok && String(buffer: audit.body).contains("api.create"))
        }
    }

    @Test func theBuiltInClientsAndTheAdminAPIRefuseChangesWhateverTheDoor() async throws {
        let setup = try await Self.setUp()
        let admin = setup.harness.gatehouse.administration
        let contoso = try TenantName("contoso")
        for id in [BuiltInConsole.clientID, BuiltInAdminAPI.applicationID] {
            let client = try ClientID(id)
            await #expect(throws: Administration.AdministrationError.self) {
                try await admin.grant(
                    tenant: contoso, clientID: client, api: "api://gatehouse-admin", permissions: ["Admin.Write"], roles: [])
            }
            await #expect(throws: Administration.AdministrationError.self) {
                try await admin.updateClient(tenant: contoso, id: client, change: Administration.ClientChange())
            }
            await #expect(throws: Administration.AdministrationError.self) {
                try await admin.addCertificate(tenant: contoso, clientID: client, pem: "-----BEGIN CERTIFICATE-----")
            }
        }
        await #expect(throws: Administration.AdministrationError.self) {
            try await admin.addPermission(
                tenant: contoso, api: BuiltInAdminAPI.identifier, name: "Admin.All", descriptions: [:], role: true)
        }
        try await setup.harness.withClient { client in
            let browser = Browser(client)
            let log = try await Self.signIn(browser, tenant: "contoso", user: "dave")
            // The same through the console's forms (which it does not show for them).
            let grant = try await browser.post(
                "/contoso/console/tenants/contoso/clients/gatehouse-console/grants",
                [("csrf", Self.csrf(log)), ("api", "gatehouse-admin"), ("permissions", "Admin.Write")])
            #expect(grant.status == .conflict && String(buffer: grant.body).contains("9900202"))
            #expect(try await setup.harness.store.access(tenant: contoso, clientID: try ClientID(BuiltInConsole.clientID)).isEmpty)
        }
    }

    @Test func forgedAndOddInputIsRefusedAndTheWayBackStaysInTheConsole() async throws {
        let setup = try await Self.setUp()
        let harness = setup.harness
        try await harness.withClient { client in
            // A `return` that a browser would turn into another path: the console's home instead.
            let browser = Browser(client)
            for evil in [
                "/contoso/console/%252e%252e/%252e%252e/x", "//evil.example/x", "/contoso/console/../../x", "https://evil.example",
            ] {
                let start = try await browser.get("/contoso/console/login?return=" + Self.encode(evil))
                let page = try await browser.get(Self.path(start.headers[.location]))
                let posted = try await browser.post(
                    "/contoso/oauth2/login",
                    [
                        ("interaction", field("interaction", in: page) ?? ""), ("csrf", field("csrf", in: page) ?? ""),
                        ("username", "dave"), ("password", Harness.password),
                    ])
                let back = try await browser.get(Self.path(posted.headers[.location] ?? Self.path(page.headers[.location])))
                #expect(back.headers[.location] == "/contoso/console", "\(evil) -> \(back.headers[.location] ?? "-")")
            }
            let log = try await browser.get("/contoso/console/tenants/contoso/signins")
            let csrf = Self.csrf(log)
            // A control character in a form: refused, nothing stored.
            let nul = try await browser.post(
                "/contoso/console/tenants/contoso/users",
                [("csrf", csrf), ("username", "nul"), ("name", "a\u{0}b"), ("password", "x y z w v u")])
            #expect(nul.status == .badRequest && String(buffer: nul.body).contains("9900200"))
            #expect(try await harness.store.user(tenant: try TenantName("contoso"), username: try Username("nul")) == nil)
            // A forged sign-out (no token) signs no one out.
            let forged = try await browser.post("/contoso/console/logout", [])
            #expect(forged.status == .badRequest)
            #expect(try await browser.get("/contoso/console/tenants/contoso/signins").status == .ok)
            // Setting a password needs a recent sign-in; the way back is the user's page.
            setup.time.now += 6 * 60
            let bob = try #require(try await harness.store.user(tenant: try TenantName("contoso"), username: try Username("bob")))
            let reset = try await browser.post(
                "/contoso/console/tenants/contoso/users/\(bob.id)/password", [("csrf", csrf), ("password", "another long password")])
            #expect(
                reset.headers[.location] == "/contoso/console/login?reauth=1&return="
                    + Self.encode("/contoso/console/tenants/contoso/users/\(bob.id)"))
            // The real sign-out: the session ends.
            let out = try await browser.post("/contoso/console/logout", [("csrf", csrf)])
            #expect(out.status == .seeOther)
            #expect(try await browser.get("/contoso/console/tenants/contoso/signins").status == .seeOther)
        }
    }

    /// A made-up version 7 trace ID in a busy minute (whose successes are counted, not kept whole)
    /// reveals nothing on the public page.
    @Test func aMadeUpTraceIDRevealsNothingOnThePublicPage() async throws {
        let setup = try await Self.setUp()
        let harness = setup.harness
        try await harness.withClient { client in
            var traces: [String] = []
            for _ in 0..<5 {
                let ok = try await harness.token(
                    client, [("grant_type", "client_credentials")], headers: [.authorization: basic("svc", harness.secret("svc"))])
                traces.append(ok.headers[.init("X-Trace-Id")!] ?? "")
            }
            await harness.gatehouse.signIns.flush()
            // The requests counted, not kept whole (the first of each minute is kept whole), and
            // made-up IDs with a counted request's millisecond and other random bits.
            var counted: [String] = []
            for trace in traces where try await harness.store.signIns(SignInQuery(traceID: trace)).isEmpty { counted.append(trace) }
            #expect(counted.count >= 3, "five requests span at most two minutes")
            for trace in counted + counted.map({ String($0.prefix(19)) + "8000-000000000001" }) {
                let page = try await client.execute(uri: "/error?code=7000215&trace_id=\(trace)", method: .get)
                let html = String(buffer: page.body)
                #expect(page.status == .ok && !html.contains(">svc<") && !html.contains(">contoso<"), "\(trace)")
            }
        }
    }

    @Test func theLogPagesOlderRowsAndSpeaksVietnamese() async throws {
        let setup = try await Self.setUp()
        let harness = setup.harness
        try await harness.withClient { client in
            // 205 failures of one client: a page of 200, then the older 5.
            for _ in 0..<205 {
                _ = try await harness.token(
                    client, [("grant_type", "client_credentials")], headers: [.authorization: basic("svc", "wrong")])
                setup.time.now += 0.001
            }
            await harness.gatehouse.signIns.flush()
            let browser = Browser(client)
            _ = try await Self.signIn(browser, tenant: "contoso", user: "alice")
            let first = try await browser.get("/contoso/console/tenants/contoso/signins?client=svc")
            let firstHTML = String(buffer: first.body)
            let rows = firstHTML.components(separatedBy: "/signins/").count - 1
            #expect(rows == 200, "\(rows)")
            let marker = try #require(firstHTML.range(of: "\" id=\"older\""))
            let start = try #require(firstHTML.range(of: "href=\"", options: .backwards, range: firstHTML.startIndex..<marker.lowerBound))
            let link = String(firstHTML[start.upperBound..<marker.lowerBound]).replacingOccurrences(of: "&amp;", with: "&")
            let second = try await browser.get(link)
            #expect(String(buffer: second.body).components(separatedBy: "/signins/").count - 1 == 5, "\(link)")
            // The chart counted all 205 (one code), whatever the page.
            #expect(firstHTML.contains("205 failures in the period"))
            // In Vietnamese when the browser asks for it.
            let vietnamese = try await client.execute(
                uri: "/contoso/console/tenants/contoso/signins", method: .get,
                headers: [
                    .acceptLanguage: "vi", .cookie: "gatehouse_console=\(browser.cookies.withLock { $0["gatehouse_console"] ?? "" })",
                ])
            let html = String(buffer: vietnamese.body)
            #expect(html.contains("lang=\"vi\"") && html.contains("Nhật ký đăng nhập") && html.contains("Lỗi theo mã lỗi"))
        }
    }

    static func encode(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}
