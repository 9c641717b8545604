import Foundation
import GatehouseCore
import Hummingbird

/// The steps after the authorization request was accepted: sign-in page, second factor,
/// consent, code. Each page carries the interaction id and a CSRF token; the browser carries a
/// binding cookie. All three are checked on every POST.
struct SignInFlow: Sendable {
    let env: SignInEnvironment

    private func issuer(_ request: AuthorizationRequest) -> String { request.issuer ?? env.configuration.issuer(request.tenant) }
    private func action(_ request: AuthorizationRequest, _ path: String) -> String { env.configuration.endpoint(request.tenant, path) }

    /// A new interaction for this browser at `stage`; returns its id, CSRF token and the cookies to set.
    func newInteraction(
        _ authorization: AuthorizationRequest, stage: Interaction.Stage, startedAt: Date,
        request: Request
    ) async throws -> (id: String, csrf: String, cookies: [Cookie]) {
        var cookies: [Cookie] = []
        let binding: String
        if let existing = request.cookies[SignInEnvironment.browserCookie]?.value, existing.utf8.count >= 32 {
            binding = existing
        } else {
            binding = env.random.token()
            cookies.append(env.cookie(SignInEnvironment.browserCookie, value: binding, tenant: authorization.tenant, maxAge: nil))
        }
        let id = env.random.token()
        let csrf = env.random.token()
        let interaction = Interaction(
            request: authorization, csrfHash: env.hasher.hash(csrf), bindingHash: env.hasher.hash(binding),
            stage: stage, startedAt: startedAt, expiresAt: env.time.now().addingTimeInterval(env.policy.interactionLifetime))
        try await env.state.save(interaction, id: id)
        return (id, csrf, cookies)
    }

    func startLogin(_ authorization: AuthorizationRequest, client: Client, request: Request, context: GatehouseContext, language: String)
        async throws -> Response
    {
        let (id, csrf, cookies) = try await newInteraction(authorization, stage: .password, startedAt: env.time.now(), request: request)
        var response = loginPage(
            authorization, client: client, interactionID: id, csrf: csrf, username: authorization.loginHint ?? "",
            error: nil, language: language, context: context)
        for cookie in cookies { response.setCookie(cookie) }
        return response
    }

    func loginPage(
        _ authorization: AuthorizationRequest, client: Client, interactionID: String, csrf: String, username: String,
        error: CatalogueError?, language: String, context: GatehouseContext
    ) -> Response {
        let pages = env.pages
        let body = pages.login.render([
            "language": language, "title": pages.ui("signInTitle", language),
            "heading": pages.ui("signInHeading", language, ["client": client.name]),
            "error": pages.alert(error, language: language, context: context) as Any,
            "action": action(authorization, "oauth2/login"), "interaction": interactionID, "csrf": csrf, "username": username,
            "focusUsername": username.isEmpty || error != nil,
            "labelUsername": pages.ui("username", language), "labelPassword": pages.ui("password", language),
            "labelSubmit": pages.ui("signInButton", language),
        ])
        return pages.html(body, status: error == nil ? .ok : .badRequest, formTarget: authorization.reply.redirectURI)
    }

    func totpPage(
        _ authorization: AuthorizationRequest, interactionID: String, csrf: String, error: CatalogueError?, language: String,
        context: GatehouseContext
    ) -> Response {
        let pages = env.pages
        let body = pages.totp.render([
            "language": language, "title": pages.ui("signInTitle", language), "heading": pages.ui("totpHeading", language),
            "error": pages.alert(error, language: language, context: context) as Any,
            "action": action(authorization, "oauth2/login/totp"), "interaction": interactionID, "csrf": csrf,
            "labelCode": pages.ui("totpLabel", language), "labelSubmit": pages.ui("verifyButton", language),
        ])
        return pages.html(body, status: error == nil ? .ok : .badRequest, formTarget: authorization.reply.redirectURI)
    }

    func consentPage(
        _ authorization: AuthorizationRequest, client: Client, user: User?, interactionID: String, csrf: String, language: String
    ) -> Response {
        let pages = env.pages
        let scopes = authorization.scope.map { scope in
            let key = "scope.\(scope)"
            let text = pages.texts.ui(key, language: language)
            return text == key || text.isEmpty ? pages.ui("scope.other", language, ["scope": scope]) : text
        }
        let intro = authorization.deviceKey == nil ? "consentIntro" : "deviceWarning"
        let body = pages.consent.render([
            "language": language, "title": pages.ui("signInTitle", language),
            "heading": pages.ui("consentHeading", language, ["client": client.name]),
            "intro": pages.ui(intro, language, ["client": client.name, "user": user?.username.value ?? ""]),
            "scopes": scopes, "action": action(authorization, "oauth2/consent"), "interaction": interactionID, "csrf": csrf,
            "labelAllow": pages.ui("allowButton", language), "labelDeny": pages.ui("denyButton", language),
        ])
        return pages.html(body, formTarget: authorization.reply.redirectURI)
    }

    /// The user is signed in: ask for consent if needed, else issue the code. `startedAt` is when
    /// the authorization request arrived (the consent step checks the sign-in against it).
    func afterAuthentication(
        _ authorization: AuthorizationRequest, client: Client, session: BrowserSession, interactionID: String?,
        startedAt: Date, request: Request, context: GatehouseContext, language: String,
        setCookies: [Cookie]
    ) async throws -> Response {
        let now = env.time.now()
        let reply = env.reply
        let granted = try await env.state.consent(tenant: authorization.tenant, userID: session.userID, clientID: client.id.value, now: now)
        // A device sign-in always asks (RFC 8628 §5.4: the user confirms the device, not only the scopes).
        let needsConsent =
            authorization.deviceKey != nil || authorization.prompt.contains("consent")
            || !authorization.scopeValue.set.isSubset(of: granted.set)
        var response: Response
        if needsConsent {
            if authorization.prompt.contains("none") {
                let error = CatalogueError(Catalogue.consentRequired, ["clientId": client.id.value])
                env.record(
                    request, context: context, tenant: authorization.tenant, clientID: client.id.value, step: "authorize",
                    scopes: authorization.scopeValue.description, failure: error)
                response = reply.failure(
                    error, target: authorization.reply, issuer: issuer(authorization), language: language, context: context)
            } else {
                if let interactionID { _ = try await env.state.finish(interactionID: interactionID, now: now) }
                let (id, csrf, cookies) = try await newInteraction(authorization, stage: .consent, startedAt: startedAt, request: request)
                let user = try await env.users.user(tenant: client.tenant, id: session.userID)
                response = consentPage(authorization, client: client, user: user, interactionID: id, csrf: csrf, language: language)
                for cookie in cookies { response.setCookie(cookie) }
            }
        } else {
            if let interactionID, !(try await env.state.finish(interactionID: interactionID, now: now)) {
                return env.pages.errorPage(
                    CatalogueError(Catalogue.interactionExpired, detail: "interaction used twice"), language: language, context: context)
            }
            response = try await issueCode(
                authorization, client: client, session: session, request: request, context: context, language: language)
        }
        for cookie in setCookies { response.setCookie(cookie) }
        return response
    }

    func issueCode(
        _ authorization: AuthorizationRequest, client: Client, session: BrowserSession, request: Request, context: GatehouseContext,
        language: String
    ) async throws -> Response {
        if let deviceKey = authorization.deviceKey {
            // Device sign-in: no code and no redirect; the device's next poll takes the approval.
            try await env.devices.decide(key: deviceKey, approvedBy: session, now: env.time.now())
            env.record(
                request, context: context, tenant: authorization.tenant, clientID: client.id.value, step: "device_approval",
                scopes: authorization.scopeValue.description, failure: nil, detail: "device approved by user \(session.userID)")
            return env.pages.notice(
                env.pages.ui("deviceTitle", language), env.pages.ui("deviceApproved", language, ["client": client.name]), language: language
            )
        }
        let code = try await env.codes.issue(for: authorization, client: client, session: session, scope: authorization.scopeValue)
        env.record(
            request, context: context, tenant: authorization.tenant, clientID: client.id.value, step: "authorize",
            scopes: authorization.scopeValue.description, failure: nil, detail: "code issued for user \(session.userID)")
        return env.reply
            .success(code: code, target: authorization.reply, issuer: issuer(authorization), language: language)
    }
}
