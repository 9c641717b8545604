import Foundation

/// What the server does next in a sign-in interaction. The server carries it out (pages,
/// sessions, codes, device decisions) and reports back what happened; it decides nothing itself.
public enum InteractionOutcome: Sendable {
    /// Show the sign-in page, with the error of a refused attempt.
    case showSignIn(error: CatalogueError?)
    /// The password was right and the user has a second factor: ask for it.
    case askSecondFactor(userID: String, error: CatalogueError?)
    /// The user proved who they are with `amr`: start a session, then `afterSignIn`.
    case startSession(User, amr: [String])
    /// The user proved who they are with `amr`, but the tenant requires a passkey and they have
    /// none: ask them to register one first (then `startSession`).
    case askPasskeyRegistration(User, amr: [String], error: CatalogueError?)
    /// The browser's session serves this interaction: go on with `afterSignIn`.
    case continueWithSession(BrowserSession)
    /// Ask the user to consent (for a device: to confirm the device).
    case askConsent
    /// Issue the authorization code and send it to the redirect URI; remember the consent first
    /// when the user just gave it.
    case issueCode(rememberConsent: Bool)
    /// Record the device's approval and show that it is done.
    case approveDevice(rememberConsent: Bool)
    /// Record that the user declined the device and show it.
    case declineDevice
    /// Show the error on Gatehouse's own page; `endInteraction` when the page may not be used again.
    case failOnPage(CatalogueError, endInteraction: Bool)
    /// Send the error to the client's redirect URI (RFC 6749 §4.1.2.1).
    case failToClient(CatalogueError, AuthorizationReplyTarget)
}

/// The sign-in interaction as a pure decision over its purpose, the browser's session, the
/// user, the remembered consent and the time (OpenID Connect Core §3.1.2, RFC 8628 §3.3).
///
/// ```
/// start ─ session meets the request ──────────────────────▶ continueWithSession ─▶ afterSignIn
///       ├ prompt=none ────────────────────────────────────▶ failToClient 50058
///       └ otherwise ──────────────────────────────────────▶ showSignIn
/// afterPassword ─ wrong, locked, disabled ────────────────▶ showSignIn(error)
///               ├ right, TOTP or a passkey registered ────▶ askSecondFactor
///               └ right ──────────────────────────────────▶ startSession [pwd] ─▶ afterSignIn
/// afterSecondFactor ─ wrong ──────────────────────────────▶ askSecondFactor(error)
///                   ├ too many for this page, or locked ──▶ failOnPage (page ended)
///                   └ right ──────────────────────────────▶ startSession [pwd otp mfa]
/// afterPasskey ─ on the sign-in page: right ──────────────▶ startSession [hwk|swk user]
///              ├ after the password: right ─────────────▶ startSession [pwd hwk|swk mfa]
///              └ refused ──────────────────────────────▶ showSignIn / askSecondFactor (error)
/// startSession, when the tenant requires a passkey and the user has none
///              ─────────────────────────────────────────▶ askPasskeyRegistration ─ registered ─▶ startSession
/// afterSignIn ─ device ───────────────────────────────────▶ askConsent (always confirmed)
///             ├ prompt=consent, or consent missing and the
///             │ client not first-party ───────────── none ─▶ failToClient 65001
///             │                                 └ else ───▶ askConsent
///             └ consent covers the scopes, or first-party ▶ issueCode
/// afterConsent ─ no session, or not the sign-in demanded ─▶ failOnPage 9900143
///              ├ declined ─ device ───────────────────────▶ declineDevice
///              │          └ authorize ────────────────────▶ failToClient 65004
///              └ allowed ─ device ────────────────────────▶ approveDevice (remember)
///                        └ authorize ─────────────────────▶ issueCode (remember)
/// ```
public struct InteractionMachine: Sendable {
    public let purpose: InteractionPurpose
    /// When the request this interaction serves arrived (`prompt=login`, `max_age`).
    public let startedAt: Date

    public init(purpose: InteractionPurpose, startedAt: Date) {
        self.purpose = purpose
        self.startedAt = startedAt
    }

    /// The request arrived (an authorization request, or a user code entered) with the
    /// browser's valid session, if it has one.
    public func start(session: BrowserSession?) -> InteractionOutcome {
        switch purpose {
        case .authorize(let request):
            if let session, request.isSatisfied(by: session, startedAt: startedAt) { return .continueWithSession(session) }
            if request.prompt.contains(.none) {
                let error = CatalogueError(
                    Catalogue.loginRequired, detail: session == nil ? "no session" : "session not reusable (prompt or max_age)")
                return .failToClient(error, request.reply)
            }
            return .showSignIn(error: nil)
        case .device:
            if let session { return .continueWithSession(session) }
            return .showSignIn(error: nil)
        }
    }

    /// The sign-in page was posted: the user behind the password, or why it was refused.
    /// `hasPasskey`: the user has registered a passkey, which is then their second factor.
    public func afterPassword(_ result: Result<User, CatalogueError>, hasPasskey: Bool = false) -> InteractionOutcome {
        switch result {
        case .failure(let error): return .showSignIn(error: error)
        case .success(let user) where user.requiresSecondFactor || hasPasskey: return .askSecondFactor(userID: user.id, error: nil)
        case .success(let user): return .startSession(user, amr: ["pwd"])
        }
    }

    /// A passkey answered the sign-in page (`pendingUserID` nil: the only factor) or the
    /// second-factor page (after the password of `pendingUserID`). `keyMethod` is RFC 8176's
    /// `hwk` or `swk` (`Passkey.keyMethod`).
    public func afterPasskey(_ result: Result<(User, keyMethod: String), CatalogueError>, pendingUserID: String?) -> InteractionOutcome {
        switch (result, pendingUserID) {
        case (.success(let (user, method)), nil):
            return .startSession(user, amr: [method, "user"])
        case (.success(let (user, method)), .some):
            return .startSession(user, amr: ["pwd", method, "mfa"])
        case (.failure(let error), nil):
            return .showSignIn(error: error)
        case (.failure(let error), .some(let userID)):
            return .askSecondFactor(userID: userID, error: error)
        }
    }

    /// The second-factor page was posted: the user, or why the code was refused.
    public func afterSecondFactor(_ result: Result<User, CatalogueError>, userID: String) -> InteractionOutcome {
        switch result {
        case .success(let user):
            return .startSession(user, amr: ["pwd", "otp", "mfa"])
        case .failure(let error) where error.entry == Catalogue.tooManyVerificationCodes || error.entry == Catalogue.userLocked:
            // This page is used up: the password must be entered again (and the lock holds).
            return .failOnPage(error, endInteraction: true)
        case .failure(let error):
            return .askSecondFactor(userID: userID, error: error)
        }
    }

    /// Before a session starts for `user` signed in with `amr`: a tenant that requires passkeys has
    /// a user without one register one first.
    public func beforeSession(_ user: User, amr: [String], mustRegisterPasskey: Bool) -> InteractionOutcome {
        mustRegisterPasskey ? .askPasskeyRegistration(user, amr: amr, error: nil) : .startSession(user, amr: amr)
    }

    /// The passkey registration page was posted: the session starts with how the user signed in,
    /// or the page is shown again with why the registration was refused.
    public func afterPasskeyRegistration(_ result: Result<User, CatalogueError>, user: User, amr: [String]) -> InteractionOutcome {
        switch result {
        case .success(let user): return .startSession(user, amr: amr)
        case .failure(let error): return .askPasskeyRegistration(user, amr: amr, error: error)
        }
    }

    /// The user is signed in with `session`; `granted` is the consent they gave this client before.
    /// A first-party client (the organisation's own app) needs no consent to the scopes it is
    /// allowed, unless the request says `prompt=consent`.
    public func afterSignIn(session: BrowserSession, granted: Scope, firstParty: Bool = false) -> InteractionOutcome {
        switch purpose {
        case .device:
            // RFC 8628 §5.4: the user confirms the device, not only the scopes.
            return .askConsent
        case .authorize(let request):
            let needsConsent = request.prompt.contains(.consent) || (!firstParty && !request.scope.set.isSubset(of: granted.set))
            guard needsConsent else { return .issueCode(rememberConsent: false) }
            if request.prompt.contains(.none) {
                return .failToClient(CatalogueError(Catalogue.consentRequired, ["clientId": request.clientID.value]), request.reply)
            }
            return .askConsent
        }
    }

    /// The consent page was posted with `allow`, by a browser with `session` (if still valid).
    public func afterConsent(session: BrowserSession?, allow: Bool) -> InteractionOutcome {
        guard let session else {
            return .failOnPage(CatalogueError(Catalogue.interactionExpired, detail: "consent without a session"), endInteraction: false)
        }
        if case .authorize(let request) = purpose, !request.isSatisfied(by: session, startedAt: startedAt) {
            // The request may have demanded a fresh sign-in (prompt=login, max_age).
            return .failOnPage(
                CatalogueError(
                    Catalogue.interactionExpired, detail: "consent without the sign-in the request demanded (prompt or max_age)"),
                endInteraction: false)
        }
        switch (purpose, allow) {
        case (.device, true):
            return .approveDevice(rememberConsent: true)
        case (.device, false):
            return .declineDevice
        case (.authorize, true):
            return .issueCode(rememberConsent: true)
        case (.authorize(let request), false):
            return .failToClient(
                CatalogueError(Catalogue.consentDeclined, ["clientId": request.clientID.value], detail: "user \(session.userID) declined"),
                request.reply)
        }
    }
}
