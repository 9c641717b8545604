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
    /// Entra dialect (v2.0 ID token): object ID, tenant GUID, version, unique token id, `rh`, `nbf`.
    public var oid: String? = nil
    public var tid: String? = nil
    public var ver: String? = nil
    public var uti: String? = nil
    public var rh: String? = nil
    public var nbf: Int? = nil

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
        case iss, sub, aud, exp, iat, nonce, azp, sid, acr, amr, name, email, oid, tid, ver, uti, rh, nbf
        case authTime = "auth_time"
        case atHash = "at_hash"
        case preferredUsername = "preferred_username"
        case emailVerified = "email_verified"
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
