import Foundation

/// Authenticator data (WebAuthn Level 3 §6.1): the RP ID hash, the flags, the signature counter
/// and, at registration, the attested credential data (AAGUID, credential ID, COSE public key).
/// Read strictly: every length checked, extensions decoded as CBOR, nothing left over.
public struct AuthenticatorData: Sendable {
    public let rpIDHash: [UInt8]
    public let flags: Flags
    public let signCount: UInt32
    public let attestedCredential: AttestedCredential?
    /// The extension outputs, if the ED flag is set (a CBOR map).
    public let extensions: CBOR?
    /// The bytes as received (what an assertion's signature covers).
    public let raw: [UInt8]

    public struct Flags: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let userPresent = Flags(rawValue: 0x01)
        public static let userVerified = Flags(rawValue: 0x04)
        public static let backupEligible = Flags(rawValue: 0x08)
        public static let backedUp = Flags(rawValue: 0x10)
        public static let attestedCredentialData = Flags(rawValue: 0x40)
        public static let extensionData = Flags(rawValue: 0x80)
    }

    public struct AttestedCredential: Sendable {
        public let aaguid: [UInt8]
        public let credentialID: [UInt8]
        public let publicKey: COSEKey
        /// The COSE key's bytes as the authenticator sent them (stored with the credential).
        public let publicKeyBytes: [UInt8]
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case tooShort
        case credentialIDLength(Int)
        case publicKey(String)
        case extensions(String)
        case trailingBytes(Int)
        case backedUpWithoutEligibility

        public var description: String {
            switch self {
            case .tooShort: "authenticator data shorter than its fields"
            case .credentialIDLength(let length): "credential ID of \(length) bytes (1 to 1023 are allowed)"
            case .publicKey(let reason): "credential public key: \(reason)"
            case .extensions(let reason): "authenticator extensions: \(reason)"
            case .trailingBytes(let count): "\(count) bytes after the authenticator data's fields"
            case .backedUpWithoutEligibility: "the backed-up flag is set without the backup-eligible flag"
            }
        }
    }

    public init(_ bytes: [UInt8]) throws(Failure) {
        guard bytes.count >= 37 else { throw .tooShort }
        raw = bytes
        rpIDHash = Array(bytes[0..<32])
        flags = Flags(rawValue: bytes[32])
        signCount = bytes[33..<37].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        if flags.contains(.backedUp) && !flags.contains(.backupEligible) { throw .backedUpWithoutEligibility }
        var offset = 37
        if flags.contains(.attestedCredentialData) {
            guard bytes.count >= offset + 18 else { throw .tooShort }
            let aaguid = Array(bytes[offset..<offset + 16])
            let length = Int(bytes[offset + 16]) << 8 | Int(bytes[offset + 17])
            offset += 18
            guard (1...1023).contains(length) else { throw .credentialIDLength(length) }
            guard bytes.count >= offset + length else { throw .tooShort }
            let credentialID = Array(bytes[offset..<offset + length])
            offset += length
            let item: CBOR
            let end: Int
            do { (item, end) = try CBORDecoder().decodePrefix(bytes, from: offset) } catch { throw .publicKey(error.description) }
            let key: COSEKey
            do { key = try COSEKey(item) } catch { throw .publicKey(error.description) }
            attestedCredential = AttestedCredential(
                aaguid: aaguid, credentialID: credentialID, publicKey: key, publicKeyBytes: Array(bytes[offset..<end]))
            offset = end
        } else {
            attestedCredential = nil
        }
        if flags.contains(.extensionData) {
            let decoded: (CBOR, end: Int)
            do { decoded = try CBORDecoder().decodePrefix(bytes, from: offset) } catch { throw .extensions(error.description) }
            guard case .map = decoded.0 else { throw .extensions("not a map") }
            extensions = decoded.0
            offset = decoded.end
        } else {
            extensions = nil
        }
        guard offset == bytes.count else { throw .trailingBytes(bytes.count - offset) }
    }
}
