import Crypto
import Foundation
import JWTKit
import SwiftASN1
import X509

/// A certificate registered for a client's private_key_jwt assertions, as MSAL and
/// azure-identity use them: the assertion header names it by `x5t` (SHA-1 thumbprint),
/// `x5t#S256` (SHA-256 thumbprint) or `x5c` (the certificate itself). Only registered
/// certificates count: an `x5c` is matched by thumbprint, never trusted by its chain.
public struct ClientCertificate: Sendable, Hashable {
    public let sha1: [UInt8]
    public let sha256: [UInt8]
    public let notValidBefore: Date
    public let notValidAfter: Date
    /// The subject public key (SPKI) as PEM, for jwt-kit.
    public let publicKeyPEM: String
    public let isRSA: Bool
    public let subject: String

    public init(pem: String) throws {
        let certificate = try Certificate(pemEncoded: pem)
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        try self.init(certificate: certificate, der: serializer.serializedBytes)
    }

    public init(der: [UInt8]) throws {
        try self.init(certificate: try Certificate(derEncoded: der), der: der)
    }

    private init(certificate: Certificate, der: [UInt8]) throws {
        sha1 = Array(Insecure.SHA1.hash(data: der))
        sha256 = Array(SHA256.hash(data: der))
        notValidBefore = certificate.notValidBefore
        notValidAfter = certificate.notValidAfter
        publicKeyPEM = try certificate.publicKey.serializeAsPEM().pemString
        isRSA =
            P256.Signing.PublicKey(certificate.publicKey) == nil && P384.Signing.PublicKey(certificate.publicKey) == nil
            && P521.Signing.PublicKey(certificate.publicKey) == nil && Curve25519.Signing.PublicKey(certificate.publicKey) == nil
        subject = String(describing: certificate.subject)
    }

    /// The SHA-1 thumbprint in hex (what azure-identity and the Azure portal show).
    public var thumbprintHex: String { sha1.map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined().uppercased() }

    /// Splits a PEM bundle into its certificates' PEM blocks.
    public static func pemBlocks(_ bundle: String) -> [String] {
        bundle.components(separatedBy: "-----END CERTIFICATE-----").compactMap { part in
            guard let start = part.range(of: "-----BEGIN CERTIFICATE-----") else { return nil }
            return String(part[start.lowerBound...]) + "-----END CERTIFICATE-----"
        }
    }

    /// A one-key collection for the header's algorithm, or nil if the key cannot do it.
    func keys(for algorithm: String) async throws -> JWTKeyCollection? {
        let collection = JWTKeyCollection()
        if isRSA {
            let key = try Insecure.RSA.PublicKey(pem: publicKeyPEM)
            switch algorithm {
            case "RS256": await collection.add(rsa: key, digestAlgorithm: .sha256)
            case "RS384": await collection.add(rsa: key, digestAlgorithm: .sha384)
            case "RS512": await collection.add(rsa: key, digestAlgorithm: .sha512)
            case "PS256": await collection.add(pss: key, digestAlgorithm: .sha256)
            case "PS384": await collection.add(pss: key, digestAlgorithm: .sha384)
            case "PS512": await collection.add(pss: key, digestAlgorithm: .sha512)
            default: return nil
            }
        } else {
            switch algorithm {
            case "ES256": await collection.add(ecdsa: try ES256PublicKey(pem: publicKeyPEM))
            case "ES384": await collection.add(ecdsa: try ES384PublicKey(pem: publicKeyPEM))
            case "ES512": await collection.add(ecdsa: try ES512PublicKey(pem: publicKeyPEM))
            default: return nil
            }
        }
        return collection
    }
}
