import Foundation
import GatehouseCore
import Hummingbird

/// The POST targets of the sign-in pages: password, second factor, consent.
struct SignInFormRoutes: Sendable {
    let env: SignInEnvironment

    func register(on router: some RouterMethods<GatehouseContext>) {
        router.post("/:tenant/oauth2/login") { request, context in
            try await self.run(request, context: context, stage: .password, step: self.password)
        }
        router.post("/:tenant/oauth2/login/totp") { request, context in
            try await self.run(request, context: context, stage: .secondFactor, step: self.secondFactor)
        }
        router.post("/:tenant/oauth2/consent") { request, context in
            try await self.run(request, context: context, stage: .consent, step: self.consent)
        }
    }

    /// A checked form post: its interaction exists, belongs to this browser, carries its CSRF
    /// token and was made by this step's own page.
    struct Checked {
        let form: FormParameters
        let interactionID: String
        let csrf: String
        var interaction: Interaction
        let client: Client
        let language: String
    }

    typealias Step = @Sendable (Checked, Request, GatehouseContext) async throws -> Response

    private func run(_ request: Request, context: GatehouseContext, stage: Interaction.Stage, step: Step) async throws -> Response {
        let segment = context.parameters.get("tenant") ?? ""
        var language = env.pages.texts.language(for: request)
        do {
            let tenant = try await env.tenants.resolve(segment)
            let form = try await FormBody.read(request, limit: env.configuration.maxBodySize)
            let id = try form.require("interaction")
            guard let interaction = try await env.state.interaction(id: id, now: env.time.now()),
                interaction.request.tenant == tenant.name.value
            else {
                throw CatalogueError(Catalogue.interactionExpired, detail: "unknown or expired interaction")
            }
            language = env.pages.texts.language(for: request, formUILocales: interaction.request.uiLocales)
            let binding = request.cookies[SignInEnvironment.browserCookie]?.value ?? ""
            let csrf = form["csrf"] ?? ""
            guard env.hasher.matches(binding, storedHash: interaction.bindingHash),
                env.hasher.matches(csrf, storedHash: interaction.csrfHash)
            else {
                throw CatalogueError(Catalogue.csrfCheckFailed, detail: "binding cookie or CSRF token mismatch")
            }
            guard interaction.stage == stage else {
                throw CatalogueError(
                    Catalogue.interactionExpired, detail: "a \(interaction.stage.rawValue) page posted to the \(stage.rawValue) step")
            }
            guard let client = try await env.client(tenant.name, try ClientID(interaction.request.clientID)) else {
                throw CatalogueError(
                    Catalogue.applicationNotFound, ["clientId": interaction.request.clientID, "tenant": tenant.name.value])
            }
            return try await step(
                Checked(form: form, interactionID: id, csrf: csrf, interaction: interaction, client: client, language: language), request,
                context)
        } catch let error as CatalogueError {
            env.record(request, context: context, tenant: segment, clientID: nil, step: "sign_in", scopes: nil, failure: error)
            return env.pages.errorPage(error, language: language, context: context)
        }
    }

    private func password(_ checked: Checked, _ request: Request, _ context: GatehouseContext) async throws -> Response {
        let flow = SignInFlow(env: env)
        let authorization = checked.interaction.request
        let username = checked.form["username"] ?? ""
        let tenant = checked.client.tenant
        do {
            let user = try await env.passwords.verify(tenant: tenant, username: username, password: checked.form["password"] ?? "")
            if user.requiresSecondFactor {
                var interaction = checked.interaction
                interaction.pendingUserID = user.id
                interaction.stage = .secondFactor
                try await env.state.save(interaction, id: checked.interactionID)
                env.record(
                    request, context: context, tenant: tenant.value, clientID: checked.client.id.value, step: "sign_in", scopes: nil,
                    failure: nil, detail: "password ok for user \(user.id), second factor pending")
                return flow.totpPage(
                    authorization, interactionID: checked.interactionID, csrf: checked.csrf, error: nil, language: checked.language,
                    context: context)
            }
            return try await signedIn(user, amr: ["pwd"], checked, request, context)
        } catch let error as CatalogueError {
            env.record(
                request, context: context, tenant: tenant.value, clientID: checked.client.id.value, step: "sign_in", scopes: nil,
                failure: error)
            return flow.loginPage(
                authorization, client: checked.client, interactionID: checked.interactionID, csrf: checked.csrf,
                username: username, error: error, language: checked.language, context: context)
        }
    }

    private func secondFactor(_ checked: Checked, _ request: Request, _ context: GatehouseContext) async throws -> Response {
        let flow = SignInFlow(env: env)
        let tenant = checked.client.tenant
        guard let userID = checked.interaction.pendingUserID, let user = try await env.users.user(tenant: tenant, id: userID), user.enabled
        else {
            throw CatalogueError(Catalogue.interactionExpired, detail: "no password step before the second factor")
        }
        do {
            try await env.passwords.verifyTOTP(
                checked.form["otp"] ?? "", user: user, interaction: env.hasher.hash(checked.interactionID),
                box: env.box, generator: env.totp, replay: env.replay)
        } catch let error as CatalogueError {
            env.record(
                request, context: context, tenant: tenant.value, clientID: checked.client.id.value, step: "sign_in_totp", scopes: nil,
                failure: error)
            if error.entry == Catalogue.tooManyVerificationCodes || error.entry == Catalogue.userLocked {
                // This page is used up: the password must be entered again (and the lock holds).
                _ = try await env.state.finish(interactionID: checked.interactionID, now: env.time.now())
                return env.pages.errorPage(error, language: checked.language, context: context)
            }
            return flow.totpPage(
                checked.interaction.request, interactionID: checked.interactionID, csrf: checked.csrf, error: error,
                language: checked.language, context: context)
        }
        return try await signedIn(user, amr: ["pwd", "otp", "mfa"], checked, request, context)
    }

    private func signedIn(_ user: User, amr: [String], _ checked: Checked, _ request: Request, _ context: GatehouseContext) async throws
        -> Response
    {
        let tenant = checked.client.tenant.value
        if let previous = request.cookies[SignInEnvironment.sessionCookie]?.value { try await env.state.endSession(cookie: previous) }
        let (cookie, session) = try await env.startSession(user: user, tenant: tenant, amr: amr)
        env.record(
            request, context: context, tenant: tenant, clientID: checked.client.id.value, step: "sign_in", scopes: nil, failure: nil,
            detail: "user \(user.id) signed in (\(amr.joined(separator: " ")))")
        return try await SignInFlow(env: env).afterAuthentication(
            checked.interaction.request, client: checked.client, session: session, interactionID: checked.interactionID,
            startedAt: checked.interaction.startedAt, request: request,
            context: context, language: checked.language,
            setCookies: [
                env.cookie(SignInEnvironment.sessionCookie, value: cookie, tenant: tenant, maxAge: Int(env.policy.sessionLifetime))
            ])
    }

    private func consent(_ checked: Checked, _ request: Request, _ context: GatehouseContext) async throws -> Response {
        let authorization = checked.interaction.request
        let now = env.time.now()
        guard let (_, session) = try await env.session(request, tenant: authorization.tenant) else {
            throw CatalogueError(Catalogue.interactionExpired, detail: "consent without a session")
        }
        // The request may have demanded a fresh sign-in (prompt=login, max_age): check it again here.
        guard authorization.isSatisfied(by: session, startedAt: checked.interaction.startedAt) else {
            throw CatalogueError(
                Catalogue.interactionExpired, detail: "consent without the sign-in the request demanded (prompt or max_age)")
        }
        guard try await env.state.finish(interactionID: checked.interactionID, now: now) else {
            throw CatalogueError(Catalogue.interactionExpired, detail: "consent form used twice")
        }
        let reply = env.reply
        let issuer = authorization.issuer ?? env.configuration.issuer(authorization.tenant)
        guard checked.form["decision"] == "allow" else {
            if let deviceKey = authorization.deviceKey {
                try await env.devices.decide(key: deviceKey, approvedBy: nil, now: now)
                let error = CatalogueError(Catalogue.deviceAuthorizationDeclined, detail: "user \(session.userID) declined the device")
                env.record(
                    request, context: context, tenant: authorization.tenant, clientID: checked.client.id.value, step: "device_approval",
                    scopes: authorization.scopeValue.description, failure: error)
                return env.pages.notice(
                    env.pages.ui("deviceTitle", checked.language), env.pages.ui("deviceDeclined", checked.language),
                    language: checked.language)
            }
            let error = CatalogueError(
                Catalogue.consentDeclined, ["clientId": checked.client.id.value], detail: "user \(session.userID) declined")
            env.record(
                request, context: context, tenant: authorization.tenant, clientID: checked.client.id.value, step: "consent",
                scopes: authorization.scopeValue.description, failure: error)
            return reply.failure(error, target: authorization.reply, issuer: issuer, language: checked.language, context: context)
        }
        let previous = try await env.state.consent(
            tenant: authorization.tenant, userID: session.userID, clientID: checked.client.id.value, now: now)
        try await env.state.saveConsent(
            Scope(tokens: previous.tokens + authorization.scope), tenant: authorization.tenant, userID: session.userID,
            clientID: checked.client.id.value, expiresAt: now.addingTimeInterval(env.policy.consentLifetime))
        return try await SignInFlow(env: env).issueCode(
            authorization, client: checked.client, session: session, request: request, context: context, language: checked.language)
    }
}
