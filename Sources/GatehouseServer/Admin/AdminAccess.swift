import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird
import OpenAPIRuntime

/// Who called the admin API: the tenant whose token it presented, what its roles allow, and the
/// actor the audit log names. Set by `AdminAccessMiddleware` for the handlers of one request.
struct AdminCaller: Sendable {
    /// The tenant that issued the token.
    let tenant: TenantName
    /// Whether that tenant is the administrative tenant (its principals administer every tenant).
    let administrative: Bool
    let canRead: Bool
    let canWrite: Bool
    let actor: AdminActor
    let traceID: String
    let source: String?

    @TaskLocal static var current: AdminCaller?

    /// Whether the caller may administer `tenant`.
    func reaches(_ tenant: TenantName) -> Bool { administrative || tenant == self.tenant }

    /// Refuses a tenant the caller does not administer (403, 9900204).
    func reach(_ tenant: TenantName) throws {
        guard reaches(tenant) else { throw CatalogueError(Catalogue.adminTenantOutOfReach, ["tenant": tenant.value]) }
    }
}

/// The admin API's door: a bearer access token issued by Gatehouse for a tenant's admin API
/// (signature, issuer, expiry, revocation, `typ` at+jwt, `aud` the admin API), the role the
/// method needs (`Admin.Read` for GET, `Admin.Write` otherwise), and the tenant in the path within
/// the caller's reach. Every failure, here or in a handler, is a catalogue error in JSON.
struct AdminAccessMiddleware: RouterMiddleware {
    typealias Context = GatehouseContext
    let configuration: ServerConfiguration
    /// Role assignments, grants and the recorded administrative tenant are read here on every
    /// request: taking a role or a grant away ends access at once, not when tokens expire.
    let store: any GatehouseStore
    let tenants: TenantDirectory
    let inspector: TokenInspector
    let throttles: Throttles
    let renderer: ErrorRenderer

    func handle(_ request: Request, context: GatehouseContext, next: (Request, GatehouseContext) async throws -> Response)
        async throws -> Response
    {
        var context = context
        context.rendering.dialect = Dialects.native
        context.rendering.realm = "gatehouse-admin"
        context.rendering.bearerChallenge = true
        do {
            var request = request
            let caller = try await authenticate(request, context: context)
            context.rendering.bearerChallenge = false
            let write = request.method != .get && request.method != .head
            guard write ? caller.canWrite : caller.canRead else {
                throw CatalogueError(
                    Catalogue.adminRoleRequired,
                    ["role": write ? BuiltInAdminAPI.writeRole : BuiltInAdminAPI.readRole, "tenant": caller.tenant.value])
            }
            if let raw = context.parameters.get("tenant") {
                guard let tenant = try? TenantName(raw) else { throw Administration.AdministrationError.notFound("tenant", raw) }
                try caller.reach(tenant)
            }
            try await Self.refuseControlCharacters(&request, context: context)
            return try await AdminCaller.$current.withValue(caller) { try await next(request, context) }
        } catch {
            return renderer.response(for: Self.catalogueError(error, context: context, step: request.uri.path), context: context)
        }
    }

    /// The catalogue error for whatever a request met: the service's refusals, a body or
    /// parameter the document does not allow (400), the database away (503), else 50000.
    static func catalogueError(_ error: any Error, context: GatehouseContext, step: String) -> CatalogueError {
        switch error {
        case let error as Administration.AdministrationError: return error.catalogueError
        case let error as CatalogueError: return error
        case let error as ServerError:
            if let underlying = error.underlyingError as? Administration.AdministrationError { return underlying.catalogueError }
            if let underlying = error.underlyingError as? CatalogueError { return underlying }
            if error.underlyingError is StoreUnavailable { return .caught(error.underlyingError, context: context, step: step) }
            if let decoding = error.underlyingError as? DecodingError { return Self.schemaRefusal(decoding).catalogueError }
            if String(describing: type(of: error.underlyingError)).contains("RuntimeError") {
                return Administration.AdministrationError.invalid(
                    nil, "schema", "the request does not match the admin API's document: \(error.causeDescription)"
                ).catalogueError
            }
            return .caught(error.underlyingError, context: context, step: step)
        default: return .caught(error, context: context, step: step)
        }
    }

    /// A body the document does not allow, named by the member it concerns (a `field_errors`
    /// entry) in words, not in the decoder's.
    static func schemaRefusal(_ error: DecodingError) -> Administration.AdministrationError {
        func field(_ context: DecodingError.Context, _ last: String? = nil) -> String? {
            let names = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue } + (last.map { [$0] } ?? [])
            let path = names.filter { !$0.isEmpty }.joined(separator: ".")
            return path.isEmpty ? nil : path
        }
        let (name, message): (String?, String) =
            switch error {
            case .keyNotFound(let key, let context): (field(context, key.stringValue), "is required")
            case .typeMismatch(let type, let context): (field(context), "has a value of the wrong type (expected \(type))")
            case .valueNotFound(_, let context): (field(context), "needs a value")
            case .dataCorrupted(let context): (field(context), context.debugDescription)
            @unknown default: (nil, "cannot be read")
            }
        let said = RecordedValue.cut(message, to: 300)
        return .invalid(
            name, "schema",
            name.map { "'\($0)' \(said)" } ?? "the request does not match the admin API's document: \(said)")
    }

    /// A control character in the path or the query, or a NUL in a JSON string of the body, is
    /// refused here (PostgreSQL refuses NUL in text; no name the API takes holds one).
    static func refuseControlCharacters(_ request: inout Request, context: GatehouseContext) async throws {
        let refusal = Administration.AdministrationError.invalid(nil, "characters", "the request holds a control character")
        // Each part decoded on its own (an undecodable one is refused: the runtime decodes parts one by one).
        let parts = request.uri.path.split(separator: "/") + (request.uri.query ?? "").split(whereSeparator: { $0 == "&" || $0 == "=" })
        for part in parts {
            guard let decoded = String(part).replacingOccurrences(of: "+", with: " ").removingPercentEncoding,
                !decoded.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
            else { throw refusal }
        }
        guard request.method != .get && request.method != .head && request.method != .delete else { return }
        let body: ByteBuffer
        do { body = try await request.collectBody(upTo: context.maxUploadSize) } catch {
            throw CatalogueError(Catalogue.requestBodyTooLarge, ["limit": "\(context.maxUploadSize)"])
        }
        request.body = .init(buffer: body)
        // In JSON a NUL is written escaped, `\u0000` (a raw one is not JSON).
        if String(buffer: body).lowercased().contains("\\u0000") { throw refusal }
    }

    func authenticate(_ request: Request, context: GatehouseContext) async throws -> AdminCaller {
        guard let raw = AuthorizationHeader.bearer(request) else { throw CatalogueError(Catalogue.bearerTokenMissing) }
        func invalid(_ reason: String) -> CatalogueError { CatalogueError(Catalogue.invalidAccessToken, ["reason": reason]) }
        let segments = raw.split(separator: ".", omittingEmptySubsequences: false)
        guard raw.utf8.count <= 16_384, segments.count == 3,
            let header = Base64URL.decode(segments[0]).flatMap({ try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }),
            let payload = Base64URL.decode(segments[1]).flatMap({ try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }),
            let issuer = payload["iss"] as? String
        else { throw invalid(InspectionFailure.malformed.rawValue) }
        // RFC 9068 §4: an access token says so in `typ`; an ID token or another JWT is refused.
        guard let type = (header["typ"] as? String)?.lowercased(), type == "at+jwt" || type == "application/at+jwt" else {
            throw invalid("not an access token (typ)")
        }
        // The issuing tenant, from the issuer: `{base URL}/{tenant}` or, in Entra's form, `{base URL}/{GUID}/v2.0`.
        let prefix = configuration.baseURL + "/"
        guard issuer.hasPrefix(prefix), let segment = issuer.dropFirst(prefix.count).split(separator: "/").first,
            let tenant = try? await tenants.resolve(String(segment))
        else { throw invalid(InspectionFailure.issuer.rawValue) }
        let claims: AccessTokenClaims
        switch await inspector.accessToken(raw, tenant: tenant.name, issuers: configuration.issuers(tenant)) {
        case .success(let verified): claims = verified
        case .failure(.unavailable): throw StoreUnavailable("revocation state unavailable")
        case .failure(let failure): throw invalid(failure.rawValue)
        }
        // The admin API takes Bearer tokens only: a token bound to a DPoP key (RFC 9449 §7.2) is
        // refused rather than accepted without its proof.
        if claims.confirmation != nil { throw CatalogueError(Catalogue.dpopTokenAsBearer) }
        // For the admin API alone: a token for several APIs would also be one that each of them
        // could replay here, and its roles could be another API's of the same name.
        guard claims.aud.count == 1, let audience = claims.aud.first,
            audience == BuiltInAdminAPI.identifier || audience == BuiltInAdminAPI.applicationID
        else {
            throw CatalogueError(Catalogue.adminTokenAudience, ["audience": claims.aud.joined(separator: " ")])
        }
        var roles: [String] = []
        if case .strings(let values) = claims.additional["roles"] { roles = values }
        // A scope names a permission bare or under the API's name (`api://gatehouse-admin/Admin.Read`).
        let scopes = claims.scopes.tokens.map { token in
            for prefix in [BuiltInAdminAPI.identifier + "/", BuiltInAdminAPI.applicationID + "/"] where token.hasPrefix(prefix) {
                return String(token.dropFirst(prefix.count))
            }
            return token
        }
        // What the principal holds now on this tenant's admin API, read from the store: a user's
        // role assignments (the permission of the same name must also be in the token's scope);
        // an application's granted roles (also in the token, as `roles` or, natively, `scope`).
        let api = try ClientID(BuiltInAdminAPI.applicationID)
        let held: Set<String>
        if claims.isUserToken {
            let assigned = try await store.roleAssignments(tenant: tenant.name, userID: claims.sub).filter { $0.api == api }.map(\.role)
            held = Set(assigned).intersection(scopes)
        } else {
            var granted: [String] = []
            if let id = try? ClientID(claims.clientID) {
                granted = try await store.access(tenant: tenant.name, clientID: id).filter { $0.api == api }.flatMap(\.roles)
            }
            held = Set(granted).intersection(Set(roles).union(scopes))
        }
        let canWrite = held.contains(BuiltInAdminAPI.writeRole)
        // The configured administrative tenant counts only once `admin bootstrap` recorded it.
        var administrative = false
        if tenant.name == configuration.adminTenant {
            administrative = try await store.setting(BuiltInAdminAPI.administrativeTenantSetting) == tenant.name.value
        }
        let actor = AdminActor(
            kind: claims.isUserToken ? .user : .application, id: claims.isUserToken ? claims.sub : claims.clientID, tenant: tenant.name)
        return AdminCaller(
            tenant: tenant.name, administrative: administrative,
            canRead: canWrite || held.contains(BuiltInAdminAPI.readRole), canWrite: canWrite, actor: actor, traceID: context.traceID,
            source: throttles.source(request, context: context))
    }
}
