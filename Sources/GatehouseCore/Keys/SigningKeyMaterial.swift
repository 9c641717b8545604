import Crypto
import CryptoExtras
import Foundation
import JWTKit

/// Creating keys, and turning a stored key into a jwt-kit signer and a public JWK.
public enum SigningKeyMaterial {
    /// Generates a new key. RSA keys are 2048-bit.
    public static func generate(tenant: TenantName, algorithm: SigningAlgorithm, kid: String, status: KeyStatus, now: Date) throws
        -> SigningKeyRecord
    {
        let privateKey: String
        switch algorithm {
        case .es256:
            privateKey = P256.Signing.PrivateKey().pemRepresentation
        case .rs256:
            privateKey = try _RSA.Signing.PrivateKey(keySize: .bits2048).pemRepresentation
        case .eddsa:
            privateKey = Curve25519.Signing.PrivateKey().rawRepresentation.base64EncodedString()
        }
        return SigningKeyRecord(tenant: tenant, kid: kid, algorithm: algorithm, privateKey: privateKey, status: status, createdAt: now)
    }

    /// JSON for token payloads: no escaped slashes in URLs.
    static let serializer: DefaultJWTSerializer = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return DefaultJWTSerializer(jsonEncoder: encoder)
    }()

    /// Adds the key to a jwt-kit key collection under its kid.
    public static func add(_ record: SigningKeyRecord, to keys: JWTKeyCollection) async throws {
        let kid = JWKIdentifier(string: record.kid)
        switch record.algorithm {
        case .es256:
            await keys.add(ecdsa: try ES256PrivateKey(pem: record.privateKey), kid: kid, serializer: serializer)
        case .rs256:
            await keys.add(
                rsa: try Insecure.RSA.PrivateKey(pem: record.privateKey), digestAlgorithm: .sha256, kid: kid, serializer: serializer)
        case .eddsa:
            guard let seed = Data(base64Encoded: record.privateKey) else { throw JWTError.invalidJWK(reason: "bad EdDSA seed") }
            await keys.add(
                eddsa: EdDSA.PrivateKey(backing: try Curve25519.Signing.PrivateKey(rawRepresentation: seed)), kid: kid,
                serializer: serializer)
        }
    }

    /// The public JWK (RFC 7517) for the JWKS document.
    public static func publicJWK(_ record: SigningKeyRecord) throws -> [String: String] {
        var jwk: [String: String] = ["kid": record.kid, "use": "sig", "alg": record.algorithm.rawValue]
        switch record.algorithm {
        case .es256:
            let raw = try P256.Signing.PrivateKey(pemRepresentation: record.privateKey).publicKey.rawRepresentation
            jwk["kty"] = "EC"
            jwk["crv"] = "P-256"
            jwk["x"] = Base64URL.encode(raw.prefix(32))
            jwk["y"] = Base64URL.encode(raw.suffix(32))
        case .rs256:
            let primitives = try _RSA.Signing.PrivateKey(pemRepresentation: record.privateKey).publicKey.getKeyPrimitives()
            jwk["kty"] = "RSA"
            jwk["n"] = Base64URL.encode(primitives.modulus)
            jwk["e"] = Base64URL.encode(primitives.publicExponent)
        case .eddsa:
            guard let seed = Data(base64Encoded: record.privateKey) else { throw JWTError.invalidJWK(reason: "bad EdDSA seed") }
            let key = try Curve25519.Signing.PrivateKey(rawRepresentation: seed)
            jwk["kty"] = "OKP"
            jwk["crv"] = "Ed25519"
            jwk["x"] = Base64URL.encode(key.publicKey.rawRepresentation)
        }
        return jwk
    }
}

/// base64url without padding (RFC 7515 §2).
public enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    public static func encode(_ data: some DataProtocol) -> String {
        let bytes = Array(data)
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index + 2 < bytes.count {
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            output.append(alphabet[Int(value >> 18 & 63)])
            output.append(alphabet[Int(value >> 12 & 63)])
            output.append(alphabet[Int(value >> 6 & 63)])
            output.append(alphabet[Int(value & 63)])
            index += 3
        }
        let rest = bytes.count - index
        if rest == 1 {
            let value = UInt32(bytes[index]) << 16
            output.append(alphabet[Int(value >> 18 & 63)])
            output.append(alphabet[Int(value >> 12 & 63)])
        } else if rest == 2 {
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
            output.append(alphabet[Int(value >> 18 & 63)])
            output.append(alphabet[Int(value >> 12 & 63)])
            output.append(alphabet[Int(value >> 6 & 63)])
        }
        return String(decoding: output, as: UTF8.self)
    }

    public static func decode(_ string: some StringProtocol) -> Data? {
        var base64 = string.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        guard !base64.contains("=") else { return nil }
        while base64.count % 4 != 0 { base64.append("=") }
        return Data(base64Encoded: base64)
    }
}
