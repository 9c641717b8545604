import Crypto
import CryptoExtras
import Foundation

/// A credential public key in COSE form (RFC 9052/9053), as an authenticator reports it in its
/// attested credential data, mapped to swift-crypto: ES256 (EC2, P-256), EdDSA (OKP, Ed25519) and
/// RS256 (RSA, PKCS #1 v1.5 with SHA-256, at least 2048 bits). Anything else is refused by name.
public enum COSEKey: Sendable {
    case es256(P256.Signing.PublicKey)
    case edDSA(Curve25519.Signing.PublicKey)
    case rs256(_RSA.Signing.PublicKey)

    /// COSE algorithm identifiers (IANA "COSE Algorithms").
    public enum Algorithm: Int, Sendable, CaseIterable {
        case es256 = -7
        case edDSA = -8
        case rs256 = -257
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case notAMap
        case unsupportedAlgorithm(Int?)
        case wrongKeyType(expected: Int, found: Int?)
        case unsupportedCurve(Int?)
        case badParameter(String)

        public var description: String {
            switch self {
            case .notAMap: "the credential public key is not a COSE key (a CBOR map)"
            case .unsupportedAlgorithm(let alg):
                "COSE algorithm \(alg.map(String.init) ?? "missing") is not ES256 (-7), EdDSA (-8) or RS256 (-257)"
            case .wrongKeyType(let expected, let found): "COSE key type \(found.map(String.init) ?? "missing"), expected \(expected)"
            case .unsupportedCurve(let crv): "COSE curve \(crv.map(String.init) ?? "missing") does not fit the algorithm"
            case .badParameter(let name): "COSE key parameter \(name) is missing or malformed"
            }
        }
    }

    /// COSE key labels: 1 kty, 3 alg; EC2/OKP -1 crv, -2 x, -3 y; RSA -1 n, -2 e.
    public init(_ key: CBOR) throws(Failure) {
        guard case .map = key else { throw .notAMap }
        let alg = key[3]?.int
        switch alg.flatMap(Algorithm.init(rawValue:)) {
        case .es256:
            try Self.expectType(2, key)
            guard key[-1]?.int == 1 else { throw .unsupportedCurve(key[-1]?.int) }
            guard let x = key[-2]?.byteString, x.count == 32 else { throw .badParameter("x") }
            guard let y = key[-3]?.byteString, y.count == 32 else { throw .badParameter("y") }
            do { self = .es256(try P256.Signing.PublicKey(x963Representation: [0x04] + x + y)) } catch { throw .badParameter("x, y") }
        case .edDSA:
            try Self.expectType(1, key)
            guard key[-1]?.int == 6 else { throw .unsupportedCurve(key[-1]?.int) }
            guard let x = key[-2]?.byteString, x.count == 32 else { throw .badParameter("x") }
            do { self = .edDSA(try Curve25519.Signing.PublicKey(rawRepresentation: x)) } catch { throw .badParameter("x") }
        case .rs256:
            try Self.expectType(3, key)
            guard let n = key[-1]?.byteString, (256...1024).contains(n.count) else { throw .badParameter("n") }
            guard let e = key[-2]?.byteString, (1...8).contains(e.count) else { throw .badParameter("e") }
            do { self = .rs256(try _RSA.Signing.PublicKey(n: n, e: e)) } catch { throw .badParameter("n, e") }
        case nil:
            throw .unsupportedAlgorithm(alg)
        }
    }

    private static func expectType(_ type: Int, _ key: CBOR) throws(Failure) {
        guard key[1]?.int == type else { throw .wrongKeyType(expected: type, found: key[1]?.int) }
    }

    public var algorithm: Algorithm {
        switch self {
        case .es256: .es256
        case .edDSA: .edDSA
        case .rs256: .rs256
        }
    }

    /// Whether `signature` (as WebAuthn carries it: DER for ECDSA, raw for EdDSA and RSA) signs `data`.
    public func verify(signature: [UInt8], over data: [UInt8]) -> Bool {
        switch self {
        case .es256(let key):
            guard let parsed = try? P256.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            return key.isValidSignature(parsed, for: data)
        case .edDSA(let key):
            return key.isValidSignature(signature, for: data)
        case .rs256(let key):
            return key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: data, padding: .insecurePKCS1v1_5)
        }
    }
}
