import Foundation
import GatehouseCore
import Hummingbird

/// The client-authenticated front half of every endpoint that authenticates clients (token,
/// device authorization, introspection, revocation; later PAR): the tenant from the path
/// (`common`/`organizations` on the Entra routes: the tenant that holds the client), the strict
/// form body, the presented credentials (exactly one method) and the client's authentication,
/// with one audience rule for client assertions (`ServerConfiguration.assertionAudiences`).
struct ClientAuthenticatedStep: Sendable {
    let configuration: ServerConfiguration
    let tenants: TenantDirectory
    let authenticator: ClientAuthenticator
    let texts: CatalogueTexts
    let throttles: Throttles
    let time: TimeSource
    /// Where a matched secret's use is noted (`clients show` says when each was last used).
    var secretUsage: SecretUsageRecorder? = nil

    /// What the sign-in record and the error response need even when the step fails half-way.
    struct Progress {
        /// The client ID the request claimed, then the authenticated one.
        var clientID: String?
        /// The form's `grant_type`, where the endpoint has one.
        var grantType: String?
    }

    struct Authenticated {
        let tenant: Tenant
        let form: FormParameters
        let client: AuthenticatedClient
        /// The source address the throttles count the request under (`Throttles.source`), worked out once.
        let source: String
    }

    /// Runs the step in the dialect of `context`; once the form is read, an error is rendered in
    /// the language its `ui_locales` asks for. `endpoint` names this endpoint's own path (an
    /// assertion may name it as its `aud`); `grantType` reads the grant type from the form, where
    /// the endpoint has one (it is read, and required, before the credentials, as the token
    /// endpoint always did).
    ///
    /// `answersBrowsers`: the endpoint serves single-page apps (token, device authorization,
    /// revocation): a public client's origins may read the answer (`BrowserAccessMiddleware`), and
    /// a confidential client's request from a page (`Origin` present) is refused with 9002326.
    func run(
        _ request: Request, context: inout GatehouseContext, segment: String, endpoint: String, progress: inout Progress,
        answersBrowsers: Bool = false, grantType: (FormParameters) throws -> String? = { _ in nil }
    ) async throws -> Authenticated {
        let multiTenant = context.rendering.dialect.isMultiTenantAlias(segment)
        var tenant: Tenant? = multiTenant ? nil : try await tenants.resolve(segment, for: context)
        let form = try await FormBody.read(request, limit: configuration.maxBodySize)
        if let uiLocales = form["ui_locales"] {
            context.rendering.language = texts.language(for: request, formUILocales: uiLocales)
        }
        progress.clientID = form["client_id"].flatMap { try? ClientID($0) }?.value
        let grant = try grantType(form)
        progress.grantType = grant
        let presented = try PresentedClientCredentials(authorization: request.headers[.authorization], form: form)
        progress.clientID = presented.claimedClientID?.value ?? progress.clientID
        if multiTenant {
            tenant = try await tenants.resolveMultiTenant(segment, clientID: try presented.clientIDForTenantDiscovery(), grantType: grant)
        }
        guard let tenant else { throw CatalogueError(Catalogue.missingTenantRealm) }
        context.notes.resolvedTenant(tenant)
        let source = throttles.source(request, context: context)
        let client = try await authenticator.authenticate(
            presented, tenant: tenant.name,
            acceptedAudiences: configuration.assertionAudiences(tenant, segment: segment, endpoint: endpoint),
            grantType: grant.map(GrantType.init(rawValue:)),
            gate: ClientCredentialGate(gate: throttles.client, source: source, tenant: tenant.name))
        progress.clientID = client.client.id.value
        context.notes.update { $0.credential = client.credential }
        if let secretID = client.secretID {
            secretUsage?.note(tenant: tenant.name, clientID: client.client.id, secretID: secretID, now: time.now())
        }
        if answersBrowsers {
            if client.client.type == .confidential, request.headers[.origin] != nil {
                // Readable by the client's own pages, so that its developer sees why.
                context.notes.browserOrigins = client.record.origins
                throw CatalogueError(
                    Catalogue.crossOriginConfidentialClient, ["clientId": client.client.id.value],
                    detail: "Origin \(RecordedValue.cut(request.headers[.origin] ?? "", to: 256))")
            }
            context.notes.allowBrowser(of: client.record)
        }
        return Authenticated(tenant: tenant, form: form, client: client, source: source)
    }
}
