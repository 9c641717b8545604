import Foundation
import GatehouseCore
import Hummingbird
import NIOCore

/// OpenID Connect Core §5.3 userinfo, GET and POST, with an RFC 6750 bearer token (header, or
/// `access_token` in a POST form body), or a DPoP-bound token (RFC 9449 §7) as
/// `Authorization: DPoP` with a proof that carries `ath`. Errors carry `WWW-Authenticate` with
/// both schemes (RFC 6750 §3, RFC 9449 §7.1), the error on the one the request used.
struct UserinfoRoute: Sendable {
    let configuration: ServerConfiguration
    let tenants: TenantDirectory
    let inspector: TokenInspector
    let users: any UserStore
    /// The token's client: its browser app may read the answer (CORS).
    let clients: any ClientDirectory
    let renderer: ErrorRenderer
    let dpop: DPoPStep

    func register(on router: some RouterMethods<GatehouseContext>) {
        router.get("/:tenant/oidc/userinfo") { request, context in await self.handle(request, context: context) }
        router.post("/:tenant/oidc/userinfo") { request, context in await self.handle(request, context: context) }
        router.on("/:tenant/oidc/userinfo", method: .options) { _, _ in Response(status: .methodNotAllowed, headers: [.allow: "GET, POST"])
        }
    }

    func handle(_ request: Request, context: GatehouseContext) async -> Response {
        let segment = context.parameters.get("tenant") ?? ""
        var context = context
        do {
            return try await run(request, segment: segment, context: &context)
        } catch {
            let caught = CatalogueError.caught(error, context: context, step: "userinfo")
            if caught.entry != Catalogue.tokenIssuanceError {
                context.logger.info("userinfo refused", metadata: ["code": "\(caught.entry.number)", "detail": "\(caught.detail ?? "-")"])
            }
            context.rendering.realm = segment
            context.rendering.usedAuthorizationHeader = false
            let challenged =
                caught.entry.status == 401 || caught.entry.status == 403 || caught.error == .invalidDPoPProof
                || caught.error == .useDPoPNonce
            context.rendering.bearerChallenge = challenged
            context.rendering.dpopChallenge = challenged
            return renderer.response(for: caught, context: context)
        }
    }

    private func run(_ request: Request, segment: String, context: inout GatehouseContext) async throws -> Response {
        let tenant = try await tenants.resolve(segment)
        var token: String? = nil
        var scheme = "bearer"
        if let value = request.headers[.authorization] {
            guard let header = AuthorizationHeader(value), header.scheme == "bearer" || header.scheme == "dpop" else {
                throw CatalogueError(Catalogue.invalidAccessToken, ["reason": "not a Bearer or DPoP authorization"])
            }
            token = header.credentials
            scheme = header.scheme
            context.rendering.dpopChallengeFirst = scheme == "dpop"
        }
        if request.method == .post, request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true {
            let form = try await FormBody.read(request, limit: configuration.maxBodySize)
            if let fromBody = form["access_token"] {
                // RFC 6750 §2: one method per request.
                guard token == nil else {
                    throw CatalogueError(Catalogue.invalidParameterValue, ["name": "access_token"], detail: "token in header and body")
                }
                token = fromBody
            }
        }
        guard let token, !token.isEmpty else { throw CatalogueError(Catalogue.bearerTokenMissing) }
        let claims: AccessTokenClaims
        switch await inspector.accessToken(token, tenant: tenant.name, issuers: configuration.issuers(tenant)) {
        case .success(let valid): claims = valid
        case .failure(let failure): throw CatalogueError(Catalogue.invalidAccessToken, ["reason": failure.rawValue])
        }
        // RFC 9449 §7: a bound token only with the DPoP scheme and a proof by its key (with `ath`);
        // the DPoP scheme only for a bound token.
        if let bound = claims.confirmation {
            context.rendering.dpopChallengeFirst = true
            guard scheme == "dpop" else { throw CatalogueError(Catalogue.dpopTokenAsBearer) }
            guard let proof = try await dpop.binding(request, tenant: tenant, context: &context, accessToken: token) else {
                throw CatalogueError(Catalogue.dpopProofMalformed, ["reason": "the request has no DPoP header"])
            }
            guard bound.matches(proof) else { throw CatalogueError(Catalogue.dpopProofKeyMismatch) }
        } else if scheme == "dpop" {
            throw CatalogueError(Catalogue.bearerTokenAsDPoP)
        }
        // Only for a page (`Origin`), and never a reason to fail: a store outage leaves the answer unreadable to it.
        if request.headers[.origin] != nil, let id = try? ClientID(claims.clientID),
            let record = try? await clients.lookup(tenant: tenant.name, id: id)
        {
            context.notes.allowBrowser(of: record)
        }
        let scopes = claims.scopes.set
        guard scopes.contains("openid") else { throw CatalogueError(Catalogue.insufficientScope, ["scope": "openid"]) }
        guard let user = try await users.user(tenant: tenant.name, id: claims.sub), user.enabled else {
            throw CatalogueError(Catalogue.invalidAccessToken, ["reason": "the user is disabled or removed"])
        }
        var document: [String: Any] = ["sub": user.id]
        if scopes.contains("profile") {
            document["name"] = user.displayName
            document["preferred_username"] = user.username.value
            document["updated_at"] = Int(user.updatedAt.timeIntervalSince1970)
        }
        if scopes.contains("email"), let email = user.email {
            document["email"] = email
            document["email_verified"] = user.emailVerified
        }
        var response = try Response.noStoreJSON(document)
        if let nonce = context.rendering.dpopNonce { response.headers[.dpopNonce] = nonce }
        return response
    }
}
