import Foundation

/// A wire format Gatehouse speaks: where its endpoints live, its issuer, how it reads scopes,
/// the claims it adds to tokens, how it decorates token responses and how its errors look.
/// The same handlers serve every dialect; they ask the request's dialect, never which one it
/// is. A third dialect is one new type listed in `Dialects.all`.
///
/// - `NativeDialect`: RFC 6749 errors, RFC 9068 access tokens, RFC 8707 `resource`.
/// - `EntraDialect`: the Microsoft identity platform v2.0 format (docs/entra.md).
public protocol Dialect: Sendable {
    /// A short name for logs and the sign-in record ("native", "entra").
    var name: String { get }

    // MARK: Where it is served

    /// The path below `/{tenant}/` of one of its OAuth endpoints (`token`, `authorize`,
    /// `devicecode`, `logout`).
    func endpointPath(_ endpoint: String) -> String
    /// Whether a tenant path segment names no tenant but stands for the one tenant that holds the
    /// client (`common`, `organizations`).
    func isMultiTenantAlias(_ segment: String) -> Bool

    // MARK: Issuer and scopes

    /// The issuer of the tokens it answers with.
    func issuer(baseURL: String, tenant: Tenant) -> String
    /// A delegated request's granted scope and audience (authorization code, device code,
    /// password, on-behalf-of).
    func delegatedAccess(requested: String?, resources: [String], access: ClientAccess, fallback: String)
        throws(CatalogueError) -> (scope: Scope, audience: [String])
    /// The scope a refresh request asks for (RFC 6749 §6), before it is checked against the grant.
    func refreshScope(requested: String, access: ClientAccess, fallback: String) throws(CatalogueError) -> Scope
    /// What a client gets for itself (client credentials, RFC 6749 §4.4).
    func applicationAccess(requested: String?, resources: [String], access: ClientAccess, fallback: String)
        throws(CatalogueError) -> ApplicationAccess

    // MARK: Tokens

    /// The `scope` claim of an access token and the claims this dialect adds to it.
    func accessTokenClaims(
        _ subject: TokenSubject, tenant: Tenant, clientID: String, scope: Scope, jti: String, iat: Int, random: RandomSource
    )
        -> (scope: String?, additional: AdditionalClaims)
    /// The claim that carries delegated scopes in tokens of this dialect when `scope` is absent.
    var delegatedScopeClaim: String? { get }
    /// Adds this dialect's claims to an ID token.
    func decorate(_ claims: inout IDTokenClaims, user: User, tenant: Tenant, scopes: Set<String>, random: RandomSource)
    /// Adds this dialect's members to a successful token response.
    func decorate(_ response: inout TokenResponse, form: FormParameters, userID: String?, tenant: Tenant)
    /// Whether a device authorization response carries `verification_uri_complete` (RFC 8628 §3.2).
    var offersVerificationURIComplete: Bool { get }

    // MARK: Responses and errors

    /// The caching headers of a token response (RFC 6749 §5.1: `no-store`).
    var tokenResponseHeaders: [(name: String, value: String)] { get }
    /// The caching headers of an error response.
    var errorResponseHeaders: [(name: String, value: String)] { get }
    /// The `error` value a client sees for `error`.
    func errorValue(for error: CatalogueError) -> OAuthErrorValue
    /// The HTTP status of an error response.
    func status(for entry: CatalogueEntry) -> Int
    /// The JSON body of an error response.
    func errorBody(_ parts: ErrorParts) -> String
}

/// The dialects, for what concerns all of them: the issuers a tenant's tokens may carry, the
/// URLs of its token endpoints, the routes to register.
public enum Dialects {
    public static let native: any Dialect = NativeDialect()
    public static let entra: any Dialect = EntraDialect()
    public static let all: [any Dialect] = [native, entra]

    /// The delegated scopes of an access token: `scope` (RFC 9068), or the claim a dialect puts them in.
    static func delegatedScopes(scope: String?, additional: AdditionalClaims) -> String? {
        if let scope { return scope }
        for dialect in all {
            if let claim = dialect.delegatedScopeClaim, let value = additional.string(claim) { return value }
        }
        return nil
    }
}

/// Who a token is about, as a dialect needs it for its claims: the object (the user, or the
/// client itself for an app-only token), how the client authenticated, and the application
/// permissions of an app-only token.
public struct TokenSubject: Sendable {
    public let objectID: String
    public let clientMethod: ClientAuthMethod
    /// Application permissions (client credentials); nil for delegated tokens.
    public let roles: [String]?
    public let name: String?
    public let preferredUsername: String?

    public init(
        objectID: String, clientMethod: ClientAuthMethod, roles: [String]? = nil, name: String? = nil, preferredUsername: String? = nil
    ) {
        self.objectID = objectID
        self.clientMethod = clientMethod
        self.roles = roles
        self.name = name
        self.preferredUsername = preferredUsername
    }

    /// A user's token.
    public static func user(_ user: User, clientMethod: ClientAuthMethod) -> TokenSubject {
        TokenSubject(objectID: user.id, clientMethod: clientMethod, name: user.displayName, preferredUsername: user.username.value)
    }
}

/// What a client credentials request is granted, in its dialect.
public struct ApplicationAccess: Sendable {
    public let scope: Scope
    public let audience: [String]
    /// Application permissions carried as `roles`, where the dialect has them.
    public let roles: [String]?
    /// The `scope` member of the token response (nil leaves it out).
    public let responseScope: String?

    public init(scope: Scope, audience: [String], roles: [String]?, responseScope: String?) {
        self.scope = scope
        self.audience = audience
        self.roles = roles
        self.responseScope = responseScope
    }
}

/// What an error response is made of, before a dialect arranges it.
public struct ErrorParts: Sendable {
    public let error: CatalogueError
    /// The `error` value, from `Dialect.errorValue(for:)`.
    public let errorValue: OAuthErrorValue
    /// The public message, in the RFC 6749 §5.2 character set.
    public let message: String
    public let timestamp: String
    public let traceID: String
    public let correlationID: String
    public let errorURI: String

    public init(
        error: CatalogueError, errorValue: OAuthErrorValue, message: String, timestamp: String, traceID: String, correlationID: String,
        errorURI: String
    ) {
        self.error = error
        self.errorValue = errorValue
        self.message = message
        self.timestamp = timestamp
        self.traceID = traceID
        self.correlationID = correlationID
        self.errorURI = errorURI
    }
}

/// A JSON object written member by member, in order (error bodies keep a fixed key order).
public struct JSONObjectText {
    private var text = "{"
    private var empty = true

    public init() {}

    public mutating func add(_ key: String, string value: String) { member(key, JSONObjectText.string(value)) }
    public mutating func add(_ key: String, raw value: String) { member(key, value) }

    private mutating func member(_ key: String, _ value: String) {
        if !empty { text += "," }
        empty = false
        text += JSONObjectText.string(key) + ":" + value
    }

    public var result: String { text + "}" }

    /// A JSON string literal (control characters, U+2028 and U+2029 escaped).
    public static func string(_ value: String) -> String {
        var output = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x2028 || scalar.value == 0x2029 {
                    output += String(format: "\\u%04x", scalar.value)
                } else {
                    output.unicodeScalars.append(scalar)
                }
            }
        }
        return output + "\""
    }
}
