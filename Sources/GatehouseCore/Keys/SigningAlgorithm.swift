import Foundation

/// The JWS algorithms a tenant can sign access tokens with (RFC 7518 §3, RFC 8037).
public enum SigningAlgorithm: String, Sendable, Codable, CaseIterable {
    case es256 = "ES256"
    case rs256 = "RS256"
    case eddsa = "EdDSA"
}

/// Where a key is in its life: published before use, used, then published only
/// for verification until the tokens it signed have expired.
public enum KeyStatus: String, Sendable, Codable {
    case next, active, retired
}

/// A tenant's signing key as stored. The private key never leaves the server.
public struct SigningKeyRecord: Sendable, Hashable {
    public let tenant: TenantName
    public let kid: String
    public let algorithm: SigningAlgorithm
    /// PKCS#8 PEM for ES256 and RS256; base64 of the raw 32-byte seed for EdDSA.
    public let privateKey: String
    public var status: KeyStatus
    public let createdAt: Date
    /// When a rotation retired it (nil while next or active, and for keys retired before this
    /// was recorded, which only `gatehouse keys remove` takes out of the JWKS).
    public var retiredAt: Date?

    public init(
        tenant: TenantName, kid: String, algorithm: SigningAlgorithm, privateKey: String, status: KeyStatus, createdAt: Date,
        retiredAt: Date? = nil
    ) {
        self.retiredAt = retiredAt
        self.tenant = tenant
        self.kid = kid
        self.algorithm = algorithm
        self.privateKey = privateKey
        self.status = status
        self.createdAt = createdAt
    }
}
