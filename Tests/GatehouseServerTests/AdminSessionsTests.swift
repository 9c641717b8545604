import Crypto
import Foundation
import GatehouseAdminAPI
import GatehouseCore
import GatehouseServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// An administrator lists and ends a user's browser sessions and withdraws a consent (which
/// also revokes the client's grants for the user), through the admin API.
@Suite struct AdminSessionsTests {
    @Test func sessionsAndConsentsAreListedAndEnded() async throws {
        let setup = try await AdminAccessTests.setUp()
        let harness = setup.harness
        try await harness.withClient { client in
            // Alice signs in to the web app in a browser and gets tokens (consent given).
            let pkce = PKCEPair()
            let browser = Browser(client)
            let reply = try await harness.signIn(browser, uri: harness.authorizeURI(pkce: pkce))
            let code = redirectParameters(reply)["code"] ?? ""
            let tokens = json(try await harness.redeem(client, code: code, pkce: pkce))
            let refresh = try #require(tokens["refresh_token"] as? String)
            let root = try await AdminAccessTests.automationToken(setup, client)

            // The sign-in log finds Alice's requests by her username: the sign-in page and the code redemption.
            await harness.gatehouse.signIns.flush()
            let logged = json(try await AdminAccessTests.call(client, .get, "/tenants/contoso/sign-ins?user=alice", token: root))
            let steps = (logged["items"] as? [[String: Any]])?.compactMap { $0["step"] as? String } ?? []
            #expect(steps.contains("authorization_code") && steps.contains("sign_in"), "\(logged)")
            let alice = try #require(try await harness.store.user(tenant: try TenantName("contoso"), username: try Username("alice")))
            #expect((logged["items"] as? [[String: Any]])?.allSatisfy { $0["user_id"] as? String == alice.id } == true)

            let sessions = json(try await AdminAccessTests.call(client, .get, "/tenants/contoso/users/alice/sessions", token: root))
            let items = try #require(sessions["items"] as? [[String: Any]])
            #expect(items.count == 1 && (items.first?["amr"] as? [String]) == ["pwd"], "\(sessions)")
            let sid = try #require(items.first?["sid"] as? String)
            let consents = json(try await AdminAccessTests.call(client, .get, "/tenants/contoso/users/alice/consents", token: root))
            #expect((consents["items"] as? [[String: Any]])?.first?["client_id"] as? String == "web", "\(consents)")

            // Withdrawing the consent revokes the web app's grant: its refresh token stops working.
            let withdrawn = try await AdminAccessTests.call(client, .delete, "/tenants/contoso/users/alice/consents/web", token: root)
            #expect(withdrawn.status == .noContent, "\(String(buffer: withdrawn.body))")
            #expect(try await harness.refresh(client, refresh).status == .badRequest)
            let again = try await AdminAccessTests.call(client, .delete, "/tenants/contoso/users/alice/consents/web", token: root)
            #expect(again.status == .notFound && AdminAccessTests.code(again) == 9_900_201)

            // Ending the session: the browser is asked to sign in again.
            let other = try await AdminAccessTests.call(client, .delete, "/tenants/contoso/users/alice/sessions/not-a-sid", token: root)
            #expect(other.status == .notFound)
            let ended = try await AdminAccessTests.call(client, .delete, "/tenants/contoso/users/alice/sessions/\(sid)", token: root)
            #expect(ended.status == .noContent)
            let page = try await browser.get(harness.authorizeURI(pkce: PKCEPair()))
            #expect(page.status == .ok && field("interaction", in: page) != nil, "the login page again")
            let audited = try await harness.store.auditEntries(AuditQuery(tenant: try TenantName("contoso")))
            #expect(Set(audited.map(\.action)).isSuperset(of: ["user.consent.revoke", "user.session.end"]))
        }
    }

    @Test func endingEverySessionRevokesTheGrantsAndACodeOfARevokedGrantGivesNothing() async throws {
        let setup = try await AdminAccessTests.setUp()
        let harness = setup.harness
        try await harness.withClient { client in
            let root = try await AdminAccessTests.automationToken(setup, client)
            let tokens = try await harness.tokens(client)
            let refresh = try #require(tokens["refresh_token"] as? String)
            // A code issued, not yet redeemed, when the administrator withdraws the consent.
            let pkce = PKCEPair()
            let browser = Browser(client)
            let code = redirectParameters(try await harness.signIn(browser, uri: harness.authorizeURI(pkce: pkce)))["code"] ?? ""
            #expect(!code.isEmpty)
            let withdrawn = try await AdminAccessTests.call(client, .delete, "/tenants/contoso/users/alice/consents/web", token: root)
            #expect(withdrawn.status == .noContent)
            expectError(try await harness.redeem(client, code: code, pkce: pkce), status: 400, error: "invalid_grant", code: 70008)
            // A new grant, then every session ended: its refresh token stops working too.
            #expect(try await harness.refresh(client, refresh).status == .badRequest, "the withdrawn grant's token")
            let again = try #require(try await harness.tokens(client)["refresh_token"] as? String)
            let rotated = try await harness.refresh(client, again)
            #expect(rotated.status == .ok)
            let current = try #require(json(rotated)["refresh_token"] as? String)
            let ended = try await AdminAccessTests.call(client, .delete, "/tenants/contoso/users/alice/sessions", token: root)
            #expect(ended.status == .noContent)
            expectError(try await harness.refresh(client, current), status: 400, error: "invalid_grant", code: 50173)
            let listed = json(try await AdminAccessTests.call(client, .get, "/tenants/contoso/users/alice/sessions", token: root))
            #expect((listed["items"] as? [Any])?.isEmpty == true)
            // A NUL anywhere in the query is refused, even beside a part that does not decode.
            let nul = try await AdminAccessTests.call(client, .get, "/tenants/contoso/sign-ins?user=%00&x=%zz", token: root)
            #expect(nul.status == .badRequest && AdminAccessTests.code(nul) == 9_900_200)
        }
    }

    @Test func sessionsKeysAndConsentsComeAPageAtATime() async throws {
        let setup = try await AdminAccessTests.setUp()
        let harness = setup.harness
        try await harness.withClient { client in
            for _ in 0..<2 { _ = try await harness.signIn(Browser(client), uri: harness.authorizeURI(pkce: PKCEPair())) }
            let root = try await AdminAccessTests.automationToken(setup, client)
            for path in ["/tenants/contoso/users/alice/sessions", "/tenants/contoso/keys"] {
                let first = json(try await AdminAccessTests.call(client, .get, path + "?limit=1", token: root))
                let cursor = try #require(first["next_cursor"] as? String, "\(path): \(first)")
                let second = json(try await AdminAccessTests.call(client, .get, path + "?limit=1&cursor=\(cursor)", token: root))
                let ids = [first, second].compactMap {
                    (($0["items"] as? [[String: Any]])?.first?["sid"] ?? ($0["items"] as? [[String: Any]])?.first?["kid"]) as? String
                }
                #expect(ids.count == 2 && ids[0] != ids[1] && second["next_cursor"] == nil, "\(path): \(first) \(second)")
                let bad = try await AdminAccessTests.call(client, .get, path + "?cursor=not-one", token: root)
                #expect(bad.status == .badRequest && AdminAccessTests.code(bad) == 9_900_200)
            }
            let consents = json(try await AdminAccessTests.call(client, .get, "/tenants/contoso/users/alice/consents?limit=1", token: root))
            #expect((consents["items"] as? [Any])?.count == 1 && consents["next_cursor"] == nil)
        }
    }

    /// The committed generated code is the generator's output for the document in the repo
    /// (`scripts/generate-admin-api` writes the hash it was made from).
    @Test func generatedCodeMatchesTheDocument() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let document = try Data(contentsOf: root.appendingPathComponent("openapi/admin.yaml"))
        let hash = SHA256.hash(data: document).map { String(format: "%02x", $0) }.joined()
        #expect(hash == AdminAPIDocument.sha256, "run scripts/generate-admin-api after changing openapi/admin.yaml")
    }
}
