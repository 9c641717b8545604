import Foundation
import GatehouseCore
import Hummingbird

/// The POST targets of the sign-in pages: password, second factor, consent.
struct SignInFormRoutes: Sendable {
    let env: SignInEnvironment
    /// Audits a recovery code's use and mails the user about it.
    let administration: Administration

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
        // A passkey: the only factor from the sign-in page, or the second after the password.
        router.post("/:tenant/oauth2/login/passkey") { request, context in
            try await self.run(request, context: context, stages: [.password, .secondFactor], step: self.passkey)
        }
        // A tenant that requires passkeys: the signed-in user registers one before the session starts.
        router.post("/:tenant/oauth2/login/passkey/register") { request, context in
            try await self.run(request, context: context, stage: .passkeyRegistration, step: self.registerPasskey)
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
        try await run(request, context: context, stages: [stage], step: step)
    }

    private func run(_ request: Request, context: GatehouseContext, stages: Set<Interaction.Stage>, step: Step) async throws -> Response {
        let segment = context.parameters.get("tenant") ?? ""
        var language = env.pages.texts.language(for: request)
        do {
            let tenant = try await env.tenants.resolve(segment, for: context)
            let form = try await FormBody.read(request, limit: env.configuration.maxBodySize)
            let id = try form.require("interaction")
            guard let interaction = try await env.state.interaction(id: id, now: env.time.now()),
                interaction.purpose.tenant == tenant.name
            else {
                throw CatalogueError(Catalogue.interactionExpired, detail: "unknown or expired interaction")
            }
            language = env.pages.texts.language(for: request, formUILocales: interaction.purpose.uiLocales)
            let binding = request.cookies[SignInEnvironment.browserCookie]?.value ?? ""
            let csrf = form["csrf"] ?? ""
            guard env.hasher.matches(binding, storedHash: interaction.bindingHash),
                env.hasher.matches(csrf, storedHash: interaction.csrfHash)
            else {
                throw CatalogueError(Catalogue.csrfCheckFailed, detail: "binding cookie or CSRF token mismatch")
            }
            guard stages.contains(interaction.stage) else {
                throw CatalogueError(
                    Catalogue.interactionExpired,
                    detail:
                        "a \(interaction.stage.rawValue) page posted to the \(stages.map(\.rawValue).sorted().joined(separator: "/")) step")
            }
            guard let client = try await env.client(tenant.name, interaction.purpose.clientID) else {
                throw CatalogueError(
                    Catalogue.applicationNotFound, ["clientId": interaction.purpose.clientID.value, "tenant": tenant.name.value])
            }
            guard client.enabled else {
                throw CatalogueError(Catalogue.applicationDisabled, ["clientId": interaction.purpose.clientID.value])
            }
            return try await step(
                Checked(form: form, interactionID: id, csrf: csrf, interaction: interaction, client: client, language: language), request,
                context)
        } catch let error as CatalogueError {
            env.record(request, context: context, tenant: segment, clientID: nil, step: "sign_in", scopes: nil, failure: error)
            return env.pages.errorPage(error, language: language, context: context)
        }
    }

    /// The flow's view of a checked post: its interaction, not finished yet.
    private func exchange(_ checked: Checked, _ request: Request, _ context: GatehouseContext) -> SignInFlow.Exchange {
        var exchange = SignInFlow.Exchange(
            request: request, context: context, language: checked.language, client: checked.client,
            machine: InteractionMachine(purpose: checked.interaction.purpose, startedAt: checked.interaction.startedAt))
        exchange.interaction = (checked.interactionID, checked.csrf, checked.interaction)
        return exchange
    }

    private func password(_ checked: Checked, _ request: Request, _ context: GatehouseContext) async throws -> Response {
        var exchange = exchange(checked, request, context)
        exchange.username = checked.form["username"] ?? ""
        let tenant = checked.client.tenant
        let result: Result<User, CatalogueError>
        // Counted per source address and username before the password is checked; over the
        // limit the page answers 429 without checking it.
        let source = env.throttles.source(request, context: context)
        // Across usernames, per source address: not for a browser that signed in as this user before.
        let device = env.familiarDevice(request, tenant: tenant.value)
        var familiar = false
        if let device {
            familiar = try await env.users.user(tenant: tenant, signInName: exchange.username).map(device.belongs(to:)) ?? false
        }
        let attempt = try CheckAdmission(
            [
                (env.throttles.signIn, "\(source)|\(PasswordSignIn.attemptKey(tenant: tenant, username: exchange.username))"),
                (familiar ? nil : env.throttles.passwordSource, "\(source)|\(tenant.value)"),
            ], now: env.time.now())
        do {
            result = .success(
                try await attempt.check(guesses: Guess.password) {
                    try await env.passwords.verify(
                        tenant: tenant, username: exchange.username, password: checked.form["password"] ?? "", device: device)
                })
        } catch let error as CatalogueError {
            env.record(
                request, context: context, tenant: tenant.value, clientID: checked.client.id.value, step: "sign_in", scopes: nil,
                failure: error)
            result = .failure(error)
        }
        // The language of this page is the one the user's mails are written in from now on.
        if case .success(let user) = result, user.language != exchange.language {
            try? await env.users.setUserLanguage(tenant: tenant, id: user.id, language: exchange.language)
        }
        // A registered passkey is a second factor too.
        var hasPasskey = false
        if case .success(let user) = result { hasPasskey = try await env.passkeys.store.passkeyCount(tenant: tenant, userID: user.id) > 0 }
        return try await SignInFlow(env: env).carryOut(exchange.machine.afterPassword(result, hasPasskey: hasPasskey), exchange)
    }

    private func secondFactor(_ checked: Checked, _ request: Request, _ context: GatehouseContext) async throws -> Response {
        let exchange = exchange(checked, request, context)
        let tenant = checked.client.tenant
        guard let userID = checked.interaction.pendingUserID, let user = try await env.users.user(tenant: tenant, id: userID), user.enabled
        else {
            throw CatalogueError(Catalogue.interactionExpired, detail: "no password step before the second factor")
        }
        let result: Result<User, CatalogueError>
        let attempt = try CheckAdmission(
            [(env.throttles.signIn, "\(env.throttles.source(request, context: context))|\(tenant.value)|totp:\(user.id)")],
            now: env.time.now())
        do {
            let used = try await attempt.check(guesses: Guess.secondFactor) {
                try await env.passwords.verifyTOTP(
                    checked.form["otp"] ?? "", user: user, interaction: env.hasher.hash(checked.interactionID),
                    box: env.box, generator: env.totp, replay: env.replay, device: env.familiarDevice(request, tenant: tenant.value))
            }
            if case .recoveryCode(let left) = used {
                // Used up already; what follows only tells the user and the audit log.
                let acting = administration.acting(
                    as: AdminActor(kind: .user, id: user.id, tenant: tenant), traceID: context.traceID,
                    source: env.throttles.source(request, context: context))
                let tenantRecord = try? await env.tenants.resolve(tenant.value, for: context)
                try? await acting.recoveryCodeUsed(user: user, left: left, tenantName: tenantRecord?.displayName ?? tenant.value)
            }
            result = .success(user)
        } catch let error as CatalogueError {
            env.record(
                request, context: context, tenant: tenant.value, clientID: checked.client.id.value, step: "sign_in_totp", scopes: nil,
                failure: error)
            result = .failure(error)
        }
        return try await SignInFlow(env: env).carryOut(exchange.machine.afterSecondFactor(result, userID: user.id), exchange)
    }

    /// A passkey's answer to the sign-in page (the only factor) or to the second-factor page (only
    /// the user's own credential). A failure counts toward the per-source passkey throttle only,
    /// never toward the user's lockout: a signature cannot be guessed, and a stranger must not be
    /// able to lock a passkey user out. The challenge is the page's own, taken once.
    private func passkey(_ checked: Checked, _ request: Request, _ context: GatehouseContext) async throws -> Response {
        let exchange = exchange(checked, request, context)
        let tenant = checked.client.tenant
        let pending = checked.interaction.stage == .secondFactor ? checked.interaction.pendingUserID : nil
        if checked.interaction.stage == .secondFactor && pending == nil {
            throw CatalogueError(Catalogue.interactionExpired, detail: "no password step before the passkey")
        }
        let policy = try await env.tenants.resolve(tenant.value, for: context).passkeyPolicy
        let result: Result<(User, keyMethod: String), CatalogueError>
        // Per source address and tenant; a browser that has signed in before (its device cookie)
        // counts under its own key, so that strangers behind the same address cannot hold it.
        let device = env.familiarDevice(request, tenant: tenant.value)
        let key = device.map { "device \($0.id)|\(tenant.value)" } ?? "\(env.throttles.source(request, context: context))|\(tenant.value)"
        let attempt = try CheckAdmission([(env.throttles.passkey, key)], now: env.time.now())
        do {
            let signIn = try await attempt.check(guesses: Guess.passkey) {
                guard
                    let response = AssertionResponse(
                        credentialID: checked.form["credential_id"], clientDataJSON: checked.form["client_data"],
                        authenticatorData: checked.form["authenticator_data"], signature: checked.form["signature"],
                        userHandle: checked.form["user_handle"])
                else {
                    throw CatalogueError(Catalogue.passkeyResponseInvalid, detail: "passkey fields missing or not base64url")
                }
                return try await env.passkeys.authenticate(
                    response, binding: SignInFlow.passkeyBinding(interactionID: checked.interactionID), tenant: tenant, policy: policy,
                    expectedUserID: pending)
            }
            guard let user = try await env.users.user(tenant: tenant, id: signIn.passkey.userID) else {
                throw CatalogueError(Catalogue.passkeyNotRecognized, detail: "the credential's user no longer exists")
            }
            // Reported only after a verified passkey, as after a right password.
            guard user.enabled else { throw CatalogueError(Catalogue.userDisabled, detail: "user \(user.id) is disabled") }
            guard !user.awaitsVerification else {
                throw CatalogueError(Catalogue.emailNotVerified, detail: "self-registered user \(user.id) has not verified the address")
            }
            // After the password, a right passkey clears the account's count as a right TOTP code does.
            if pending != nil {
                try await env.passwords.secondFactorSucceeded(user: user, device: env.familiarDevice(request, tenant: tenant.value))
            }
            if signIn.passkey.counterRegressed {
                context.logger.warning(
                    "passkey counter went backwards; allowed by the tenant's policy",
                    metadata: ["user_id": "\(user.id)", "credential": "\(signIn.passkey.credentialID.prefix(16))"])
            }
            result = .success((user, signIn.passkey.keyMethod))
        } catch let error as CatalogueError {
            env.record(
                request, context: context, tenant: tenant.value, clientID: checked.client.id.value, step: "sign_in_passkey", scopes: nil,
                failure: error)
            result = .failure(error)
        }
        return try await SignInFlow(env: env).carryOut(exchange.machine.afterPasskey(result, pendingUserID: pending), exchange)
    }

    /// The registration a tenant that requires passkeys asks for after the sign-in: the challenge is
    /// the page's own and the user the one who signed in; the session then starts with the `amr`
    /// of that sign-in. Audited and mailed like a passkey added on the account page.
    private func registerPasskey(_ checked: Checked, _ request: Request, _ context: GatehouseContext) async throws -> Response {
        let exchange = exchange(checked, request, context)
        let tenant = checked.client.tenant
        guard let userID = checked.interaction.pendingUserID, let amr = checked.interaction.pendingAMR,
            let user = try await env.users.user(tenant: tenant, id: userID), user.enabled
        else {
            throw CatalogueError(Catalogue.interactionExpired, detail: "no sign-in before the passkey registration")
        }
        let tenantRecord = try await env.tenants.resolve(tenant.value, for: context)
        let result: Result<User, CatalogueError>
        do {
            guard
                let response = RegistrationResponse(
                    clientDataJSON: checked.form["client_data"], attestationObject: checked.form["attestation_object"],
                    transports: checked.form["transports"])
            else {
                throw CatalogueError(Catalogue.passkeyResponseInvalid, detail: "registration fields missing or not base64url")
            }
            let passkey = try await env.passkeys.register(
                response, binding: SignInFlow.passkeyBinding(interactionID: checked.interactionID), user: user,
                policy: tenantRecord.passkeyPolicy, name: checked.form["name"] ?? "")
            let acting = administration.acting(
                as: AdminActor(kind: .user, id: user.id, tenant: tenant), traceID: context.traceID,
                source: env.throttles.source(request, context: context))
            try await acting.passkeyAdded(passkey, user: user, tenant: tenantRecord)
            result = .success(user)
        } catch let error as CatalogueError {
            env.record(
                request, context: context, tenant: tenant.value, clientID: checked.client.id.value, step: "passkey_registration",
                scopes: nil, failure: error)
            result = .failure(error)
        }
        return try await SignInFlow(env: env).carryOut(exchange.machine.afterPasskeyRegistration(result, user: user, amr: amr), exchange)
    }

    private func consent(_ checked: Checked, _ request: Request, _ context: GatehouseContext) async throws -> Response {
        var exchange = exchange(checked, request, context)
        let session = try await env.session(request, tenant: checked.interaction.purpose.tenant.value)?.session
        let outcome = exchange.machine.afterConsent(session: session, allow: checked.form["decision"] == "allow")
        if case .failOnPage(let error, _) = outcome { throw error }
        guard try await env.state.finish(interactionID: checked.interactionID, now: env.time.now()) else {
            throw CatalogueError(Catalogue.interactionExpired, detail: "consent form used twice")
        }
        exchange.interaction = nil
        exchange.signedInSession = session
        exchange.failureStep = "consent"
        return try await SignInFlow(env: env).carryOut(outcome, exchange)
    }
}
