import Foundation

/// The dialect of the RFCs: endpoints under `/{tenant}/oauth2/`, issuer `{base}/{tenant}`,
/// `scope` plus RFC 8707 `resource`, RFC 9068 access tokens with a `scope` claim, RFC 6749 §5.2
/// errors.
public struct NativeDialect: Dialect {
    public init() {}

    public var name: String { "native" }

    public func endpointPath(_ endpoint: String) -> String { "oauth2/\(endpoint)" }
    public func isMultiTenantAlias(_ segment: String) -> Bool { false }

    public func issuer(baseURL: String, tenant: Tenant) -> String { "\(baseURL)/\(tenant.name.value)" }

    public func delegatedAccess(requested: String?, resources: [String], access: ClientAccess, fallback: String)
        throws(CatalogueError) -> (scope: Scope, audience: [String])
    {
        let resolved = try ScopeAndAudience.resolve(
            requested: requested, resources: resources, access: access, application: false, fallback: fallback,
            audienceValue: \.defaultAudience)
        return (resolved.scope, resolved.audience)
    }

    public func refreshScope(requested: String, access: ClientAccess, fallback: String) throws(CatalogueError) -> Scope {
        try Scope(parsing: requested)
    }

    /// The requested (or default) scope, whose API names are roles granted to the client.
    public func applicationAccess(requested: String?, resources: [String], access: ClientAccess, fallback: String)
        throws(CatalogueError) -> ApplicationAccess
    {
        let resolved = try ScopeAndAudience.resolve(
            requested: requested, resources: resources, access: access, application: true, fallback: fallback,
            audienceValue: \.defaultAudience)
        let scope = resolved.scope
        return ApplicationAccess(
            scope: scope, audience: resolved.audience, roles: nil, responseScope: scope.isEmpty ? nil : scope.description)
    }

    public func accessTokenClaims(
        _ subject: TokenSubject, tenant: Tenant, clientID: String, scope: Scope, jti: String, iat: Int, random: RandomSource
    ) -> (scope: String?, additional: AdditionalClaims) {
        (scope.isEmpty ? nil : scope.description, AdditionalClaims())
    }

    public var delegatedScopeClaim: String? { nil }

    public func decorate(_ claims: inout IDTokenClaims, user: User, tenant: Tenant, scopes: Set<String>, random: RandomSource) {}

    public func decorate(_ response: inout TokenResponse, form: FormParameters, userID: String?, tenant: Tenant) {}

    public var offersVerificationURIComplete: Bool { true }

    public var tokenResponseHeaders: [(name: String, value: String)] { [("Cache-Control", "no-store"), ("Pragma", "no-cache")] }
    public var errorResponseHeaders: [(name: String, value: String)] { tokenResponseHeaders }

    public func errorValue(for error: CatalogueError) -> OAuthErrorValue { error.error }

    public func status(for entry: CatalogueEntry) -> Int { entry.status }

    /// Keys in the order `error`, `error_description`, `error_codes`, `suberror`, `timestamp`,
    /// `trace_id`, `correlation_id`, `error_uri`, `claims`.
    public func errorBody(_ parts: ErrorParts) -> String {
        let entry = parts.error.entry
        var json = JSONObjectText()
        json.add("error", string: parts.errorValue.rawValue)
        json.add("error_description", string: parts.message)
        json.add("error_codes", raw: "[\(entry.number)]")
        if let suberror = entry.suberror { json.add("suberror", string: suberror) }
        json.add("timestamp", string: parts.timestamp)
        json.add("trace_id", string: parts.traceID)
        json.add("correlation_id", string: parts.correlationID)
        json.add("error_uri", string: parts.errorURI)
        if let claims = entry.claims { json.add("claims", string: claims) }
        if !parts.error.fieldErrors.isEmpty {
            var list: [UInt8] = [UInt8(ascii: "[")]
            for (index, field) in parts.error.fieldErrors.enumerated() {
                var item = JSONObjectText()
                item.add("field", string: field.field)
                item.add("rule", string: field.rule)
                item.add("message", string: field.message)
                if index > 0 { list.append(UInt8(ascii: ",")) }
                list += Array(item.result.utf8)
            }
            list.append(UInt8(ascii: "]"))
            json.add("field_errors", raw: String(decoding: list, as: UTF8.self))
        }
        return json.result
    }
}
