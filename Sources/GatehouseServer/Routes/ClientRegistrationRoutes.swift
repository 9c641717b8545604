import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird
import NIOCore

/// RFC 7591 dynamic client registration at `POST /{tenant}/oauth2/register`, and RFC 7592
/// management of a registration at `/{tenant}/oauth2/register/{client_id}` (GET, PUT, DELETE)
/// with its registration access token. Errors are JSON with RFC 7591's `error` values and the
/// catalogue's code; a token that does not verify is answered 401 with `WWW-Authenticate: Bearer`.
struct ClientRegistrationRoutes: Sendable {
    let env: SignInEnvironment
    let administration: Administration
    let renderer: ErrorRenderer
    let fetcher: (any OutboundFetcher)?

    func register(on router: some RouterMethods<GatehouseContext>) {
        router.post("/:tenant/oauth2/register") { request, context in
            await self.handle(request, context: context, step: "client registration", counted: true) { tenant, registrar in
                let body = try await Self.body(request)
                let registration = try await registrar.register(tenant: tenant, body: body, bearer: AuthorizationHeader.bearer(request))
                context.logger.info(
                    "client registered itself",
                    metadata: ["client_id": "\(registration.client.id)", "policy": "\(registration.record.policy.rawValue)"])
                return try self.answer(registration, tenant: tenant, status: .created)
            }
        }
        router.get("/:tenant/oauth2/register/:client_id") { request, context in
            await self.handle(request, context: context, step: "client registration read") { tenant, registrar in
                let registration = try await registrar.read(
                    tenant: tenant, clientID: context.parameters.get("client_id") ?? "", bearer: AuthorizationHeader.bearer(request))
                return try self.answer(registration, tenant: tenant, status: .ok)
            }
        }
        router.put("/:tenant/oauth2/register/:client_id") { request, context in
            await self.handle(request, context: context, step: "client registration update", counted: true) { tenant, registrar in
                let body = try await Self.body(request)
                let registration = try await registrar.update(
                    tenant: tenant, clientID: context.parameters.get("client_id") ?? "", bearer: AuthorizationHeader.bearer(request),
                    body: body)
                env.clients.invalidate(tenant: tenant.name, id: registration.client.id)
                return try self.answer(registration, tenant: tenant, status: .ok)
            }
        }
        router.delete("/:tenant/oauth2/register/:client_id") { request, context in
            await self.handle(request, context: context, step: "client registration delete", counted: true) { tenant, registrar in
                let raw = context.parameters.get("client_id") ?? ""
                try await registrar.delete(tenant: tenant, clientID: raw, bearer: AuthorizationHeader.bearer(request))
                if let id = try? ClientID(raw) { env.clients.invalidate(tenant: tenant.name, id: id) }
                return Response(status: .noContent, headers: [.cacheControl: "no-store"])
            }
        }
    }

    typealias Body = @Sendable (Tenant, ClientRegistrar) async throws -> Response

    /// `counted`: every attempt counts toward the per-address registration throttle (a stranger
    /// must not fill the tenant with clients; each change writes, audits and drops every node's
    /// client caches).
    private func handle(_ request: Request, context: GatehouseContext, step: String, counted: Bool = false, body: Body) async
        -> Response
    {
        let segment = context.parameters.get("tenant") ?? ""
        do {
            let tenant = try await env.tenants.resolve(segment)
            let source = env.throttles.source(request, context: context)
            if counted {
                try env.throttles.clientRegistration.admit("\(source)|\(tenant.name.value)", now: env.time.now())?.settle(failed: true)
            }
            let admin = administration.acting(
                as: AdminActor(kind: .application, id: "(registration)", tenant: tenant.name), traceID: context.traceID, source: source)
            var fetchKeySet: (@Sendable (String, Tenant) async throws -> String)? = nil
            if let fetcher {
                fetchKeySet = { url, tenant in
                    try await fetcher.fetch(
                        url, policy: OutboundPolicy(tenant: tenant), accept: "application/jwk-set+json, application/json"
                    )
                    .text
                }
            }
            let registrar = ClientRegistrar(administration: admin, fetchKeySet: fetchKeySet)
            return try await body(tenant, registrar)
        } catch {
            let caught = CatalogueError.caught(error, context: context, step: step)
            if caught.entry != Catalogue.tokenIssuanceError {
                context.logger.info(
                    "\(step) refused", metadata: ["code": "\(caught.entry.number)", "detail": "\(caught.detail ?? "-")"])
            }
            var context = context
            context.rendering.realm = segment
            context.rendering.usedAuthorizationHeader = false
            context.rendering.bearerChallenge = caught.entry.status == 401
            return renderer.response(for: caught, context: context)
        }
    }

    private func answer(_ registration: ClientRegistrar.Registration, tenant: Tenant, status: HTTPResponse.Status) throws -> Response {
        let uri = env.configuration.endpoint(tenant.name.value, "oauth2/register/\(registration.client.id.value)")
        return try .noStoreJSON(registration.document(registrationClientURI: uri), status: status)
    }

    /// The JSON body (RFC 7591 §3.1: `application/json`), at most `ClientMetadata.maximumSize` bytes.
    static func body(_ request: Request) async throws -> Data {
        let type = request.headers[.contentType]?.lowercased() ?? ""
        guard type.hasPrefix("application/json") else {
            throw ClientMetadata.invalid("the request", "is not application/json")
        }
        var buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: ClientMetadata.maximumSize)
        } catch {
            throw ClientMetadata.invalid("the request", "is larger than \(ClientMetadata.maximumSize) bytes")
        }
        return Data(buffer.readBytes(length: buffer.readableBytes) ?? [])
    }
}
