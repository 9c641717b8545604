import Foundation

/// Where a request came from, as far as the server can tell: the source address the throttles
/// count it under (the peer, or the client behind a trusted proxy).
public struct RequestOrigin: Sendable, Equatable {
    /// The source address the throttles count the request under.
    public let source: String
    /// The request's `User-Agent`, if any.
    public let userAgent: String?

    public init(source: String, userAgent: String? = nil) {
        self.source = source
        self.userAgent = userAgent
    }

    public static let unknown = RequestOrigin(source: "unknown")
}

/// What a grant handler gets: the tenant, the authenticated client, the form and the binding.
public struct TokenRequest: Sendable {
    public let tenant: Tenant
    /// The issuer of the tokens, in the request's dialect (`Dialect.issuer(baseURL:tenant:)`).
    public let issuer: String
    public let client: AuthenticatedClient
    public let form: FormParameters
    /// The wire format of the route the request came in on.
    public let dialect: any Dialect
    /// Every issuer of this tenant (native and v2.0): tokens presented as assertions may carry either.
    public let tenantIssuers: Set<String>
    /// Where the request came from (the password grant's throttle key).
    public let origin: RequestOrigin
    /// The key the client proved it holds with this request (a DPoP proof's), resolved once by
    /// the token endpoint: every token the grant issues is bound to it (`TokenBinding`).
    public let binding: TokenBinding?

    public init(
        tenant: Tenant, issuer: String, client: AuthenticatedClient, form: FormParameters, dialect: any Dialect = Dialects.native,
        tenantIssuers: Set<String>? = nil, origin: RequestOrigin = .unknown, binding: TokenBinding? = nil
    ) {
        self.binding = binding
        self.origin = origin
        self.tenant = tenant
        self.issuer = issuer
        self.tenantIssuers = tenantIssuers ?? [issuer]
        self.client = client
        self.form = form
        self.dialect = dialect
    }
}

/// What a grant produced: the response and what the sign-in log records.
public struct GrantOutcome: Sendable {
    public let response: TokenResponse
    public let scope: Scope
    /// The user the tokens were issued to (for `client_info`), nil for app-only tokens.
    public let userID: String?
    /// Something the operator should see about a success (a refresh retry): the sign-in log keeps
    /// such a success whole, with this as its detail.
    public let note: String?

    public init(response: TokenResponse, scope: Scope, userID: String? = nil, note: String? = nil) {
        self.response = response
        self.scope = scope
        self.userID = userID
        self.note = note
    }
}

/// One grant type, in a type of its own. Each reads only its own parameters: the token
/// endpoint hands it `form.only(parameters)`; anything else in the request stays ignored, as
/// RFC 6749 §3.2 requires (MSAL adds `client_info` and `x-client-*`).
public protocol GrantHandler: Sendable {
    var grantType: GrantType { get }
    /// The parameters this grant reads, besides grant_type and client authentication: the only
    /// ones its `TokenRequest.form` contains.
    var parameters: Set<String> { get }
    func exchange(_ request: TokenRequest) async throws -> GrantOutcome
}

/// The grants a server offers, by `grant_type`.
public struct GrantRegistry: Sendable {
    private let handlers: [GrantType: any GrantHandler]

    public init(_ handlers: [any GrantHandler]) {
        self.handlers = Dictionary(handlers.map { ($0.grantType, $0) }, uniquingKeysWith: { $1 })
    }

    /// The handler for a `grant_type` value; throws 70003 for an unknown one.
    public func handler(for raw: String) throws(CatalogueError) -> any GrantHandler {
        guard let handler = handlers[GrantType(rawValue: raw)] else {
            throw CatalogueError(Catalogue.unsupportedGrantType, ["grantType": raw])
        }
        return handler
    }

    public var grantTypes: [GrantType] { handlers.keys.sorted { $0.rawValue < $1.rawValue } }
}
