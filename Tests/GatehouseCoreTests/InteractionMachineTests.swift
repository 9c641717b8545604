import Foundation
import Testing

@testable import GatehouseCore

/// Every transition of the sign-in interaction machine, without a server.
@Suite struct InteractionMachineTests {
    static let started = Date(timeIntervalSince1970: 1_800_000_000)

    static func authorize(prompt: Set<Prompt> = [], maxAge: Int? = nil, scope: [String] = ["openid", "profile"]) throws
        -> InteractionPurpose
    {
        .authorize(
            AuthorizationRequest(
                tenant: try TenantName("contoso"), clientID: try ClientID("web"),
                reply: AuthorizationReplyTarget(redirectURI: try RedirectURI("https://app.example/cb"), responseMode: .query, state: "s1"),
                redirectURIWasSent: true, nonce: "n", scope: Scope(tokens: scope), audience: ["https://api"], codeChallenge: nil,
                prompt: prompt, maxAge: maxAge, loginHint: "alice", uiLocales: nil, issuer: "https://id.example/contoso"))
    }

    static func device() throws -> InteractionPurpose {
        .device(
            DeviceApproval(
                tenant: try TenantName("contoso"), clientID: try ClientID("tv"), scope: Scope(tokens: ["openid"]), audience: [],
                uiLocales: nil, deviceKey: "k"))
    }

    static func machine(_ purpose: InteractionPurpose) -> InteractionMachine {
        InteractionMachine(purpose: purpose, startedAt: started)
    }

    static func session(authTime offset: TimeInterval) -> BrowserSession {
        BrowserSession(
            tenant: "contoso", userID: "u1", sid: "sid", authTime: started.addingTimeInterval(offset), amr: ["pwd"],
            expiresAt: started.addingTimeInterval(3600))
    }

    static func user(secondFactor: Bool) throws -> User {
        User(
            tenant: try TenantName("contoso"), id: "u1", username: try Username("alice"), email: nil, displayName: "Alice",
            passwordHash: "x", sealedTOTPSecret: secondFactor ? "sealed" : nil, createdAt: started, updatedAt: started)
    }

    /// The entry number of an error sent to the redirect URI, with the target it goes to.
    static func sentToClient(_ outcome: InteractionOutcome) -> (Int, String)? {
        if case .failToClient(let error, let target) = outcome { return (error.entry.number, target.redirectURI.value) }
        return nil
    }

    static func shownOnPage(_ outcome: InteractionOutcome) -> (Int, Bool)? {
        if case .failOnPage(let error, let end) = outcome { return (error.entry.number, end) }
        return nil
    }

    // MARK: start

    @Test func startWithoutSessionShowsSignIn() throws {
        for purpose in [try Self.authorize(), try Self.device()] {
            guard case .showSignIn(let error) = Self.machine(purpose).start(session: nil) else {
                Issue.record("expected the sign-in page for \(purpose)")
                continue
            }
            #expect(error == nil)
        }
    }

    @Test func startWithUsableSessionContinues() throws {
        let session = Self.session(authTime: -60)
        for purpose in [try Self.authorize(), try Self.device()] {
            guard case .continueWithSession(let used) = Self.machine(purpose).start(session: session) else {
                Issue.record("expected to continue with the session for \(purpose)")
                continue
            }
            #expect(used == session)
        }
    }

    @Test func startPromptNoneWithoutSessionIsSentToClient() throws {
        let outcome = Self.machine(try Self.authorize(prompt: [.none])).start(session: nil)
        #expect(Self.sentToClient(outcome)?.0 == 50058)
        #expect(Self.sentToClient(outcome)?.1 == "https://app.example/cb")
    }

    @Test func startSessionTooOldForTheRequestAsksAgainOrFails() throws {
        let old = Self.session(authTime: -600)
        // prompt=login and max_age: the old session does not serve; the page asks again.
        if case .showSignIn = Self.machine(try Self.authorize(prompt: [.login])).start(session: old) {
        } else {
            Issue.record("prompt=login must show the sign-in page")
        }
        if case .showSignIn = Self.machine(try Self.authorize(maxAge: 300)).start(session: old) {
        } else {
            Issue.record("max_age exceeded must show the sign-in page")
        }
        // Within max_age it serves.
        if case .continueWithSession = Self.machine(try Self.authorize(maxAge: 900)).start(session: old) {
        } else {
            Issue.record("within max_age the session serves")
        }
        // prompt=none with a session that does not serve: login_required to the client.
        #expect(Self.sentToClient(Self.machine(try Self.authorize(prompt: [.none], maxAge: 1)).start(session: old))?.0 == 50058)
    }

    // MARK: password

    @Test func passwordRefusedShowsSignInWithTheError() throws {
        let refused = CatalogueError(Catalogue.invalidUserNameOrPassword)
        guard case .showSignIn(let error) = Self.machine(try Self.authorize()).afterPassword(.failure(refused)) else {
            Issue.record("expected the sign-in page again")
            return
        }
        #expect(error?.entry == Catalogue.invalidUserNameOrPassword)
    }

    @Test func passwordAcceptedStartsSessionOrAsksSecondFactor() throws {
        let machine = Self.machine(try Self.authorize())
        guard case .startSession(let user, let amr) = machine.afterPassword(.success(try Self.user(secondFactor: false))) else {
            Issue.record("expected a session")
            return
        }
        #expect(user.id == "u1" && amr == ["pwd"])
        guard case .askSecondFactor(let userID, let error) = machine.afterPassword(.success(try Self.user(secondFactor: true))) else {
            Issue.record("expected the second factor page")
            return
        }
        #expect(userID == "u1" && error == nil)
    }

    // MARK: second factor

    @Test func secondFactorOutcomes() throws {
        let machine = Self.machine(try Self.device())
        guard case .startSession(_, let amr) = machine.afterSecondFactor(.success(try Self.user(secondFactor: true)), userID: "u1") else {
            Issue.record("expected a session")
            return
        }
        #expect(amr == ["pwd", "otp", "mfa"])
        guard
            case .askSecondFactor(let userID, let error) = machine.afterSecondFactor(
                .failure(CatalogueError(Catalogue.invalidVerificationCode)), userID: "u1")
        else {
            Issue.record("a wrong code asks again")
            return
        }
        #expect(userID == "u1" && error?.entry == Catalogue.invalidVerificationCode)
        // Too many codes on this page, or the account locked: the page ends, shown on Gatehouse's page.
        for entry in [Catalogue.tooManyVerificationCodes, Catalogue.userLocked] {
            let outcome = machine.afterSecondFactor(.failure(CatalogueError(entry)), userID: "u1")
            #expect(Self.shownOnPage(outcome)?.0 == entry.number)
            #expect(Self.shownOnPage(outcome)?.1 == true)
        }
    }

    // MARK: after sign-in

    @Test func afterSignInIssuesCodeWhenConsentCovers() throws {
        let session = Self.session(authTime: 1)
        let outcome = Self.machine(try Self.authorize()).afterSignIn(session: session, granted: Scope(tokens: ["openid", "profile", "x"]))
        guard case .issueCode(let remember) = outcome else {
            Issue.record("expected a code")
            return
        }
        #expect(remember == false)
    }

    @Test func afterSignInAsksConsentWhenMissingOrDemanded() throws {
        let session = Self.session(authTime: 1)
        if case .askConsent = Self.machine(try Self.authorize()).afterSignIn(session: session, granted: Scope(tokens: ["openid"])) {
        } else {
            Issue.record("a scope without consent asks")
        }
        let all = Scope(tokens: ["openid", "profile"])
        if case .askConsent = Self.machine(try Self.authorize(prompt: [.consent])).afterSignIn(session: session, granted: all) {
        } else {
            Issue.record("prompt=consent asks even when covered")
        }
        // A device is always confirmed, whatever was consented before.
        if case .askConsent = Self.machine(try Self.device()).afterSignIn(session: session, granted: all) {
        } else {
            Issue.record("a device sign-in always asks")
        }
    }

    @Test func afterSignInPromptNoneWithoutConsentIsSentToClient() throws {
        let outcome = Self.machine(try Self.authorize(prompt: [.none])).afterSignIn(
            session: Self.session(authTime: -10), granted: Scope(tokens: []))
        #expect(Self.sentToClient(outcome)?.0 == 65001)
    }

    // MARK: consent

    @Test func consentWithoutSessionOrRequiredSignInFailsOnPage() throws {
        #expect(Self.shownOnPage(Self.machine(try Self.authorize()).afterConsent(session: nil, allow: true))?.0 == 9900143)
        #expect(Self.shownOnPage(Self.machine(try Self.device()).afterConsent(session: nil, allow: true))?.0 == 9900143)
        // prompt=login: a session older than the request cannot consent for it.
        let old = Self.session(authTime: -60)
        let outcome = Self.machine(try Self.authorize(prompt: [.login])).afterConsent(session: old, allow: true)
        #expect(Self.shownOnPage(outcome)?.0 == 9900143)
        #expect(Self.shownOnPage(outcome)?.1 == false)
    }

    @Test func consentAllowedIssuesOrApprovesAndRemembers() throws {
        let fresh = Self.session(authTime: 5)
        guard case .issueCode(let remember) = Self.machine(try Self.authorize(prompt: [.login])).afterConsent(session: fresh, allow: true)
        else {
            Issue.record("expected a code")
            return
        }
        #expect(remember)
        guard case .approveDevice(let rememberDevice) = Self.machine(try Self.device()).afterConsent(session: fresh, allow: true) else {
            Issue.record("expected the device approved")
            return
        }
        #expect(rememberDevice)
    }

    @Test func consentDeclinedGoesToClientOrDeclinesDevice() throws {
        let fresh = Self.session(authTime: 5)
        #expect(Self.sentToClient(Self.machine(try Self.authorize()).afterConsent(session: fresh, allow: false))?.0 == 65004)
        if case .declineDevice = Self.machine(try Self.device()).afterConsent(session: fresh, allow: false) {
        } else {
            Issue.record("a declined device is recorded as declined")
        }
    }

    /// A device sign-in never sends anything to a redirect URI: it has none.
    @Test func deviceNeverSendsToARedirectURI() throws {
        let machine = Self.machine(try Self.device())
        let session = Self.session(authTime: 5)
        let outcomes = [
            machine.start(session: nil), machine.start(session: session), machine.afterSignIn(session: session, granted: Scope(tokens: [])),
            machine.afterConsent(session: session, allow: false), machine.afterConsent(session: nil, allow: true),
        ]
        #expect(outcomes.allSatisfy { Self.sentToClient($0) == nil })
    }
}
