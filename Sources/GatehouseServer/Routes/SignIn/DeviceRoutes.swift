import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird
import NIOCore

/// The device authorization grant's two HTTP faces (RFC 8628): the device authorization
/// endpoint (`/{tenant}/oauth2/devicecode`, Entra `/{tenant}/oauth2/v2.0/devicecode`) and the
/// verification page (`/{tenant}/oauth2/device`) where the user types the code, signs in and
/// approves or declines. Polling is the `device_code` grant at the token endpoint.
struct DeviceRoutes: Sendable {
    let env: SignInEnvironment
    let front: ClientAuthenticatedStep
    let renderer: ErrorRenderer
    let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return encoder
    }()

    /// The device authorization endpoint, in a dialect's group (`/{tenant}/oauth2/devicecode`,
    /// `/{tenant}/oauth2/v2.0/devicecode`).
    func registerAuthorization(on router: some RouterMethods<GatehouseContext>, dialect: any Dialect) {
        let path = RouterPath(stringLiteral: "/:tenant/" + dialect.endpointPath("devicecode"))
        router.post(path) { request, context in await self.authorize(request, context: context) }
        router.on(path, method: .options) { _, _ in Response(status: .methodNotAllowed, headers: [.allow: "POST"]) }
    }

    /// The verification page, one for every dialect.
    func registerVerification(on router: some RouterMethods<GatehouseContext>) {
        router.get("/:tenant/oauth2/device") { request, context in try await self.entryPage(request, context: context) }
        router.post("/:tenant/oauth2/device") { request, context in try await self.enterCode(request, context: context) }
    }

    /// RFC 8628 §3.2.
    struct DeviceAuthorizationResponse: Encodable {
        let deviceCode: String
        let userCode: String
        let verificationURI: String
        let verificationURIComplete: String?
        let expiresIn: Int
        let interval: Int
        let message: String?

        enum CodingKeys: String, CodingKey {
            case deviceCode = "device_code"
            case userCode = "user_code"
            case verificationURI = "verification_uri"
            case verificationURIComplete = "verification_uri_complete"
            case expiresIn = "expires_in"
            case interval, message
        }
    }

    // MARK: Device authorization endpoint (RFC 8628 §3.1-3.2)

    func authorize(_ request: Request, context: GatehouseContext) async -> Response {
        let segment = context.parameters.get("tenant") ?? ""
        var context = context
        context.rendering.realm = segment
        let dialect = context.rendering.dialect
        var progress = ClientAuthenticatedStep.Progress()
        var scopes: String? = nil
        do {
            let authenticated = try await front.run(
                request, context: &context, segment: segment, endpoint: "oauth2/devicecode", progress: &progress,
                answersBrowsers: true, grantType: { _ in GrantType.deviceCode.rawValue })
            let (tenant, form, client) = (authenticated.tenant, authenticated.form, authenticated.client.client)
            let configuration = env.configuration
            guard client.grantTypes.contains(.deviceCode) else {
                throw CatalogueError(
                    Catalogue.grantNotAllowedForClient, ["clientId": client.id.value, "grantType": GrantType.deviceCode.rawValue])
            }
            let issuer = configuration.issuer(tenant, dialect: dialect)
            let (scope, audience) = try dialect.delegatedAccess(
                requested: form["scope"], resources: form.all("resource"), access: authenticated.client.record.access, fallback: issuer)
            scopes = scope.description
            let now = env.time.now()
            let deviceCode = env.random.token(byteCount: 32)
            let userCode = UserCode.make(env.random)
            let policy = env.policy
            let authorization = DeviceAuthorization(
                tenant: tenant.name.value, clientID: client.id.value, scope: scope.tokens, audience: audience,
                expiresAt: now.addingTimeInterval(policy.deviceCodeLifetime))
            try await env.devices.create(authorization, deviceCode: deviceCode, userCode: userCode, interval: policy.deviceCodeInterval)
            let verification = configuration.endpoint(tenant.name.value, "oauth2/device")
            let body = DeviceAuthorizationResponse(
                deviceCode: deviceCode, userCode: userCode, verificationURI: verification,
                verificationURIComplete: dialect.offersVerificationURIComplete ? verification + "?user_code=" + userCode : nil,
                expiresIn: Int(policy.deviceCodeLifetime), interval: policy.deviceCodeInterval,
                message: "To sign in, use a web browser to open the page \(verification) and enter the code \(userCode) to authenticate.")
            env.record(
                request, context: context, tenant: tenant.name.value, clientID: client.id.value, step: "device_authorization",
                scopes: scopes, failure: nil)
            return .noStoreJSON(data: try encoder.encode(body))
        } catch {
            let failure = CatalogueError.caught(error, context: context, step: "device_authorization")
            env.record(
                request, context: context, tenant: segment, clientID: progress.clientID, step: "device_authorization", scopes: scopes,
                failure: failure)
            return renderer.response(for: failure, context: context)
        }
    }

    // MARK: Verification page (RFC 8628 §3.3)

    private func entryPage(_ request: Request, context: GatehouseContext) async throws -> Response {
        let language = env.pages.texts.language(for: request)
        let tenant = try await env.tenants.resolve(context.parameters.get("tenant") ?? "", for: context)
        let typed = request.uri.queryParameters["user_code"].map { String($0.prefix(32)) } ?? ""
        return codePage(tenant: tenant, code: typed, error: nil, language: language, context: context)
    }

    private func codePage(tenant: Tenant, code: String, error: CatalogueError?, language: String, context: GatehouseContext) -> Response {
        let pages = env.pages
        let body = pages.deviceCode.render([
            "language": language, "title": pages.ui("deviceTitle", language), "heading": pages.ui("deviceHeading", language),
            "error": pages.alert(error, language: language, context: context) as Any, "brand": pages.brand(tenant, language: language),
            "action": env.configuration.endpoint(tenant.name.value, "oauth2/device"), "code": code,
            "labelCode": pages.ui("deviceCodeLabel", language), "labelSubmit": pages.ui("continueButton", language),
        ])
        return pages.html(body, status: error == nil ? .ok : .badRequest)
    }

    private func enterCode(_ request: Request, context: GatehouseContext) async throws -> Response {
        var language = env.pages.texts.language(for: request)
        let segment = context.parameters.get("tenant") ?? ""
        let tenant: Tenant
        let form: FormParameters
        do {
            tenant = try await env.tenants.resolve(segment, for: context)
            form = try await FormBody.read(request, limit: env.configuration.maxBodySize)
        } catch let error as CatalogueError {
            return env.pages.errorPage(error, language: language, context: context, titleKey: "deviceTitle")
        }
        language = env.pages.texts.language(for: request, formUILocales: form["ui_locales"])
        let typed = String((form["user_code"] ?? "").prefix(32))
        // Counted before the code is looked up: a burst of guesses gets no more lookups than the limit.
        let admission: Admission?
        do {
            admission = try env.throttles.userCode.admit(
                "\(env.throttles.source(request, context: context))|\(tenant.name.value)", now: env.time.now())
        } catch {
            env.record(
                request, context: context, tenant: tenant.name.value, clientID: nil, step: "device_code_entry", scopes: nil, failure: error)
            return env.pages.errorPage(error, language: language, context: context, titleKey: "deviceTitle")
        }
        let found = try await env.devices.takePending(userCode: typed, tenant: tenant.name.value, now: env.time.now())
        admission?.settle(failed: found == nil)
        guard let (key, pending) = found, let client = try await env.client(tenant.name, try ClientID(pending.clientID))
        else {
            let error = CatalogueError(Catalogue.invalidUserCode, detail: "user code not pending in \(tenant.name.value)")
            env.record(
                request, context: context, tenant: tenant.name.value, clientID: nil, step: "device_code_entry", scopes: nil, failure: error)
            return codePage(tenant: tenant, code: typed, error: error, language: language, context: context)
        }
        let approval = DeviceApproval(
            tenant: tenant.name, clientID: client.id, scope: Scope(tokens: pending.scope), audience: pending.audience,
            uiLocales: form["ui_locales"], deviceKey: key)
        let machine = InteractionMachine(purpose: .device(approval), startedAt: env.time.now())
        // `env.session` honours a session only while its user is enabled and unchanged.
        let session = try await env.session(request, tenant: tenant.name.value)?.session
        return try await SignInFlow(env: env).carryOut(
            machine.start(session: session),
            SignInFlow.Exchange(request: request, context: context, language: language, client: client, machine: machine))
    }
}
