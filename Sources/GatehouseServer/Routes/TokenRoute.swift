import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Tracing

/// The token endpoint (RFC 6749 §3.2) as a readable pipeline (docs/architecture.md):
/// method, tenant, content type, form, grant_type, client authentication, grant registry,
/// client-may-use-grant, the binding (a DPoP proof), the grant itself; every outcome becomes a
/// sign-in event.
struct TokenRoute: Sendable {
    let configuration: ServerConfiguration
    let front: ClientAuthenticatedStep
    let dpop: DPoPStep
    let grants: GrantRegistry
    let signIns: SignInLogWriter
    let renderer: ErrorRenderer

    /// Collects what the sign-in event records while the request goes through the pipeline.
    private struct Progress {
        var front = ClientAuthenticatedStep.Progress()
        var scopes: String?
        /// The grant's note on a success (`GrantOutcome.note`).
        var note: String?
    }

    /// Registers the endpoint in a dialect's group (`/{tenant}/oauth2/token`, `/{tenant}/oauth2/v2.0/token`).
    func register(on router: some RouterMethods<GatehouseContext>, dialect: any Dialect) {
        let path = RouterPath(stringLiteral: "/:tenant/" + dialect.endpointPath("token"))
        // The dialect's success headers, built once.
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        headers.append(dialect.tokenResponseHeaders)
        router.post(path) { [headers] request, context in await self.handle(request, context: context, headers: headers) }
        for method in [HTTPRequest.Method.get, .put, .delete, .patch, .head, .options] {
            router.on(path, method: method) { [headers] request, context in await self.handle(request, context: context, headers: headers) }
        }
    }

    func handle(_ request: Request, context: GatehouseContext, headers: HTTPFields) async -> Response {
        let tenantSegment = context.parameters.get("tenant") ?? ""
        var context = context
        context.rendering.realm = tenantSegment
        var progress = Progress()
        var failure: CatalogueError? = nil
        var response: Response
        do {
            response = try await run(request, context: &context, tenantSegment: tenantSegment, progress: &progress, headers: headers)
        } catch {
            let caught = CatalogueError.caught(error, context: context, step: "token")
            failure = caught
            response = renderer.response(for: caught, context: context)
        }
        if let failure {
            context.logger.info(
                "token request failed",
                metadata: [
                    "code": "\(failure.entry.number)", "error": "\(failure.error.rawValue)",
                    "client_id": "\(progress.front.clientID ?? "-")", "detail": "\(failure.detail ?? "-")",
                ])
        }
        // A refused scope is named in the detail (the catalogue's own parameter).
        var detail = progress.note
        if let failure, failure.error == .invalidScope, let refused = failure.parameters["scope"] { detail = "refused scope '\(refused)'" }
        signIns.record(
            request, context: context, time: Date(), tenant: tenantSegment, clientID: progress.front.clientID,
            step: progress.front.grantType,
            scopes: progress.scopes, failure: failure, detail: detail, kind: .token)
        return response
    }

    private func run(
        _ request: Request, context: inout GatehouseContext, tenantSegment: String, progress: inout Progress, headers: HTTPFields
    ) async throws -> Response {
        guard request.method == .post else {
            throw CatalogueError(Catalogue.endpointOnlyAcceptsPost, ["method": request.method.rawValue])
        }
        let dialect = context.rendering.dialect
        let authenticated = try await traced("client authentication") {
            try await front.run(
                request, context: &context, segment: tenantSegment, endpoint: "oauth2/token", progress: &progress.front,
                answersBrowsers: true, grantType: { form in try form.require("grant_type") })
        }
        let (tenant, form, client) = (authenticated.tenant, authenticated.form, authenticated.client)
        // What was asked for, until the grant says what was granted (a refusal records the request).
        progress.scopes = form["scope"].map { RecordedValue.cut($0, to: RecordedValue.scope) }
        let grantTypeValue = progress.front.grantType ?? ""
        let issuer = configuration.issuer(tenant, dialect: dialect)
        let handler = try grants.handler(for: grantTypeValue)
        guard client.client.grantTypes.contains(handler.grantType) else {
            throw CatalogueError(Catalogue.grantNotAllowedForClient, ["clientId": client.client.id.value, "grantType": grantTypeValue])
        }
        // What the tokens are bound to, for every grant alike (RFC 9449 §5).
        let binding = try await dpop.binding(request, tenant: tenant, context: &context)
        if binding == nil, client.client.requireDPoP {
            throw CatalogueError(Catalogue.dpopProofRequired, ["clientId": client.client.id.value])
        }
        let outcome = try await traced("grant \(handler.grantType.rawValue)") {
            try await handler.exchange(
                TokenRequest(
                    tenant: tenant, issuer: issuer, client: client, form: form.only(handler.parameters), dialect: dialect,
                    tenantIssuers: configuration.issuers(tenant),
                    origin: RequestOrigin(source: authenticated.source, userAgent: request.headers[.userAgent]), binding: binding))
        }
        progress.scopes = outcome.scope.description
        progress.note = outcome.note
        context.notes.update { $0.userID = outcome.userID }
        var body = outcome.response
        dialect.decorate(&body, form: form, userID: outcome.userID, tenant: tenant)
        var headers = headers
        if let nonce = context.rendering.dpopNonce { headers[.dpopNonce] = nonce }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body.json())))
    }

    /// A child span of the request's span when tracing is on; otherwise just `body`.
    private func traced<T>(_ name: @autoclosure () -> String, _ body: () async throws -> T) async throws -> T {
        guard configuration.tracing else { return try await body() }
        return try await withSpan(name(), ofKind: .internal) { _ in try await body() }
    }

    /// RFC 6749 §3.2 / Appendix B: the body is `application/x-www-form-urlencoded` (a charset
    /// parameter is allowed and must be UTF-8).
    static func requireFormContentType(_ header: String?) throws(CatalogueError) {
        guard let header else { throw CatalogueError(Catalogue.unsupportedContentType, ["contentType": "(none)"]) }
        // What every client sends, checked without splitting.
        if header.utf8.elementsEqual("application/x-www-form-urlencoded".utf8) { return }
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
