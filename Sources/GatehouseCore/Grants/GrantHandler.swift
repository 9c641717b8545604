import Foundation

/// What a grant handler gets: the tenant, the authenticated client and the form.
public struct TokenRequest: Sendable {
    public let tenant: Tenant
    public let issuer: String
    public let client: AuthenticatedClient
    public let form: FormParameters

    public init(tenant: Tenant, issuer: String, client: AuthenticatedClient, form: FormParameters) {
        self.tenant = tenant
        self.issuer = issuer
        self.client = client
        self.form = form
    }
}

/// What a grant produced: the response and what the sign-in log records.
public struct GrantOutcome: Sendable {
    public let response: TokenResponse
    public let scope: Scope
}

/// One grant type (CONVENTIONS.md habit 2). Each reads only its own parameters; RFC 6749 §3.2
/// says unrecognised parameters are ignored.
public protocol GrantHandler: Sendable {
    var grantType: GrantType { get }
    /// The parameters this grant reads, besides grant_type and client authentication.
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
