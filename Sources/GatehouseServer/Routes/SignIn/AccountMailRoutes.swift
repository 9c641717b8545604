import Foundation
import GatehouseCore
import Hummingbird

/// The pages behind the links Gatehouse mails: "Forgot password?" (`/{tenant}/password/forgot`),
/// the reset link's page (`/{tenant}/password/reset?token=…`) and the verification link's page
/// (`/{tenant}/email/verify?token=…`). A link's GET only shows a form (mail scanners that fetch
/// links use nothing up); the POST uses the token. The forgot page answers every request the same
/// way, byte for byte, whether the account exists or not (`Administration.requestPasswordReset`).
struct AccountMailRoutes: Sendable {
    let env: SignInEnvironment
    let administration: Administration
    let passwords: any PasswordHasher

    static func forgotURL(_ configuration: ServerConfiguration, tenant: TenantName, language: String) -> String {
        configuration.endpoint(tenant.value, "password/forgot")
            + (language == CatalogueTexts.defaultLanguage ? "" : "?ui_locales=\(language)")
    }

    func register(on router: some RouterMethods<GatehouseContext>) {
        router.get("/:tenant/password/forgot") { request, context in try await self.forgotPage(request, context: context) }
        router.post("/:tenant/password/forgot") { request, context in try await self.requestReset(request, context: context) }
        router.get("/:tenant/password/reset") { request, context in try await self.resetPage(request, context: context) }
        router.post("/:tenant/password/reset") { request, context in try await self.reset(request, context: context) }
        router.get("/:tenant/email/verify") { request, context in try await self.verifyPage(request, context: context) }
        router.post("/:tenant/email/verify") { request, context in try await self.verify(request, context: context) }
    }

    private var pages: SignInPages { env.pages }

    /// The tenant of the path and the request's language; an unknown tenant is its catalogue page.
    private func begin(_ request: Request, context: GatehouseContext, form: FormParameters? = nil) async throws -> (Tenant, String) {
        let language = pages.texts.language(for: request, formUILocales: form?["ui_locales"])
        let tenant = try await env.tenants.resolve(context.parameters.get("tenant") ?? "", for: context)
        return (tenant, language)
    }

    private func failure(_ error: any Error, _ request: Request, context: GatehouseContext, titleKey: String) -> Response {
        let language = pages.texts.language(for: request)
        let caught = CatalogueError.caught(error, context: context, step: titleKey)
        return pages.errorPage(caught, language: language, context: context, titleKey: titleKey)
    }

    // MARK: Forgot password

    private func forgotPage(_ request: Request, context: GatehouseContext) async throws -> Response {
        do {
            let (tenant, language) = try await begin(request, context: context)
            guard env.mailEnabled else { throw CatalogueError(Catalogue.passwordResetUnavailable) }
            return forgotForm(tenant: tenant, language: language, error: nil, context: context)
        } catch {
            return failure(error, request, context: context, titleKey: "forgotTitle")
        }
    }

    private func forgotForm(tenant: Tenant, language: String, error: CatalogueError?, context: GatehouseContext) -> Response {
        let body = pages.forgot.render([
            "language": language, "title": pages.ui("forgotTitle", language), "heading": pages.ui("forgotTitle", language),
            "brand": pages.brand(tenant, language: language),
            "error": pages.alert(error, language: language, context: context) as Any,
            "intro": pages.ui("forgotIntro", language),
            "action": env.configuration.endpoint(tenant.name.value, "password/forgot"),
            "labelUsername": pages.ui(tenant.emailSignIn ? "usernameOrEmail" : "username", language),
            "labelSubmit": pages.ui("forgotSubmit", language),
        ])
        return pages.html(body, status: error == nil ? .ok : .badRequest)
    }

    private func requestReset(_ request: Request, context: GatehouseContext) async throws -> Response {
        let segment = context.parameters.get("tenant") ?? ""
        do {
            let form = try await FormBody.read(request, limit: env.configuration.maxBodySize)
            let (tenant, language) = try await begin(request, context: context, form: form)
            guard env.mailEnabled else { throw CatalogueError(Catalogue.passwordResetUnavailable) }
            let name = String((form["username"] ?? "").trimmingCharacters(in: .whitespaces).prefix(256))
            let now = env.time.now()
            // Every request counts (not only failures): per source address a 429, per account a
            // quiet stop (the same answer, nothing mailed).
            let source = env.throttles.source(request, context: context)
            let admission = try env.throttles.passwordReset.admit("\(source)|\(tenant.name.value)", now: now)
            admission?.settle(failed: true)
            // Per account: keyed by the user's ID (a username and an address are one budget), or by
            // the typed name when there is no such user.
            let (accountGate, tenantKey) = (env.throttles.passwordResetAccount, tenant.name.value)
            let outcome = try await administration.acting(
                as: AdminActor(kind: .user, id: "(password reset)", tenant: tenant.name), traceID: context.traceID, source: source
            ).requestPasswordReset(tenant: tenant, name: name, language: language) { account in
                do {
                    try accountGate.admit("\(tenantKey)|\(account)", now: now)?.settle(failed: true)
                    return true
                } catch {
                    return false
                }
            }
            // The operator's note says what happened; the requester is told the same in every case.
            env.record(
                request, context: context, tenant: tenant.name.value, clientID: nil, step: "password_reset_request", scopes: nil,
                failure: nil, detail: outcome.rawValue)
            return pages.notice(
                pages.ui("forgotSentHeading", language), pages.ui("forgotSent", language), language: language, tenant: tenant)
        } catch {
            let caught = CatalogueError.caught(error, context: context, step: "password_reset_request")
            env.record(
                request, context: context, tenant: segment, clientID: nil, step: "password_reset_request", scopes: nil, failure: caught)
            return failure(caught, request, context: context, titleKey: "forgotTitle")
        }
    }

    // MARK: The reset link

    private func resetPage(_ request: Request, context: GatehouseContext) async throws -> Response {
        do {
            let (tenant, language) = try await begin(request, context: context)
            let token = String((request.uri.queryParameters["token"] ?? "").prefix(128))
            guard let user = try await administration.passwordResetUser(tenant: tenant.name, token: token) else {
                throw CatalogueError(Catalogue.passwordResetLinkInvalid, detail: "reset token unknown, used, expired or superseded")
            }
            return resetForm(tenant: tenant, user: user, token: token, language: language, error: nil, context: context)
        } catch {
            return failure(error, request, context: context, titleKey: "resetTitle")
        }
    }

    private func resetForm(
        tenant: Tenant, user: User, token: String, language: String, error: CatalogueError?, context: GatehouseContext
    ) -> Response {
        let body = pages.resetPassword.render([
            "language": language, "title": pages.ui("resetTitle", language), "heading": pages.ui("resetTitle", language),
            "brand": pages.brand(tenant, language: language),
            "error": pages.alert(error, language: language, context: context) as Any,
            "intro": pages.ui("resetIntro", language, ["username": user.username.value]), "username": user.username.value,
            "action": env.configuration.endpoint(tenant.name.value, "password/reset"), "token": token,
            "labelPassword": pages.ui("newPasswordLabel", language), "labelConfirm": pages.ui("confirmPasswordLabel", language),
            "labelSubmit": pages.ui("resetSubmit", language),
        ])
        return pages.html(body, status: error == nil ? .ok : .badRequest)
    }

    private func reset(_ request: Request, context: GatehouseContext) async throws -> Response {
        let segment = context.parameters.get("tenant") ?? ""
        do {
            let form = try await FormBody.read(request, limit: env.configuration.maxBodySize)
            let (tenant, language) = try await begin(request, context: context, form: form)
            let token = String((form["token"] ?? "").prefix(128))
            let password = form["password"] ?? ""
            let source = env.throttles.source(request, context: context)
            let acting = administration.acting(
                as: AdminActor(kind: .user, id: "(password reset)", tenant: tenant.name), traceID: context.traceID, source: source)
            // A refused password shows the form again with the link still usable.
            if let refusal = pages.passwordRefusal(password, confirm: form["confirm"] ?? "", language: language) {
                guard let user = try await acting.passwordResetUser(tenant: tenant.name, token: token) else {
                    throw CatalogueError(Catalogue.passwordResetLinkInvalid, detail: "reset token unknown, used, expired or superseded")
                }
                env.record(
                    request, context: context, tenant: tenant.name.value, clientID: nil, step: "password_reset", scopes: nil,
                    failure: refusal)
                return resetForm(tenant: tenant, user: user, token: token, language: language, error: refusal, context: context)
            }
            guard
                let user = try await acting.completePasswordReset(
                    tenant: tenant, token: token, password: password, passwords: passwords, language: language)
            else {
                throw CatalogueError(Catalogue.passwordResetLinkInvalid, detail: "reset token unknown, used, expired or superseded")
            }
            env.record(
                request, context: context, tenant: tenant.name.value, clientID: nil, step: "password_reset", scopes: nil, failure: nil,
                detail: "password of user \(user.id) reset by mail; sessions ended, grants revoked")
            return pages.notice(
                pages.ui("resetDoneHeading", language), pages.ui("resetDone", language), language: language, tenant: tenant)
        } catch {
            let caught = CatalogueError.caught(error, context: context, step: "password_reset")
            env.record(request, context: context, tenant: segment, clientID: nil, step: "password_reset", scopes: nil, failure: caught)
            return failure(caught, request, context: context, titleKey: "resetTitle")
        }
    }

    // MARK: The verification link

    private func verifyPage(_ request: Request, context: GatehouseContext) async throws -> Response {
        do {
            let (tenant, language) = try await begin(request, context: context)
            let token = String((request.uri.queryParameters["token"] ?? "").prefix(128))
            guard let user = try await administration.emailVerificationTarget(tenant: tenant.name, token: token) else {
                throw CatalogueError(
                    Catalogue.emailVerificationLinkInvalid, detail: "verification token unknown, used, expired or superseded")
            }
            return verifyForm(tenant: tenant, user: user, token: token, language: language, error: nil, context: context)
        } catch {
            return failure(error, request, context: context, titleKey: "verifyTitle")
        }
    }

    /// The link's page: a button, and for an account that registered itself the password chosen
    /// at registration (so that a link opens an account only with its opener's own password).
    private func verifyForm(
        tenant: Tenant, user: User, token: String, language: String, error: CatalogueError?, context: GatehouseContext
    ) -> Response {
        let body = pages.message.render([
            "language": language, "title": pages.ui("verifyTitle", language), "heading": pages.ui("verifyTitle", language),
            "brand": pages.brand(tenant, language: language),
            "error": pages.alert(error, language: language, context: context) as Any,
            "text": pages.ui("verifyIntro", language, ["email": user.email ?? ""]), "confirm": true,
            "action": env.configuration.endpoint(tenant.name.value, "email/verify"), "csrf": "",
            "fields": [["name": "token", "value": token], ["name": "ui_locales", "value": language]],
            "askPassword": user.awaitsVerification, "username": user.username.value,
            "labelPassword": pages.ui("verifyPassword", language), "labelSubmit": pages.ui("verifySubmit", language),
        ])
        return pages.html(body, status: error == nil ? .ok : .badRequest)
    }

    private func verify(_ request: Request, context: GatehouseContext) async throws -> Response {
        let segment = context.parameters.get("tenant") ?? ""
        do {
            let form = try await FormBody.read(request, limit: env.configuration.maxBodySize)
            let (tenant, language) = try await begin(request, context: context, form: form)
            let source = env.throttles.source(request, context: context)
            let acting = administration.acting(
                as: AdminActor(kind: .user, id: "(email verification)", tenant: tenant.name), traceID: context.traceID, source: source)
            let token = String((form["token"] ?? "").prefix(128))
            // An account that registered itself: the password chosen at registration first,
            // checked like a sign-in (throttled, counted against the account's lock).
            if let target = try await administration.emailVerificationTarget(tenant: tenant.name, token: token), target.awaitsVerification {
                do {
                    let attempt = try CheckAdmission(
                        [
                            (
                                env.throttles.signIn,
                                "\(source)|\(PasswordSignIn.attemptKey(tenant: tenant.name, username: target.username.value))"
                            )
                        ], now: env.time.now())
                    _ = try await attempt.check(guesses: Guess.password) {
                        try await env.passwords.verify(
                            tenant: tenant.name, username: target.username.value, password: form["password"] ?? "")
                    }
                } catch let error as CatalogueError where error.entry == Catalogue.emailNotVerified {
                    // The right password (this error comes only after it): go on.
                } catch let error as CatalogueError {
                    env.record(
                        request, context: context, tenant: tenant.name.value, clientID: nil, step: "email_verification", scopes: nil,
                        failure: error)
                    return verifyForm(tenant: tenant, user: target, token: token, language: language, error: error, context: context)
                }
            }
            guard let user = try await acting.verifyEmail(tenant: tenant.name, token: token),
                let email = user.email
            else {
                throw CatalogueError(
                    Catalogue.emailVerificationLinkInvalid, detail: "verification token unknown, used, expired or superseded")
            }
            env.record(
                request, context: context, tenant: tenant.name.value, clientID: nil, step: "email_verification", scopes: nil, failure: nil,
                detail: "address of user \(user.id) verified")
            return pages.notice(
                pages.ui("verifyDoneHeading", language), pages.ui("verifyDone", language, ["email": email]), language: language,
                tenant: tenant)
        } catch {
            let caught = CatalogueError.caught(error, context: context, step: "email_verification")
            env.record(request, context: context, tenant: segment, clientID: nil, step: "email_verification", scopes: nil, failure: caught)
            return failure(caught, request, context: context, titleKey: "verifyTitle")
        }
    }
}
