import Foundation
import GatehouseCore
import Hummingbird
import NIOCore

/// The pushed authorization request endpoint (RFC 9126 §2), `/{tenant}/oauth2/par`: the client
/// authenticates as at the token endpoint (every method), posts the authorization parameters
/// (or a signed request object in `request`), and gets a one-time `request_uri` bound to it,
/// valid for `PushedAuthorizationRequests.lifetime` (60 s). The parameters are checked here as
/// the authorization endpoint would check them, so that a mistake is answered to the client
/// (JSON, §2.3) and not to the user's browser.
struct PushedAuthorizationRoute: Sendable {
    let configuration: ServerConfiguration
    let front: ClientAuthenticatedStep
    let assembler: AuthorizationRequestAssembler
    let renderer: ErrorRenderer
    let signIns: SignInLogWriter
    let time: TimeSource
    let random: RandomSource
    /// RFC 9449 §10.1: a DPoP proof at this endpoint binds the code as `dpop_jkt` would.
    let dpop: DPoPStep

    func register(on router: some RouterMethods<GatehouseContext>, dialect: any Dialect) {
        router.post(RouterPath(stringLiteral: "/:tenant/" + dialect.endpointPath("par"))) { request, context in
            await self.handle(request, context: context)
        }
    }

    private func handle(_ request: Request, context: GatehouseContext) async -> Response {
        let segment = context.parameters.get("tenant") ?? ""
        var context = context
        context.rendering.realm = segment
        var progress = ClientAuthenticatedStep.Progress()
        var failure: CatalogueError? = nil
        var scopes: String? = nil
        let response: Response
        do {
            let authenticated = try await front.run(
                request, context: &context, segment: segment, endpoint: context.rendering.dialect.endpointPath("par"),
                progress: &progress)
            let (tenant, form, client) = (authenticated.tenant, authenticated.form, authenticated.client)
            scopes = form["scope"]
            // RFC 9126 §2.1: a pushed request does not refer to another.
            if form["request_uri"] != nil { throw CatalogueError(Catalogue.requestURIPushed) }
            if let claimed = form["client_id"], claimed != client.client.id.value {
                throw CatalogueError(Catalogue.clientIdMismatch, detail: "client_id differs from the authenticated client")
            }
            let now = time.now()
            var parameters = PushedAuthorizationRequests.parameters(of: form)
            let signed = form["request"] != nil
            if let jwt = form["request"] {
                // RFC 9126 §3: a pushed object carries every parameter; none may be added beside it.
                let object = try await assembler.verifier.parameters(
                    of: jwt, record: client.record, issuers: configuration.issuers(tenant), now: now,
                    strict: client.client.requireSignedRequestObject)
                parameters = try RequestObjectVerifier.assemble(object: object, query: parameters, strict: true)
                scopes = parameters["scope"]
            }
            var values = parameters.dictionary
            values["client_id"] = [client.client.id.value]
            // RFC 9449 §10.1: a proof here binds the code to its key, as `dpop_jkt` does; with
            // both, they must name the same key.
            if let proof = try await dpop.binding(request, tenant: tenant, context: &context), case .dpop(let jkt) = proof {
                if let named = parameters["dpop_jkt"], named != jkt {
                    throw CatalogueError(Catalogue.dpopJKTMismatch, detail: "dpop_jkt \(RecordedValue.cut(named, to: 64))")
                }
                values["dpop_jkt"] = [jkt]
            }
            parameters = FormParameters(values)
            // Checked now as the authorization endpoint will check it; its errors come back here.
            let dialect = context.rendering.dialect
            do {
                _ = try await AuthorizationRequestParser().parse(
                    parameters, tenant: tenant, issuer: configuration.issuer(tenant, dialect: dialect), dialect: dialect,
                    origin: signed ? .pushedSigned : .pushed
                ) { _ in client.record.access }
            } catch let failure as AuthorizationFailure {
                switch failure {
                case .page(let error), .redirect(let error, _): throw error
                }
            }
            let uri = try await assembler.pushed.push(parameters, signed: signed, client: client.client, now: now, random: random)
            response = try .noStoreJSON(["request_uri": uri, "expires_in": Int(assembler.pushed.lifetime)], status: .created)
        } catch {
            let caught = CatalogueError.caught(error, context: context, step: "par")
            failure = caught
            response = renderer.response(for: caught, context: context)
        }
        signIns.record(
            request, context: context, time: time.now(), tenant: segment, clientID: progress.clientID, step: "par", scopes: scopes,
            failure: failure)
        return response
    }
}
