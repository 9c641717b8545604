import Foundation

/// The Microsoft identity platform v2.0 format (docs/entra.md): endpoints under
/// `/{tenant}/oauth2/v2.0/`, `common`/`organizations` for the tenant holding the client, issuer
/// `{base}/{tenant GUID}/v2.0`, `{resource}/{permission}` scopes (`EntraScopes`), v2.0 token
/// claims, `ext_expires_in` and `client_info`, and AADSTS errors.
public struct EntraDialect: Dialect {
    public init() {}

    public var name: String { "entra" }

    /// The headers MSAL.js may send to the token and device code endpoints from a browser
    /// (`Access-Control-Allow-Headers`).
    public static let browserRequestHeaders =
        "client-request-id, return-client-request-id, x-client-SKU, x-client-VER, x-client-OS, x-client-CPU, x-client-current-telemetry, x-client-last-telemetry, x-ms-lib-capability, x-app-name, x-app-ver"

    public func endpointPath(_ endpoint: String) -> String { "oauth2/v2.0/\(endpoint)" }

    /// Path segments that name no tenant but let the client decide.
    public static let multiTenantAliases: Set<String> = ["common", "organizations"]
    public func isMultiTenantAlias(_ segment: String) -> Bool { Self.multiTenantAliases.contains(segment) }

    public func issuer(baseURL: String, tenant: Tenant) -> String { Self.issuer(baseURL: baseURL, tenantID: tenant.guid) }
    /// `{base}/{tenant ID}/v2.0`; discovery for `common` publishes it with `{tenantid}`.
    public static func issuer(baseURL: String, tenantID: String) -> String { "\(baseURL)/\(tenantID)/v2.0" }

    public func delegatedAccess(requested: String?, resources: [String], access: ClientAccess, fallback: String)
        throws(CatalogueError) -> (scope: Scope, audience: [String])
    {
        try EntraScopes.delegated(requested: requested, access: access, fallback: fallback)
    }

    /// `{resource}/.default` stands for the granted permissions, as at the authorization endpoint.
    public func refreshScope(requested: String, access: ClientAccess, fallback: String) throws(CatalogueError) -> Scope {
        try EntraScopes.delegated(requested: requested, access: access, fallback: fallback).scope
    }

    /// Exactly `{resource}/.default`; the token carries the roles granted on that API as `roles`,
    /// and the response has no scope.
    public func applicationAccess(requested: String?, resources: [String], access: ClientAccess, fallback: String)
        throws(CatalogueError) -> ApplicationAccess
    {
        let (scope, audience, roles) = try EntraScopes.application(requested: requested, access: access)
        return ApplicationAccess(scope: scope, audience: audience, roles: roles, responseScope: nil)
    }

    /// The v2.0 claims (`nbf ver tid oid azp azpacr scp|roles uti rh name preferred_username
    /// idtyp`) and no `scope`.
    public func accessTokenClaims(
        _ subject: TokenSubject, tenant: Tenant, clientID: String, scope: Scope, jti: String, iat: Int, random: RandomSource
    ) -> (scope: String?, additional: AdditionalClaims) {
        var claims = AdditionalClaims()
        claims["nbf"] = .int(iat)
        claims["ver"] = .string("2.0")
        claims["tid"] = .string(tenant.guid)
        claims["oid"] = .string(subject.objectID)
        claims["azp"] = .string(clientID)
        claims["azpacr"] = .string(Self.azpacr(subject.clientMethod))
        if let roles = subject.roles {
            claims["roles"] = .strings(roles)
        } else if let scp = EntraScopes.permissionNames(scope) {
            claims["scp"] = .string(scp)
        }
        claims["uti"] = .string(jti)
        claims["rh"] = .string(random.token(byteCount: 12))
        if let name = subject.name { claims["name"] = .string(name) }
        if let username = subject.preferredUsername { claims["preferred_username"] = .string(username) }
        if subject.roles != nil { claims["idtyp"] = .string("app") }
        return (nil, claims)
    }

    public var delegatedScopeClaim: String? { "scp" }

    /// The v2.0 ID token: MSAL reads `oid` (local_account_id) and `preferred_username` (username).
    public func decorate(_ claims: inout IDTokenClaims, user: User, tenant: Tenant, scopes: Set<String>, random: RandomSource) {
        claims.additional["oid"] = .string(user.id)
        claims.additional["tid"] = .string(tenant.guid)
        claims.additional["ver"] = .string("2.0")
        claims.additional["uti"] = .string(random.token(byteCount: 16))
        claims.additional["rh"] = .string(random.token(byteCount: 12))
        claims.additional["nbf"] = .int(claims.iat)
        claims.preferredUsername = user.username.value
        if scopes.contains("profile") || claims.name == nil { claims.name = user.displayName }
    }

    /// `ext_expires_in`, and MSAL's `client_info` when asked for (`client_info=1`).
    public func decorate(_ response: inout TokenResponse, form: FormParameters, userID: String?, tenant: Tenant) {
        response.extExpiresIn = response.expiresIn
        if form["client_info"] == "1", let userID { response.clientInfo = Self.clientInfo(uid: userID, utid: tenant.guid) }
    }

    /// MSAL's `client_info`: base64url of `{"uid":…,"utid":…}`; it becomes the account's `home_account_id` `uid.utid`.
    public static func clientInfo(uid: String, utid: String) -> String {
        var json = JSONObjectText()
        json.add("uid", string: uid)
        json.add("utid", string: utid)
        return Base64URL.encode(Array(json.result.utf8))
    }

    /// `azpacr`: how the client authenticated: "0" public, "1" secret, "2" certificate or key.
    public static func azpacr(_ method: ClientAuthMethod) -> String {
        switch method {
        case .none: "0"
        case .clientSecretBasic, .clientSecretPost: "1"
        case .privateKeyJWT: "2"
        }
    }

    /// MSAL's device flow builds its own prompt from `verification_uri`.
    public var offersVerificationURIComplete: Bool { false }

    public var tokenResponseHeaders: [(name: String, value: String)] { [("Cache-Control", "no-store, no-cache"), ("Pragma", "no-cache")] }
    public var errorResponseHeaders: [(name: String, value: String)] { tokenResponseHeaders + [("Expires", "-1")] }

    /// Entra's `error` value where it differs from the RFC's (700016 `unauthorized_client`).
    public func errorValue(for error: CatalogueError) -> OAuthErrorValue {
        error.errorOverride ?? error.entry.entraError ?? error.entry.error
    }

    public func status(for entry: CatalogueEntry) -> Int { entry.entraStatus ?? entry.status }

    /// Entra's key order (`suberror` after `error_uri`) and `AADSTS<n>: <message>` followed by
    /// the trace, correlation and timestamp lines in `error_description`.
    public func errorBody(_ parts: ErrorParts) -> String {
        let entry = parts.error.entry
        var json = JSONObjectText()
        json.add("error", string: parts.errorValue.rawValue)
        json.add(
            "error_description",
            string:
                "AADSTS\(entry.number): \(parts.message)\r\nTrace ID: \(parts.traceID)\r\nCorrelation ID: \(parts.correlationID)\r\nTimestamp: \(parts.timestamp)"
        )
        json.add("error_codes", raw: "[\(entry.number)]")
        json.add("timestamp", string: parts.timestamp)
        json.add("trace_id", string: parts.traceID)
        json.add("correlation_id", string: parts.correlationID)
        json.add("error_uri", string: parts.errorURI)
        if let suberror = entry.suberror { json.add("suberror", string: suberror) }
        if let claims = entry.claims { json.add("claims", string: claims) }
        return json.result
    }
}
