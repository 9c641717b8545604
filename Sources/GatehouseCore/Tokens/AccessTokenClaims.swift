import Foundation
import JWTKit

/// The claims of a JWT access token (RFC 9068 §2.2), plus the claims the request's dialect adds
/// (`Dialect.accessTokenClaims`: the Entra dialect's v2.0 claims, in place of `scope`).
public struct AccessTokenClaims: JWTPayload, Sendable, Equatable {
    public let iss: String
    public let sub: String
    /// One value is encoded as a string, several as an array (RFC 7519 §4.1.3).
    public let aud: [String]
    public let exp: Int
    public let iat: Int
    public let jti: String
    public let clientID: String
    public let scope: String?
    /// RFC 9068 §2.2.1: time of the user's authentication, for tokens issued to a user.
    public let authTime: Int?
    /// The authorization grant the token came from; revoking the grant revokes the token for
    /// introspection and userinfo.
    public let grantID: String?
    /// What the dialect added (empty natively).
    public let additional: AdditionalClaims

    public init(
        iss: String, sub: String, aud: [String], exp: Int, iat: Int, jti: String, clientID: String, scope: String?, authTime: Int? = nil,
        grantID: String? = nil, additional: AdditionalClaims = AdditionalClaims()
    ) {
        self.authTime = authTime
        self.grantID = grantID
        self.iss = iss
        self.sub = sub
        self.aud = aud
        self.exp = exp
        self.iat = iat
        self.jti = jti
        self.clientID = clientID
        self.scope = scope
        self.additional = additional
    }

    /// The delegated scopes: `scope` (RFC 9068), or the claim the token's dialect puts them in.
    public var scopeText: String? { Dialects.delegatedScopes(scope: scope, additional: additional) }
    public var scopes: Scope { Scope(tokens: (scopeText ?? "").split(separator: " ").map(String.init)) }
    /// The user the token acts for, if it was issued to a user (not to a client on its own).
    public var isUserToken: Bool { authTime != nil }

    enum CodingKeys: String, CodingKey {
        case iss, sub, aud, exp, iat, jti, scope
        case clientID = "client_id"
        case authTime = "auth_time"
        case grantID = "grant_id"
    }

    static let standardClaims: Set<String> = ["iss", "sub", "aud", "exp", "iat", "jti", "scope", "client_id", "auth_time", "grant_id"]

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(iss, forKey: .iss)
        try container.encode(sub, forKey: .sub)
        if aud.count == 1 { try container.encode(aud[0], forKey: .aud) } else { try container.encode(aud, forKey: .aud) }
        try container.encode(exp, forKey: .exp)
        try container.encode(iat, forKey: .iat)
        try container.encode(jti, forKey: .jti)
        try container.encode(clientID, forKey: .clientID)
        try container.encodeIfPresent(scope, forKey: .scope)
        try container.encodeIfPresent(authTime, forKey: .authTime)
        try container.encodeIfPresent(grantID, forKey: .grantID)
        if !additional.isEmpty { try additional.encode(into: encoder) }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        iss = try container.decode(String.self, forKey: .iss)
        sub = try container.decode(String.self, forKey: .sub)
        if let single = try? container.decode(String.self, forKey: .aud) {
            aud = [single]
        } else {
            aud = try container.decode([String].self, forKey: .aud)
        }
        exp = try container.decode(Int.self, forKey: .exp)
        iat = try container.decode(Int.self, forKey: .iat)
        jti = try container.decode(String.self, forKey: .jti)
        clientID = try container.decode(String.self, forKey: .clientID)
        scope = try container.decodeIfPresent(String.self, forKey: .scope)
        authTime = try container.decodeIfPresent(Int.self, forKey: .authTime)
        grantID = try container.decodeIfPresent(String.self, forKey: .grantID)
        additional = try AdditionalClaims(from: decoder, excluding: Self.standardClaims)
    }

    public func verify(using algorithm: some JWTAlgorithm) async throws {}
}
