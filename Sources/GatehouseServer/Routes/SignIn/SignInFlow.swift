import Foundation
import GatehouseCore
import Hummingbird

/// Carries out what the interaction machine (`InteractionMachine`, Core) decides: it renders the
/// sign-in, second-factor and consent pages, starts sessions, issues codes, records device
/// decisions and sends errors; it decides nothing itself. Each page carries the interaction id
/// and a CSRF token; the browser carries a binding cookie. All three are checked on every POST.
struct SignInFlow: Sendable {
    let env: SignInEnvironment

    /// One request of an interaction, as the flow answers it.
    struct Exchange {
        let request: Request
        let context: GatehouseContext
        let language: String
        let client: Client
        let machine: InteractionMachine
        /// The interaction the request posted to, while it is not finished.
        var interaction: (id: String, csrf: String, value: Interaction)?
        /// The sign-in log step of an error sent to the client.
        var failureStep = "authorize"
        /// The username typed on the sign-in page (shown again after a refusal).
        var username = ""
        /// The tenant (its sign-in options and branding), resolved when the first page is drawn.
        var tenant: Tenant?
        /// Whether the tenant lets users sign in with their email address (the field's label).
        var emailSignIn: Bool { tenant?.emailSignIn ?? false }
        var setCookies: [Cookie] = []
        /// The session the user is signed in with, once known.
        var signedInSession: BrowserSession?

        var purpose: InteractionPurpose { machine.purpose }
    }

    /// Carries out `outcome`, and what the machine decides after it, until a response.
    func carryOut(_ outcome: InteractionOutcome, _ exchange: Exchange) async throws -> Response {
        var exchange = exchange
        var response: Response
        // Its sign-in options (the field asks for an address too where users sign in with one) and branding.
        if exchange.tenant == nil { exchange.tenant = try? await env.tenants.resolve(exchange.purpose.tenant.value) }
        switch outcome {
        case .showSignIn(let error):
            if let (id, csrf, _) = exchange.interaction, error != nil {
                response = try await loginPage(exchange, interactionID: id, csrf: csrf, username: exchange.username, error: error)
            } else {
                let (id, csrf, cookies) = try await newInteraction(exchange, stage: .password)
                exchange.setCookies += cookies
                response = try await loginPage(
                    exchange, interactionID: id, csrf: csrf, username: exchange.purpose.loginHint ?? "", error: nil)
            }
        case .askSecondFactor(let userID, let error):
            exchange.context.notes.update { $0.userID = userID }
            guard let (id, csrf, interaction) = exchange.interaction else {
                throw CatalogueError(Catalogue.interactionExpired, detail: "second factor without an interaction")
            }
            if error == nil {
                var next = interaction
                next.pendingUserID = userID
                next.stage = .secondFactor
                try await env.state.save(next, id: id)
                record(
                    exchange, step: "sign_in", failure: nil, scopes: false, detail: "password ok for user \(userID), second factor pending")
            }
            response = try await totpPage(exchange, userID: userID, interactionID: id, csrf: csrf, error: error)
        case .askPasskeyRegistration(let user, let amr, let error):
            exchange.context.notes.update { $0.userID = user.id }
            guard let (id, csrf, interaction) = exchange.interaction else {
                throw CatalogueError(Catalogue.interactionExpired, detail: "passkey registration without an interaction")
            }
            if error == nil {
                var next = interaction
                next.pendingUserID = user.id
                next.pendingAMR = amr
                next.stage = .passkeyRegistration
                try await env.state.save(next, id: id)
                record(
                    exchange, step: "sign_in", failure: nil, scopes: false,
                    detail: "user \(user.id) signed in (\(amr.joined(separator: " "))); the tenant requires a passkey: registration pending"
                )
            }
            response = try await passkeyRegistrationPage(exchange, user: user, interactionID: id, csrf: csrf, error: error)
        case .startSession(let user, let amr):
            if exchange.tenant?.passkeyPolicy.required == true, exchange.interaction != nil,
                try await env.passkeys.store.passkeyCount(tenant: exchange.client.tenant, userID: user.id) == 0
            {
                return try await carryOut(exchange.machine.beforeSession(user, amr: amr, mustRegisterPasskey: true), exchange)
            }
            exchange.context.notes.update { $0.userID = user.id }
            let tenant = exchange.client.tenant.value
            if let previous = exchange.request.cookies[SignInEnvironment.sessionCookie]?.value {
                let ended = try await env.state.session(cookie: previous, now: env.time.now())
                try await env.state.endSession(cookie: previous)
                // The session this sign-in replaces (another account, prompt=login) ends for its
                // relying parties too.
                if let ended {
                    try await BackchannelLogout.queue(
                        tenant: ended.tenant, userID: ended.userID, sid: ended.sid, reason: .replaced, in: env.logouts,
                        now: env.time.now(), random: env.random)
                }
            }
            let (cookie, session) = try await env.startSession(
                user: user, tenant: tenant, amr: amr, clientIP: env.throttles.source(exchange.request, context: exchange.context),
                userAgent: exchange.request.headers[.userAgent])
            record(
                exchange, step: "sign_in", failure: nil, scopes: false, detail: "user \(user.id) signed in (\(amr.joined(separator: " ")))")
            exchange.setCookies.append(
                env.cookie(SignInEnvironment.sessionCookie, value: cookie, tenant: tenant, maxAge: Int(env.policy.sessionLifetime)))
            exchange.setCookies.append(
                env.deviceCookie(for: user, tenant: tenant, current: env.familiarDevice(exchange.request, tenant: tenant)))
            return try await signedIn(session, exchange)
        case .continueWithSession(let session):
            return try await signedIn(session, exchange)
        case .askConsent:
            if let (id, _, _) = exchange.interaction { _ = try await env.state.finish(interactionID: id, now: env.time.now()) }
            let (id, csrf, cookies) = try await newInteraction(exchange, stage: .consent)
            exchange.setCookies += cookies
            let user = try await env.users.user(tenant: exchange.client.tenant, id: try session(exchange).userID)
            response = try await consentPage(exchange, user: user, interactionID: id, csrf: csrf)
        case .issueCode(let rememberConsent):
            guard case .authorize(let authorization) = exchange.purpose else {
                throw CatalogueError(Catalogue.interactionExpired, detail: "a code for a device sign-in")
            }
            guard try await finishInteraction(exchange) else {
                return env.pages.errorPage(
                    CatalogueError(Catalogue.interactionExpired, detail: "interaction used twice"), language: exchange.language,
                    context: exchange.context)
            }
            let session = try session(exchange)
            if rememberConsent { try await remember(exchange, session: session) }
            let code = try await env.codes.issue(for: authorization, client: exchange.client, session: session, scope: authorization.scope)
            // The user's step: after the consent page it is the consent (the code follows from it).
            exchange.context.notes.update { $0.userID = session.userID }
            record(
                exchange, step: rememberConsent ? "consent" : "authorize", failure: nil, detail: "code issued for user \(session.userID)")
            response = env.reply.success(code: code, target: authorization.reply, issuer: authorization.issuer, language: exchange.language)
        case .approveDevice(let rememberConsent):
            guard case .device(let approval) = exchange.purpose else {
                throw CatalogueError(Catalogue.interactionExpired, detail: "a device approval for an authorization request")
            }
            let session = try session(exchange)
            if rememberConsent { try await remember(exchange, session: session) }
            // Device sign-in: no code and no redirect; the device's next poll takes the approval.
            try await env.devices.decide(key: approval.deviceKey, approvedBy: session, now: env.time.now())
            exchange.context.notes.update { $0.userID = session.userID }
            record(exchange, step: "device_approval", failure: nil, detail: "device approved by user \(session.userID)")
            let pages = env.pages
            response = pages.notice(
                pages.ui("deviceTitle", exchange.language),
                pages.ui("deviceApproved", exchange.language, ["client": exchange.client.shownName(redirectURI: nil)]),
                language: exchange.language, tenant: exchange.tenant)
        case .declineDevice:
            guard case .device(let approval) = exchange.purpose else {
                throw CatalogueError(Catalogue.interactionExpired, detail: "a device decision for an authorization request")
            }
            let session = try session(exchange)
            try await env.devices.decide(key: approval.deviceKey, approvedBy: nil, now: env.time.now())
            let error = CatalogueError(Catalogue.deviceAuthorizationDeclined, detail: "user \(session.userID) declined the device")
            record(exchange, step: "device_approval", failure: error)
            let pages = env.pages
            response = pages.notice(
                pages.ui("deviceTitle", exchange.language), pages.ui("deviceDeclined", exchange.language), language: exchange.language,
                tenant: exchange.tenant)
        case .failOnPage(let error, let endInteraction):
            if endInteraction { _ = try await finishInteraction(exchange) }
            response = env.pages.errorPage(error, language: exchange.language, context: exchange.context, tenant: exchange.tenant)
        case .failToClient(let error, let target):
            guard case .authorize(let authorization) = exchange.purpose else {
                return env.pages.errorPage(error, language: exchange.language, context: exchange.context, tenant: exchange.tenant)
            }
            record(exchange, step: exchange.failureStep, failure: error)
            response = env.reply.failure(
                error, target: target, issuer: authorization.issuer, language: exchange.language, context: exchange.context)
        }
        for cookie in exchange.setCookies { response.setCookie(cookie) }
        return response
    }

    // MARK: Steps with I/O

    /// The user is signed in: read the consent they gave before and let the machine decide.
    private func signedIn(_ session: BrowserSession, _ exchange: Exchange) async throws -> Response {
        var exchange = exchange
        exchange.signedInSession = session
        exchange.context.notes.update { $0.userID = session.userID }
        let granted = try await env.state.consent(
            tenant: exchange.client.tenant.value, userID: session.userID, clientID: exchange.client.id.value, now: env.time.now())
        return try await carryOut(
            exchange.machine.afterSignIn(session: session, granted: granted, firstParty: exchange.client.firstParty), exchange)
    }

    private func session(_ exchange: Exchange) throws -> BrowserSession {
        guard let session = exchange.signedInSession else {
            throw CatalogueError(Catalogue.interactionExpired, detail: "no signed-in session at this step")
        }
        return session
    }

    /// Ends the interaction the request posted to (single use); true when there was none.
    private func finishInteraction(_ exchange: Exchange) async throws -> Bool {
        guard let (id, _, _) = exchange.interaction else { return true }
        return try await env.state.finish(interactionID: id, now: env.time.now())
    }

    private func remember(_ exchange: Exchange, session: BrowserSession) async throws {
        let now = env.time.now()
        let tenant = exchange.client.tenant.value
        let clientID = exchange.client.id.value
        let previous = try await env.state.consent(tenant: tenant, userID: session.userID, clientID: clientID, now: now)
        try await env.state.saveConsent(
            Scope(tokens: previous.tokens + exchange.purpose.scope.tokens), tenant: tenant, userID: session.userID, clientID: clientID,
            now: now, expiresAt: now.addingTimeInterval(env.policy.consentLifetime))
    }

    /// A new interaction for this browser at `stage`; returns its id, CSRF token and the cookies to set.
    private func newInteraction(_ exchange: Exchange, stage: Interaction.Stage) async throws -> (
        id: String, csrf: String, cookies: [Cookie]
    ) {
        var cookies: [Cookie] = []
        let binding: String
        if let existing = exchange.request.cookies[SignInEnvironment.browserCookie]?.value, existing.utf8.count >= 32 {
            binding = existing
        } else {
            binding = env.random.token()
            cookies.append(
                env.cookie(SignInEnvironment.browserCookie, value: binding, tenant: exchange.purpose.tenant.value, maxAge: nil))
        }
        let id = env.random.token()
        let csrf = env.random.token()
        let interaction = Interaction(
            purpose: exchange.purpose, csrfHash: env.hasher.hash(csrf), bindingHash: env.hasher.hash(binding),
            stage: stage, startedAt: exchange.machine.startedAt,
            expiresAt: env.time.now().addingTimeInterval(env.policy.interactionLifetime))
        try await env.state.save(interaction, id: id)
        return (id, csrf, cookies)
    }

    private func record(_ exchange: Exchange, step: String, failure: CatalogueError?, scopes: Bool = true, detail: String? = nil) {
        env.record(
            exchange.request, context: exchange.context, tenant: exchange.purpose.tenant.value, clientID: exchange.client.id.value,
            step: step, scopes: scopes ? exchange.purpose.scope.description : nil, failure: failure, detail: detail)
    }

    // MARK: Pages

    private func action(_ exchange: Exchange, _ path: String) -> String {
        env.configuration.endpoint(exchange.purpose.tenant.value, path)
    }

    /// What the challenge of a sign-in page's passkey form is bound to: the page's interaction.
    static func passkeyBinding(interactionID: String) -> String { "sign-in " + interactionID }

    /// The passkey form's data, with a fresh challenge bound to the interaction (`userID` and
    /// `allow` on the second-factor page: only the user's own credentials), and the script's nonce.
    func passkeyForm(_ exchange: Exchange, interactionID: String, userID: String?, allow: [String], refused: Bool) async throws -> (
        view: [String: Any], nonce: String
    ) {
        let pages = env.pages
        let language = exchange.language
        let challenge = try await env.passkeys.newChallenge(binding: Self.passkeyBinding(interactionID: interactionID), userID: userID)
        let nonce = env.random.token(byteCount: 16)
        let policy = exchange.tenant?.passkeyPolicy ?? PasskeyPolicy()
        let view: [String: Any] = [
            "action": action(exchange, "oauth2/login/passkey"), "mode": userID == nil ? "signin" : "second", "challenge": challenge,
            "rpID": env.configuration.passkeyRPID, "uv": policy.userVerification.rawValue, "allow": allow.joined(separator: " "),
            "failText": pages.ui("passkey.failed", language), "nonce": nonce, "script": PasskeyScript.source,
            "label": pages.ui(userID == nil ? "passkey.signIn" : "passkey.useAsSecond", language),
            "buttonClass": userID == nil ? "secondary" : "", "conditional": refused ? "off" : "on",
        ]
        return (view, nonce)
    }

    func loginPage(_ exchange: Exchange, interactionID: String, csrf: String, username: String, error: CatalogueError?) async throws
        -> Response
    {
        let pages = env.pages
        let language = exchange.language
        let passkey = try await passkeyForm(exchange, interactionID: interactionID, userID: nil, allow: [], refused: error != nil)
        let body = pages.login.render([
            "passkey": passkey.view,
            "brand": pages.brand(exchange.tenant, language: language),
            "language": language, "title": pages.ui("signInTitle", language),
            "heading": pages.ui("signInHeading", language, ["client": exchange.client.shownName(redirectURI: exchange.purpose.formTarget)]),
            "error": pages.alert(error, language: language, context: exchange.context) as Any,
            "action": action(exchange, "oauth2/login"), "interaction": interactionID, "csrf": csrf, "username": username,
            "focusUsername": username.isEmpty || error != nil,
            "labelUsername": pages.ui(exchange.emailSignIn ? "usernameOrEmail" : "username", language),
            "labelPassword": pages.ui("password", language),
            "labelSubmit": pages.ui("signInButton", language),
            "forgotURL": env.mailEnabled
                ? AccountMailRoutes.forgotURL(env.configuration, tenant: exchange.purpose.tenant, language: language) : "",
            "labelForgot": pages.ui("forgotPasswordLink", language),
            "registerURL": env.mailEnabled && exchange.tenant?.registration == .open
                ? RegistrationRoutes.url(env.configuration, tenant: exchange.purpose.tenant, language: language) : "",
            "labelRegister": pages.ui("register.link", language),
        ])
        return pages.html(
            body, status: error == nil ? .ok : .badRequest, formTarget: exchange.purpose.formTarget, scriptNonce: passkey.nonce)
    }

    /// A passkey's suggested name: the browser and system it is made on ("Chrome · Linux").
    static func passkeyName(userAgent: String?) -> String {
        let device = DeviceSummary.parse(userAgent)
        return [device.browser, device.system].compactMap { $0 }.joined(separator: " · ")
    }

    /// The tenant requires a passkey and the signed-in user has none: register one before the session.
    func passkeyRegistrationPage(_ exchange: Exchange, user: User, interactionID: String, csrf: String, error: CatalogueError?)
        async throws -> Response
    {
        let pages = env.pages
        let language = exchange.language
        let t = { (key: String) in pages.ui("account.\(key)", language) }
        let policy = exchange.tenant?.passkeyPolicy ?? PasskeyPolicy()
        let challenge = try await env.passkeys.newChallenge(binding: Self.passkeyBinding(interactionID: interactionID), userID: user.id)
        let nonce = env.random.token(byteCount: 16)
        let body = pages.addPasskey.render([
            "language": language, "title": pages.ui("signInTitle", language), "heading": t("addPasskeyTitle"),
            "intro": pages.ui("passkey.requiredIntro", language), "brand": pages.brand(exchange.tenant, language: language),
            "error": pages.alert(error, language: language, context: exchange.context) as Any,
            "action": action(exchange, "oauth2/login/passkey/register"), "csrf": csrf, "interaction": interactionID,
            "challenge": challenge, "rpID": env.configuration.passkeyRPID, "rpName": exchange.tenant?.displayName ?? user.tenant.value,
            "userID": user.id, "userName": user.username.value, "userDisplay": user.displayName,
            "uv": policy.userVerification.rawValue, "attestation": policy.attestation == .required ? "direct" : "none", "exclude": "",
            "failText": pages.ui("passkey.failed", language), "nameLabel": t("passkeyName"),
            "name": Self.passkeyName(userAgent: exchange.request.headers[.userAgent]),
            "submit": t("createPasskey"), "noScript": t("noScript"), "nonce": nonce, "script": PasskeyScript.source,
        ])
        return pages.html(
            body, status: error == nil ? .ok : .badRequest, formTarget: exchange.purpose.formTarget, scriptNonce: nonce)
    }

    /// The second-factor page: the TOTP form where the user has an authenticator app, the passkey
    /// button (the user's own credentials only) where they have passkeys.
    func totpPage(_ exchange: Exchange, userID: String, interactionID: String, csrf: String, error: CatalogueError?) async throws
        -> Response
    {
        let pages = env.pages
        let language = exchange.language
        let user = try await env.users.user(tenant: exchange.client.tenant, id: userID)
        let allow = try await env.passkeys.store.passkeys(tenant: exchange.client.tenant, userID: userID).map(\.credentialID)
        let passkey =
            allow.isEmpty
            ? nil : try await passkeyForm(exchange, interactionID: interactionID, userID: userID, allow: allow, refused: error != nil)
        let body = pages.totp.render([
            "passkey": passkey?.view as Any, "hasTOTP": user?.sealedTOTPSecret != nil || allow.isEmpty,
            "passkeyOnlyHint": pages.ui("passkey.secondFactorHint", language),
            "brand": pages.brand(exchange.tenant, language: language),
            "language": language, "title": pages.ui("signInTitle", language),
            "heading": pages.ui(user?.sealedTOTPSecret == nil && !allow.isEmpty ? "passkey.secondFactorHeading" : "totpHeading", language),
            "error": pages.alert(error, language: language, context: exchange.context) as Any,
            "action": action(exchange, "oauth2/login/totp"), "interaction": interactionID, "csrf": csrf,
            "labelCode": pages.ui("totpLabel", language), "labelSubmit": pages.ui("verifyButton", language),
            "recoveryHint": pages.ui("totpRecoveryHint", language),
        ])
        return pages.html(
            body, status: error == nil ? .ok : .badRequest, formTarget: exchange.purpose.formTarget, scriptNonce: passkey?.nonce)
    }

    /// The requested scopes as the consent page shows them: each API the tokens will be for (its
    /// display name and identifier) with the permissions asked of it, by the API's own
    /// descriptions in the user's language (`api://orders/Orders.Read`, or `Orders.Read` with the
    /// API as `resource`); every other scope by its text (`scope.openid`, …, `scope.other`).
    func consentLines(_ exchange: Exchange) async throws -> (scopes: [String], apis: [[String: Any]]) {
        let pages = env.pages
        let language = exchange.language
        var apis: [API] = []
        for value in exchange.purpose.audience {
            if let api = try await env.apis.api(tenant: exchange.client.tenant, named: value), !apis.contains(api) {
                apis.append(api)
            }
        }
        var general: [String] = []
        var asked: [ClientID: [String]] = [:]
        for token in exchange.purpose.scope.tokens {
            let described = apis.lazy.compactMap { api -> (ClientID, String)? in
                var name = token
                if let slash = token.lastIndex(of: "/") {
                    guard api.isNamed(by: String(token[..<slash])) else { return nil }
                    name = String(token[token.index(after: slash)...])
                }
                return api.permission(name).map { (api.applicationID, $0.description(in: language)) }
            }.first
            if let (api, text) = described {
                asked[api, default: []].append(text)
                continue
            }
            let key = "scope.\(token)"
            let text = pages.texts.ui(key, language: language)
            general.append(text == key || text.isEmpty ? pages.ui("scope.other", language, ["scope": token]) : text)
        }
        let sections: [[String: Any]] = apis.compactMap { api in
            guard let permissions = asked[api.applicationID] else { return nil }
            return [
                "heading": pages.ui("consentAPI", language, ["api": api.displayName]),
                "identifier": api.identifiers.first?.value ?? api.applicationID.value, "permissions": permissions,
            ]
        }
        return (general, sections)
    }

    func consentPage(_ exchange: Exchange, user: User?, interactionID: String, csrf: String) async throws -> Response {
        let pages = env.pages
        let language = exchange.language
        let client = exchange.client
        let (scopes, apis) = try await consentLines(exchange)
        let intro: String
        switch exchange.purpose {
        case .authorize: intro = "consentIntro"
        case .device: intro = "deviceWarning"
        }
        // A client nobody vetted is named by its host; the name it gave itself only beside it.
        let unverifiedHost = client.unverifiedHost(redirectURI: exchange.purpose.formTarget)
        let shownName = unverifiedHost ?? client.name
        let body = pages.consent.render([
            "brand": pages.brand(exchange.tenant, language: language),
            "language": language, "title": pages.ui("signInTitle", language),
            "heading": pages.ui("consentHeading", language, ["client": shownName]),
            "unverified": unverifiedHost.map { _ in pages.ui("consentUnverifiedName", language, ["client": client.name]) } ?? "",
            "intro": pages.ui(intro, language, ["client": shownName, "user": user?.username.value ?? ""]),
            "scopes": scopes, "apis": apis, "action": action(exchange, "oauth2/consent"), "interaction": interactionID, "csrf": csrf,
            "labelAllow": pages.ui("allowButton", language), "labelDeny": pages.ui("denyButton", language),
        ])
        return pages.html(body, formTarget: exchange.purpose.formTarget)
    }
}
