import Foundation
import JWTKit

/// The claims of a JWT access token (RFC 9068 §2.2). Tokens issued on the Entra routes also
/// carry the Microsoft identity platform v2.0 claims (`ver`, `tid`, `oid`, `azp`, `azpacr`,
/// `scp` or `roles`, `uti`, `rh`, `nbf`, `name`, `preferred_username`, `idtyp`) and no `scope`.
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
    /// The v2.0 claims, present on tokens issued on the Entra routes.
    public let entra: EntraAccessClaims?

    public init(
        iss: String, sub: String, aud: [String], exp: Int, iat: Int, jti: String, clientID: String, scope: String?, authTime: Int? = nil,
        grantID: String? = nil, entra: EntraAccessClaims? = nil
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
        self.entra = entra
    }

    /// The delegated scopes: `scope` (RFC 9068) or the v2.0 `scp`.
    public var scopes: Scope { Scope(tokens: (scope ?? entra?.scp ?? "").split(separator: " ").map(String.init)) }
    /// The user the token acts for, if it was issued to a user (not to a client on its own).
    public var isUserToken: Bool { authTime != nil }

    enum CodingKeys: String, CodingKey {
        case iss, sub, aud, exp, iat, jti, scope, nbf, ver, tid, oid, azp, azpacr, scp, roles, uti, rh, name, idtyp
        case clientID = "client_id"
        case authTime = "auth_time"
        case grantID = "grant_id"
        case preferredUsername = "preferred_username"
    }

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
        if let entra {
            try container.encode(iat, forKey: .nbf)
            try container.encode("2.0", forKey: .ver)
            try container.encode(entra.tid, forKey: .tid)
            try container.encode(entra.oid, forKey: .oid)
            try container.encode(clientID, forKey: .azp)
            try container.encode(entra.azpacr, forKey: .azpacr)
            try container.encodeIfPresent(entra.scp, forKey: .scp)
            try container.encodeIfPresent(entra.roles, forKey: .roles)
            try container.encode(entra.uti, forKey: .uti)
            try container.encode(entra.rh, forKey: .rh)
            try container.encodeIfPresent(entra.name, forKey: .name)
            try container.encodeIfPresent(entra.preferredUsername, forKey: .preferredUsername)
            try container.encodeIfPresent(entra.idtyp, forKey: .idtyp)
        }
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
        if try container.decodeIfPresent(String.self, forKey: .ver) == "2.0" {
            entra = EntraAccessClaims(
                tid: try container.decode(String.self, forKey: .tid), oid: try container.decode(String.self, forKey: .oid),
                azpacr: try container.decode(String.self, forKey: .azpacr), scp: try container.decodeIfPresent(String.self, forKey: .scp),
                roles: try container.decodeIfPresent([String].self, forKey: .roles), uti: try container.decode(String.self, forKey: .uti),
                rh: try container.decode(String.self, forKey: .rh), name: try container.decodeIfPresent(String.self, forKey: .name),
                preferredUsername: try container.decodeIfPresent(String.self, forKey: .preferredUsername),
                idtyp: try container.decodeIfPresent(String.self, forKey: .idtyp))
        } else {
            entra = nil
        }
    }

    public func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// The Microsoft identity platform v2.0 access token claims that RFC 9068 has no name for.
public struct EntraAccessClaims: Sendable, Equatable {
    /// The tenant GUID.
    public let tid: String
    /// The object the token is about: the user, or the client for app-only tokens.
    public let oid: String
    /// How the client authenticated: "0" public, "1" secret, "2" certificate or key.
    public let azpacr: String
    /// Delegated permissions, space-separated, without their resource prefix.
    public let scp: String?
    /// Application permissions (client credentials with `{resource}/.default`).
    public let roles: [String]?
    /// A unique token identifier (Entra's `uti`).
    public let uti: String
    /// An opaque value Entra uses to revalidate tokens; here a random value per token.
    public let rh: String
    public let name: String?
    public let preferredUsername: String?
    /// "app" for app-only tokens.
    public let idtyp: String?

    public init(
        tid: String, oid: String, azpacr: String, scp: String?, roles: [String]?, uti: String, rh: String, name: String?,
        preferredUsername: String?, idtyp: String?
    ) {
        self.tid = tid
        self.oid = oid
        self.azpacr = azpacr
        self.scp = scp
        self.roles = roles
        self.uti = uti
        self.rh = rh
        self.name = name
        self.preferredUsername = preferredUsername
        self.idtyp = idtyp
    }

    /// `azpacr` for a client authentication method.
    public static func azpacr(_ method: ClientAuthMethod) -> String {
        switch method {
        case .none: "0"
        case .clientSecretBasic, .clientSecretPost: "1"
        case .privateKeyJWT: "2"
        }
    }
}
