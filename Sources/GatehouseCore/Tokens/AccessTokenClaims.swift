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
    /// The key the token is bound to (`cnf`, RFC 7800 §3.1; RFC 9449 §6.1), nil for a bearer token.
    public let confirmation: TokenBinding?

    public init(
        iss: String, sub: String, aud: [String], exp: Int, iat: Int, jti: String, clientID: String, scope: String?, authTime: Int? = nil,
        grantID: String? = nil, additional: AdditionalClaims = AdditionalClaims(), confirmation: TokenBinding? = nil
    ) {
        self.confirmation = confirmation
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
        case iss, sub, aud, exp, iat, jti, scope, cnf
        case clientID = "client_id"
        case authTime = "auth_time"
        case grantID = "grant_id"
    }

    static let standardClaims: Set<String> = [
        "iss", "sub", "aud", "exp", "iat", "jti", "scope", "client_id", "auth_time", "grant_id", "cnf",
    ]

    /// The one list of the token's members, for both encodings (`encode(to:)` and `jsonText()`).
    /// A dialect's claims never repeat a standard one.
    public func writeMembers<W: JSONMemberWriter>(to out: inout W) {
        out.write("iss", iss)
        out.write("sub", sub)
        if aud.count == 1 { out.write("aud", aud[0]) } else { out.write("aud", aud) }
        out.write("exp", exp)
        out.write("iat", iat)
        out.write("jti", jti)
        out.write("client_id", clientID)
        out.writeIfPresent("scope", scope)
        out.writeIfPresent("auth_time", authTime)
        out.writeIfPresent("grant_id", grantID)
        if let confirmation { out.writeObject("cnf") { confirmation.writeMembers(to: &$0) } }
        for (key, value) in additional.members where !Self.standardClaims.contains(key) { out.write(key, value) }
    }

    public func encode(to encoder: any Encoder) throws {
        var out = EncoderMemberWriter(encoder)
        writeMembers(to: &out)
        try out.finish()
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
        confirmation = try container.decodeIfPresent([String: String].self, forKey: .cnf).flatMap(TokenBinding.init(confirmation:))
        additional = try AdditionalClaims(from: decoder, excluding: Self.standardClaims)
    }

    public func verify(using algorithm: some JWTAlgorithm) async throws {}
}
