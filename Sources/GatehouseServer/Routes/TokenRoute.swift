import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The token endpoint (RFC 6749 §3.2) as a readable pipeline (DESIGN.md "A token request"):
/// method, tenant, content type, form, grant_type, client authentication, grant registry,
/// client-may-use-grant, the grant itself; every outcome becomes a sign-in event.
struct TokenRoute: Sendable {
    let configuration: ServerConfiguration
    let front: ClientAuthenticatedStep
    let grants: GrantRegistry
    let signIns: SignInLogWriter
    let renderer: ErrorRenderer
    /// Native (`/{tenant}/oauth2/token`) or Entra (`/{tenant}/oauth2/v2.0/token`).
    let dialect: Dialect
    let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }()

    /// Collects what the sign-in event records while the request goes through the pipeline.
    private struct Progress {
        var front = ClientAuthenticatedStep.Progress()
        var scopes: String?
        var usedAuthorizationHeader = false
    }

    static func path(_ dialect: Dialect) -> String { dialect == .entra ? "/:tenant/oauth2/v2.0/token" : "/:tenant/oauth2/token" }

    func register(on router: Router<GatehouseContext>) {
        router.post(RouterPath(stringLiteral: Self.path(dialect))) { request, context in
            await self.handle(request, context: context)
        }
        for method in [HTTPRequest.Method.get, .put, .delete, .patch, .head, .options] {
            router.on(RouterPath(stringLiteral: Self.path(dialect)), method: method) { request, context in
                await self.handle(request, context: context)
            }
        }
    }

    func handle(_ request: Request, context: GatehouseContext) async -> Response {
        let tenantSegment = context.parameters.get("tenant") ?? ""
        var progress = Progress()
        progress.usedAuthorizationHeader = request.headers[.authorization] != nil
        var failure: CatalogueError? = nil
        var response: Response
        do {
            response = try await run(request, context: context, tenantSegment: tenantSegment, progress: &progress)
        } catch {
            let caught = CatalogueError.caught(error, context: context, step: "token")
            failure = caught
            response = renderer.response(
                for: caught, context: context, language: renderer.texts.language(for: request, formUILocales: progress.front.formUILocales),
                usedAuthorizationHeader: progress.usedAuthorizationHeader, realm: tenantSegment, dialect: dialect)
        }
        if let failure {
            context.logger.info(
                "token request failed",
                metadata: [
                    "code": "\(failure.entry.number)", "error": "\(failure.error.rawValue)",
                    "client_id": "\(progress.front.clientID ?? "-")", "detail": "\(failure.detail ?? "-")",
                ])
        }
        signIns.record(
            request, context: context, time: Date(), tenant: tenantSegment, clientID: progress.front.clientID,
            step: progress.front.grantType,
            scopes: progress.scopes, failure: failure)
        return response
    }

    private func run(_ request: Request, context: GatehouseContext, tenantSegment: String, progress: inout Progress) async throws
        -> Response
    {
        guard request.method == .post else {
            throw CatalogueError(Catalogue.endpointOnlyAcceptsPost, ["method": request.method.rawValue])
        }
        let authenticated = try await front.run(
            request, segment: tenantSegment, dialect: dialect, endpoint: "oauth2/token", progress: &progress.front,
            grantType: { form in try form.require("grant_type") })
        let (tenant, form, client) = (authenticated.tenant, authenticated.form, authenticated.client)
        let grantTypeValue = progress.front.grantType ?? ""
        let issuer = configuration.issuer(tenant, dialect: dialect)
        let handler = try grants.handler(for: grantTypeValue)
        guard client.client.grantTypes.contains(handler.grantType) else {
            throw CatalogueError(Catalogue.grantNotAllowedForClient, ["clientId": client.client.id.value, "grantType": grantTypeValue])
        }
        let outcome = try await handler.exchange(
            TokenRequest(
                tenant: tenant, issuer: issuer, client: client, form: form.only(handler.parameters), dialect: dialect,
                tenantIssuers: configuration.issuers(tenant)))
        progress.scopes = outcome.scope.description
        var body = outcome.response
        if dialect == .entra {
            body.extExpiresIn = body.expiresIn
            if form["client_info"] == "1", let userID = outcome.userID {
                body.clientInfo = Self.clientInfo(uid: userID, utid: tenant.guid)
            }
        }
        let json = try encoder.encode(body)
        return Response(
            status: .ok,
            headers: [
                .contentType: "application/json; charset=utf-8", .cacheControl: dialect == .entra ? "no-store, no-cache" : "no-store",
                .pragma: "no-cache",
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: json)))
    }

    /// MSAL's `client_info`: base64url of `{"uid":…,"utid":…}`; it becomes the account's `home_account_id` `uid.utid`.
    static func clientInfo(uid: String, utid: String) -> String {
        Base64URL.encode(Array("{\"uid\":\(ErrorRenderer.jsonString(uid)),\"utid\":\(ErrorRenderer.jsonString(utid))}".utf8))
    }

    /// RFC 6749 §3.2 / Appendix B: the body is `application/x-www-form-urlencoded` (a charset
    /// parameter is allowed and must be UTF-8).
    static func requireFormContentType(_ header: String?) throws(CatalogueError) {
        guard let header else { throw CatalogueError(Catalogue.unsupportedContentType, ["contentType": "(none)"]) }
        let parts = header.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard parts.first == "application/x-www-form-urlencoded" else {
            throw CatalogueError(Catalogue.unsupportedContentType, ["contentType": String(header.prefix(100))])
        }
        for parameter in parts.dropFirst() where parameter.hasPrefix("charset=") {
            let charset = parameter.dropFirst("charset=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            guard charset == "utf-8" || charset == "utf8" else {
                throw CatalogueError(Catalogue.unsupportedContentType, ["contentType": String(header.prefix(100))])
            }
        }
    }
}
