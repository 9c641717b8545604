import Foundation
import GatehouseCore
import Hummingbird
import NIOCore

/// RFC 7662 introspection and RFC 7009 revocation. Both authenticate the client like the token
/// endpoint. A client sees a token issued to it; at introspection also an access token meant for
/// it: whose `aud` names its client ID or, when the client is an API's own (a resource server,
/// `API.applicationID`), one of the API's identifiers. Others are `active: false` (never an error
/// that would tell whether the token exists) / refused at revocation.
struct TokenManagementRoutes: Sendable {
    let configuration: ServerConfiguration
    let front: ClientAuthenticatedStep
    let inspector: TokenInspector
    let grants: any GrantStore
    let apis: any ResourceStore
    let state: SignInStateStore
    let users: any UserStore
    let renderer: ErrorRenderer
    let signIns: SignInLogWriter
    let time: TimeSource
    /// Revocation of a public client's bound refresh token needs a proof by its key.
    let dpop: DPoPStep

    /// Introspection is for resource servers (no CORS); revocation also for browser apps
    /// (`browsers`: a group with `BrowserAccessMiddleware`).
    func register(on router: some RouterMethods<GatehouseContext>, browsers: some RouterMethods<GatehouseContext>) {
        router.post("/:tenant/oauth2/introspect") { request, context in
            await self.handle(request, context: context, step: "introspection", body: self.introspect)
        }
        browsers.post("/:tenant/oauth2/revoke") { request, context in
            await self.handle(request, context: context, step: "revocation", body: self.revoke)
        }
        browsers.on("/:tenant/oauth2/revoke", method: .options) { _, _ in Response(status: .methodNotAllowed, headers: [.allow: "POST"]) }
    }

    typealias Body = @Sendable (FormParameters, Tenant, AuthenticatedClient, TokenBinding?) async throws -> Response

    private func handle(_ request: Request, context: GatehouseContext, step: String, body: Body) async -> Response {
        let segment = context.parameters.get("tenant") ?? ""
        var context = context
        context.rendering.realm = segment
        var progress = ClientAuthenticatedStep.Progress()
        var failure: CatalogueError? = nil
        let response: Response
        do {
            let authenticated = try await front.run(
                request, context: &context, segment: segment, endpoint: "oauth2/\(step == "introspection" ? "introspect" : "revoke")",
                progress: &progress, answersBrowsers: step == "revocation")
            let (tenant, form, client) = (authenticated.tenant, authenticated.form, authenticated.client)
            // RFC 7662 §2.1: introspection answers only callers that prove who they are; a public
            // client has no credential (revocation stays open to it, RFC 7009 §2.1).
            if step == "introspection" && client.client.type == .public {
                throw CatalogueError(
                    Catalogue.introspectionNeedsConfidentialClient, ["clientId": client.client.id.value], detail: "public client")
            }
            let binding = step == "revocation" ? try await dpop.binding(request, tenant: tenant, context: &context) : nil
            response = try await body(form, tenant, client, binding)
        } catch {
            let caught = CatalogueError.caught(error, context: context, step: step)
            failure = caught
            response = renderer.response(for: caught, context: context)
        }
        signIns.record(
            request, context: context, time: time.now(), tenant: segment, clientID: progress.clientID, step: step, scopes: nil,
            failure: failure)
        return response
    }

    private func introspect(_ form: FormParameters, _ tenant: Tenant, _ client: AuthenticatedClient, _: TokenBinding?) async throws
        -> Response
    {
        let token = try form.require("token")
        let issuer = configuration.issuer(tenant.name.value)
        var document: [String: Any] = ["active": false]
        var inspected = try await inspector.inspect(
            token, hint: form["token_type_hint"], tenant: tenant.name, issuers: configuration.issuers(tenant),
            clientType: client.client.type)
        // A user's token is not active once the user is disabled or gone.
        switch inspected {
        case .access(let claims) where claims.grantID != nil:
            if !(try await userIsActive(tenant.name, claims.sub)) { inspected = nil }
        case .refresh(_, let grant):
            if !(try await userIsActive(tenant.name, grant.userID)) { inspected = nil }
        default:
            break
        }
        switch inspected {
        case .access(let claims) where try await mayInspect(claims, caller: client.client, issuers: configuration.issuers(tenant)):
            document = [
                "active": true, "token_type": claims.confirmation?.tokenType ?? "Bearer", "client_id": claims.clientID, "sub": claims.sub,
                "iss": claims.iss, "exp": claims.exp, "iat": claims.iat, "jti": claims.jti,
            ]
            // RFC 9449 §6.2, RFC 7662 §2.2: the key the token is bound to, for the resource to check.
            if let bound = claims.confirmation { document["cnf"] = bound.confirmationMembers }
            document["aud"] = claims.aud.count == 1 ? claims.aud[0] as Any : claims.aud as Any
            if let scope = claims.scopeText { document["scope"] = scope }
            if let authTime = claims.authTime { document["auth_time"] = authTime }
            if claims.grantID != nil, let user = try await users.user(tenant: tenant.name, id: claims.sub) {
                document["username"] = user.username.value
            }
        case .refresh(_, let grant) where grant.clientID == client.client.id:
            let end = grant.refreshExpiry(policy: configuration.signIn)
            document = [
                "active": true, "token_type": "refresh_token", "client_id": grant.clientID.value, "sub": grant.userID, "iss": issuer,
                "scope": grant.scope.description, "exp": Int(end.timeIntervalSince1970), "iat": Int(grant.createdAt.timeIntervalSince1970),
                "auth_time": Int(grant.authTime.timeIntervalSince1970),
            ]
            if let user = try await users.user(tenant: tenant.name, id: grant.userID) { document["username"] = user.username.value }
        default:
            break
        }
        return try .noStoreJSON(document)
    }

    /// Whether `caller` may see an access token: issued to it, or meant for it (RFC 7662 §2.1: the
    /// protected resource that the token is for). The tenant's issuers are nobody's identifier (the
    /// audience of tokens that name no resource), whatever an API was registered with.
    private func mayInspect(_ claims: AccessTokenClaims, caller: Client, issuers: Set<String>) async throws -> Bool {
        if claims.clientID == caller.id.value || claims.aud.contains(caller.id.value) { return true }
        guard let api = try await apis.api(tenant: caller.tenant, applicationID: caller.id) else { return false }
        return claims.aud.contains { !issuers.contains($0) && api.isNamed(by: $0) }
    }

    private func userIsActive(_ tenant: TenantName, _ id: String) async throws -> Bool {
        try await users.user(tenant: tenant, id: id)?.enabled == true
    }

    /// RFC 7009 §2.2: 200 also for unknown or already invalid tokens.
    /// A public client's refresh token bound to its DPoP key is revoked only with a proof by that
    /// key (9900256): without one, whoever holds a copy could end the client's grant.
    private func revoke(_ form: FormParameters, _ tenant: Tenant, _ client: AuthenticatedClient, _ binding: TokenBinding?) async throws
        -> Response
    {
        let token = try form.require("token")
        let now = time.now()
        switch try await inspector.inspect(
            token, hint: form["token_type_hint"], tenant: tenant.name, issuers: configuration.issuers(tenant),
            clientType: client.client.type)
        {
        case .access(let claims):
            guard claims.clientID == client.client.id.value else {
                throw CatalogueError(Catalogue.tokenOfAnotherClient, detail: "access token of \(claims.clientID)")
            }
            try await state.revokeAccessToken(jti: claims.jti, expiresAt: Date(timeIntervalSince1970: TimeInterval(claims.exp)))
        case .refresh(_, let grant):
            guard grant.clientID == client.client.id else {
                throw CatalogueError(Catalogue.tokenOfAnotherClient, detail: "refresh token of \(grant.clientID)")
            }
            if client.client.type == .public, let bound = grant.binding, !bound.matches(binding) {
                throw CatalogueError(
                    Catalogue.refreshTokenBoundToKey,
                    ["reason": binding == nil ? "the request has no DPoP proof" : "the proof is by another key"],
                    detail: "revocation of grant \(grant.id)")
            }
            try await grants.revokeGrant(id: grant.id, now: now)
        case nil:
            break
        }
        return Response(status: .ok, headers: [.cacheControl: "no-store", .pragma: "no-cache"])
    }
}
