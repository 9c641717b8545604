import Foundation
import GatehouseCore
import Hummingbird

/// The authorization endpoint (RFC 6749 §3.1, §4.1.1; OpenID Connect Core §3.1.2), GET and POST.
/// It parses the request (an error page for an untrusted client or redirect URI, an error sent
/// back for the rest), then the interaction machine decides: sign-in page, consent page, or a code.
struct AuthorizeRoute: Sendable {
    let env: SignInEnvironment
    let parser = AuthorizationRequestParser()

    /// Registers the endpoint in a dialect's group (`/{tenant}/oauth2/authorize`,
    /// `/{tenant}/oauth2/v2.0/authorize`); the request's dialect decides its issuer, its scope
    /// rules and whether `common` stands for the tenant holding the client.
    func register(on router: some RouterMethods<GatehouseContext>, dialect: any Dialect) {
        let path = RouterPath(stringLiteral: "/:tenant/" + dialect.endpointPath("authorize"))
        router.get(path) { request, context in try await self.handle(request, context: context) }
        router.post(path) { request, context in try await self.handle(request, context: context) }
    }

    func handle(_ request: Request, context: GatehouseContext) async throws -> Response {
        let segment = context.parameters.get("tenant") ?? ""
        let dialect = context.rendering.dialect
        var language = env.pages.texts.language(for: request)
        let tenant: Tenant
        let form: FormParameters
        do {
            if dialect.isMultiTenantAlias(segment) {
                form =
                    request.method == .post
                    ? try await FormBody.read(request, limit: env.configuration.maxBodySize) : try FormBody.query(request)
                tenant = try await env.tenants.resolveMultiTenant(segment, clientID: try ClientID(try form.require("client_id")))
            } else {
                tenant = try await env.tenants.resolve(segment, for: context)
                form =
                    request.method == .post
                    ? try await FormBody.read(request, limit: env.configuration.maxBodySize) : try FormBody.query(request)
            }
        } catch let error as CatalogueError {
            env.record(request, context: context, tenant: segment, clientID: nil, step: "authorize", scopes: nil, failure: error)
            return env.pages.errorPage(error, language: language, context: context)
        }
        context.notes.resolvedTenant(tenant)
        language = env.pages.texts.language(for: request, formUILocales: form["ui_locales"])
        let issuer = env.configuration.issuer(tenant, dialect: dialect)
        let reply = env.reply
        let assembled: (FormParameters, AuthorizationRequestOrigin)
        do {
            assembled = try await env.requests.assemble(
                form, tenant: tenant.name, issuers: env.configuration.issuers(tenant), now: env.time.now()
            ) { id in try await env.clients.lookup(tenant: tenant.name, id: id) }
        } catch let error as CatalogueError {
            env.record(
                request, context: context, tenant: tenant.name.value, clientID: form["client_id"], step: "authorize", scopes: nil,
                failure: error)
            return env.pages.errorPage(error, language: language, context: context)
        }
        // A pushed or signed request's own ui_locales decide the pages' language.
        if let locales = assembled.0["ui_locales"] { language = env.pages.texts.language(for: request, formUILocales: locales) }
        let parsed: (AuthorizationRequest, Client)
        do {
            parsed = try await parser.parse(assembled.0, tenant: tenant, issuer: issuer, dialect: dialect, origin: assembled.1) { id in
                try await env.clients.lookup(tenant: tenant.name, id: id)?.access
            }
        } catch let failure as AuthorizationFailure {
            switch failure {
            case .page(let error):
                env.record(
                    request, context: context, tenant: tenant.name.value, clientID: form["client_id"], step: "authorize", scopes: nil,
                    failure: error)
                return env.pages.errorPage(error, language: language, context: context)
            case .redirect(let error, let target):
                env.record(
                    request, context: context, tenant: tenant.name.value, clientID: form["client_id"], step: "authorize",
                    scopes: form["scope"], failure: error)
                return reply.failure(error, target: target, issuer: issuer, language: language, context: context)
            }
        }
        let (authorization, client) = parsed
        let session = try await env.session(request, tenant: tenant.name.value)?.session
        let machine = InteractionMachine(purpose: .authorize(authorization), startedAt: env.time.now())
        return try await SignInFlow(env: env).carryOut(
            machine.start(session: session),
            SignInFlow.Exchange(request: request, context: context, language: language, client: client, machine: machine))
    }
}
