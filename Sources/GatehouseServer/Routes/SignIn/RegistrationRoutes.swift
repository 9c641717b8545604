import Foundation
import GatehouseCore
import Hummingbird

/// Self-registration (`/{tenant}/register`) where a tenant opened it (`Tenant.registration`):
/// the form asks for what the tenant needs (an address, and a username unless users sign in with
/// their address; a display name; a password under the same policy as everywhere). Every
/// attempt counts against the source address's budget (`Throttles.registration`). The answer to
/// a registration is "check your mail" whether the address was new or already an account's
/// (`Administration.register`); the account signs in only after the mailed link is opened.
struct RegistrationRoutes: Sendable {
    let env: SignInEnvironment
    let administration: Administration
    let passwords: any PasswordHasher

    static func url(_ configuration: ServerConfiguration, tenant: TenantName, language: String) -> String {
        configuration.endpoint(tenant.value, "register") + (language == CatalogueTexts.defaultLanguage ? "" : "?ui_locales=\(language)")
    }

    func register(on router: some RouterMethods<GatehouseContext>) {
        router.get("/:tenant/register") { request, context in try await self.page(request, context: context) }
        router.post("/:tenant/register") { request, context in try await self.submit(request, context: context) }
    }

    private var pages: SignInPages { env.pages }

    /// The tenant, if it takes registrations (and mail can be sent, since the address must be verified).
    private func openTenant(_ context: GatehouseContext) async throws -> Tenant {
        let tenant = try await env.tenants.resolve(context.parameters.get("tenant") ?? "", for: context)
        guard tenant.registration == .open, env.mailEnabled else {
            throw CatalogueError(
                Catalogue.registrationClosed, detail: env.mailEnabled ? "registration is off" : "no mail server configured")
        }
        return tenant
    }

    private func page(_ request: Request, context: GatehouseContext) async throws -> Response {
        let language = pages.texts.language(for: request)
        do {
            let tenant = try await openTenant(context)
            return form(tenant: tenant, language: language, values: [:], error: nil, context: context)
        } catch {
            let caught = CatalogueError.caught(error, context: context, step: "registration")
            return pages.errorPage(caught, language: language, context: context, titleKey: "register.title")
        }
    }

    private func form(
        tenant: Tenant, language: String, values: [String: String], error: CatalogueError?, context: GatehouseContext
    ) -> Response {
        let t = { (key: String) in pages.ui("register.\(key)", language) }
        let domains = tenant.registrationDomains
        let body = pages.register.render([
            "language": language, "title": t("title"), "heading": t("title"), "brand": pages.brand(tenant, language: language),
            "error": pages.alert(error, language: language, context: context) as Any,
            "action": env.configuration.endpoint(tenant.name.value, "register"),
            "askUsername": !tenant.emailSignIn, "email": values["email"] ?? "", "username": values["username"] ?? "",
            "displayName": values["display_name"] ?? "", "minimum": String(Administration.minimumPasswordLength),
            "labelEmail": t("email"), "labelUsername": t("username"), "labelDisplayName": t("displayName"),
            "labelPassword": t("password"), "labelConfirm": t("confirm"), "labelSubmit": t("submit"),
            "domains": domains.isEmpty ? "" : pages.ui("register.domains", language, ["domains": domains.joined(separator: ", ")]),
        ])
        return pages.html(body, status: error.map { .init(code: $0.entry.status == 401 ? 400 : $0.entry.status) } ?? .ok)
    }

    private func submit(_ request: Request, context: GatehouseContext) async throws -> Response {
        let segment = context.parameters.get("tenant") ?? ""
        var language = pages.texts.language(for: request)
        do {
            let body = try await FormBody.read(request, limit: env.configuration.maxBodySize)
            language = pages.texts.language(for: request, formUILocales: body["ui_locales"])
            let tenant = try await openTenant(context)
            let values = Dictionary(
                uniqueKeysWithValues: ["email", "username", "display_name"].map { ($0, String((body[$0] ?? "").prefix(256))) })
            // Every attempt counts, whatever becomes of it.
            let source = env.throttles.source(request, context: context)
            try env.throttles.registration.admit("\(source)|\(tenant.name.value)", now: env.time.now())?.settle(failed: true)
            do {
                let password = body["password"] ?? ""
                if let refusal = pages.passwordRefusal(password, confirm: body["confirm"] ?? "", language: language) { throw refusal }
                // Per address, whoever asks (the reset's per-account budget): past it nothing more is
                // done or mailed, and the answer stays the same, so nobody floods a mailbox.
                let address = User.signInEmail(values["email"] ?? "") ?? ""
                let detail: String
                var limited = false
                do {
                    try env.throttles.passwordResetAccount.admit("\(tenant.name.value)|register|\(address)", now: env.time.now())?
                        .settle(failed: true)
                } catch {
                    limited = true
                }
                if limited {
                    detail = "too many registrations for this address: nothing done"
                } else {
                    let outcome = try await administration.acting(
                        as: AdminActor(kind: .user, id: "(registration)", tenant: tenant.name), traceID: context.traceID, source: source
                    ).register(
                        tenant: tenant, username: values["username"], email: values["email"] ?? "",
                        displayName: values["display_name"] ?? "", password: password, passwords: passwords, language: language)
                    switch outcome {
                    case .registered(let userID): detail = "user \(userID) registered; verification mailed"
                    case .addressTaken: detail = "address already an account's: its owner was mailed, nothing created"
                    }
                }
                env.record(
                    request, context: context, tenant: tenant.name.value, clientID: nil, step: "registration", scopes: nil, failure: nil,
                    detail: detail)
                let page = pages.message.render([
                    "language": language, "title": pages.ui("register.sentHeading", language),
                    "heading": pages.ui("register.sentHeading", language), "brand": pages.brand(tenant, language: language),
                    "text": pages.ui("register.sent", language, ["email": address]),
                ])
                return pages.html(page)
            } catch let error as CatalogueError {
                env.record(
                    request, context: context, tenant: tenant.name.value, clientID: nil, step: "registration", scopes: nil, failure: error)
                return form(tenant: tenant, language: language, values: values, error: error, context: context)
            }
        } catch {
            let caught = CatalogueError.caught(error, context: context, step: "registration")
            env.record(request, context: context, tenant: segment, clientID: nil, step: "registration", scopes: nil, failure: caught)
            return pages.errorPage(caught, language: language, context: context, titleKey: "register.title")
        }
    }
}
