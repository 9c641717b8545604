import Crypto
import Foundation
import JWTKit

/// OpenID Connect Core §2 ID token claims, plus the profile and email claims the scopes allow.
public struct IDTokenClaims: JWTPayload, Sendable, Equatable {
    public let iss: String
    public let sub: String
    public let aud: String
    public let exp: Int
    public let iat: Int
    public let authTime: Int
    public let nonce: String?
    public let azp: String
    public let atHash: String?
    public let sid: String?
    public let acr: String?
    public let amr: [String]?
    public var name: String?
    public var preferredUsername: String?
    public let email: String?
    public let emailVerified: Bool?
    /// What the request's dialect added (`Dialect.decorate(_:user:tenant:scopes:random:)`).
    public var additional = AdditionalClaims()

    public init(
        iss: String, sub: String, aud: String, exp: Int, iat: Int, authTime: Int, nonce: String?, azp: String, atHash: String?,
        sid: String?, acr: String?, amr: [String]?, name: String? = nil, preferredUsername: String? = nil, email: String? = nil,
        emailVerified: Bool? = nil
    ) {
        self.iss = iss
        self.sub = sub
        self.aud = aud
        self.exp = exp
        self.iat = iat
        self.authTime = authTime
        self.nonce = nonce
        self.azp = azp
        self.atHash = atHash
        self.sid = sid
        self.acr = acr
        self.amr = amr
        self.name = name
        self.preferredUsername = preferredUsername
        self.email = email
        self.emailVerified = emailVerified
    }

    enum CodingKeys: String, CodingKey {
        case iss, sub, aud, exp, iat, nonce, azp, sid, acr, amr, name, email
        case authTime = "auth_time"
        case atHash = "at_hash"
        case preferredUsername = "preferred_username"
        case emailVerified = "email_verified"
    }

    static let standardClaims: Set<String> = [
        "iss", "sub", "aud", "exp", "iat", "nonce", "azp", "sid", "acr", "amr", "name", "email", "auth_time", "at_hash",
        "preferred_username", "email_verified",
    ]

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(iss, forKey: .iss)
        try container.encode(sub, forKey: .sub)
        try container.encode(aud, forKey: .aud)
        try container.encode(exp, forKey: .exp)
        try container.encode(iat, forKey: .iat)
        try container.encode(authTime, forKey: .authTime)
        try container.encodeIfPresent(nonce, forKey: .nonce)
        try container.encode(azp, forKey: .azp)
        try container.encodeIfPresent(atHash, forKey: .atHash)
        try container.encodeIfPresent(sid, forKey: .sid)
        try container.encodeIfPresent(acr, forKey: .acr)
        try container.encodeIfPresent(amr, forKey: .amr)
        try container.encodeIfPresent(name, forKey: .name)
        try container.encodeIfPresent(preferredUsername, forKey: .preferredUsername)
        try container.encodeIfPresent(email, forKey: .email)
        try container.encodeIfPresent(emailVerified, forKey: .emailVerified)
        if !additional.isEmpty { try additional.encode(into: encoder) }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        iss = try container.decode(String.self, forKey: .iss)
        sub = try container.decode(String.self, forKey: .sub)
        aud = try container.decode(String.self, forKey: .aud)
        exp = try container.decode(Int.self, forKey: .exp)
        iat = try container.decode(Int.self, forKey: .iat)
        authTime = try container.decode(Int.self, forKey: .authTime)
        nonce = try container.decodeIfPresent(String.self, forKey: .nonce)
        azp = try container.decode(String.self, forKey: .azp)
        atHash = try container.decodeIfPresent(String.self, forKey: .atHash)
        sid = try container.decodeIfPresent(String.self, forKey: .sid)
        acr = try container.decodeIfPresent(String.self, forKey: .acr)
        amr = try container.decodeIfPresent([String].self, forKey: .amr)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        preferredUsername = try container.decodeIfPresent(String.self, forKey: .preferredUsername)
        email = try container.decodeIfPresent(String.self, forKey: .email)
        emailVerified = try container.decodeIfPresent(Bool.self, forKey: .emailVerified)
        additional = try AdditionalClaims(from: decoder, excluding: Self.standardClaims)
    }

    /// Signature checks are done by the key ring; an id_token_hint may be expired (RP-Initiated Logout §2).
    public func verify(using algorithm: some JWTAlgorithm) async throws {}

    /// OpenID Connect Core §3.1.3.6: base64url of the left half of the hash of the access token's
    /// ASCII octets, with the hash of the JWS algorithm (SHA-512 for EdDSA/Ed25519).
    public static func atHash(_ accessToken: String, algorithm: SigningAlgorithm) -> String {
        let bytes = Array(accessToken.utf8)
        switch algorithm {
        case .eddsa:
            let digest = Array(SHA512.hash(data: bytes))
            return Base64URL.encode(digest.prefix(digest.count / 2))
        case .es256, .rs256:
            let digest = Array(SHA256.hash(data: bytes))
            return Base64URL.encode(digest.prefix(digest.count / 2))
        }
    }
}

extension IDTokenClaims {
    /// The JOSE header's `typ` of a compact JWS, unverified (nil when it has none or is malformed).
    /// Gatehouse signs ID tokens with `typ: JWT` and access tokens with `typ: at+jwt` (RFC 9068
    /// §2.1), so this tells an ID token presented as `id_token_hint` from an access token.
    public static func headerType(of token: String) -> String? {
        guard let first = token.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).first,
            let data = Base64URL.decode(first),
            let header = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return header["typ"] as? String
    }
}
