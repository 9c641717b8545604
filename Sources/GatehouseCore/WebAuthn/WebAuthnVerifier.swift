import Crypto
import Foundation

/// The relying party's checks of a registration and an assertion (WebAuthn Level 3 §7.1 and
/// §7.2), as pure functions of what the browser sent and what the server expects: no store, no
/// clock. The caller takes the challenge (single use), finds the credential and stores the result.
public struct WebAuthnVerifier: Sendable {
    /// The RP ID (the base URL's host, or a registrable suffix of it).
    public let rpID: String
    /// The one origin accepted (the base URL's scheme, host and port), compared exactly.
    public let origin: String

    public init(rpID: String, origin: String) {
        self.rpID = rpID
        self.origin = origin
    }

    /// Why a ceremony was refused; each becomes a catalogue entry where the pages show it.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case clientData(String)
        case wrongType(String)
        case challengeMismatch
        case wrongOrigin(String)
        case crossOrigin
        case attestation(String)
        case authenticatorData(String)
        case rpIDMismatch
        case userNotPresent
        case userVerificationRequired
        case noCredential
        case badSignature
        case counterRegressed(stored: UInt32, presented: UInt32)

        public var description: String {
            switch self {
            case .clientData(let reason): "clientDataJSON: \(reason)"
            case .wrongType(let type): "clientDataJSON type '\(type)' is not this ceremony's"
            case .challengeMismatch: "the challenge is not the one this server issued"
            case .wrongOrigin(let origin): "origin '\(origin)' is not this server's"
            case .crossOrigin: "the ceremony ran in a cross-origin frame"
            case .attestation(let reason): "attestation: \(reason)"
            case .authenticatorData(let reason): "authenticator data: \(reason)"
            case .rpIDMismatch: "the authenticator data is for another relying party"
            case .userNotPresent: "the authenticator did not test user presence"
            case .userVerificationRequired: "the authenticator did not verify the user"
            case .noCredential: "the registration carries no credential"
            case .badSignature: "the signature does not verify with the credential's key"
            case .counterRegressed(let stored, let presented): "signature counter \(presented) is not above the stored \(stored)"
            }
        }
    }

    /// The parts of clientDataJSON the checks read (§5.8.1).
    struct ClientData: Decodable {
        let type: String
        let challenge: String
        let origin: String
        let crossOrigin: Bool?
    }

    /// Checks clientDataJSON against the ceremony, the challenge and the origin; returns its SHA-256.
    func checkClientData(_ json: [UInt8], type: String, challenge: [UInt8]) throws(Failure) -> [UInt8] {
        guard json.count <= 4096 else { throw .clientData("longer than 4096 bytes") }
        let data: ClientData
        do { data = try JSONDecoder().decode(ClientData.self, from: Data(json)) } catch { throw .clientData("not the expected JSON") }
        guard data.type == type else { throw .wrongType(Self.printable(data.type, 40)) }
        guard let presented = Base64URL.decode(data.challenge),
            constantTimeEquals(Array(presented), challenge)
        else { throw .challengeMismatch }
        guard data.origin == origin else { throw .wrongOrigin(Self.printable(data.origin, 200)) }
        guard data.crossOrigin != true else { throw .crossOrigin }
        return Array(SHA256.hash(data: json))
    }

    /// What the browser sent, as a failure may quote it in logs: printable ASCII only, bounded.
    static func printable(_ text: String, _ limit: Int) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.prefix(limit).map { (0x20..<0x7f).contains($0.value) ? $0 : "?" }))
    }

    /// Checks the authenticator data's RP ID hash and flags.
    func checkFlags(_ data: AuthenticatorData, requireUserVerification: Bool) throws(Failure) {
        guard constantTimeEquals(data.rpIDHash, Array(SHA256.hash(data: Array(rpID.utf8)))) else { throw .rpIDMismatch }
        guard data.flags.contains(.userPresent) else { throw .userNotPresent }
        if requireUserVerification && !data.flags.contains(.userVerified) { throw .userVerificationRequired }
    }

    /// A verified registration: what is stored with the credential.
    public struct Registration: Sendable {
        public let credentialID: [UInt8]
        public let publicKey: COSEKey
        public let publicKeyBytes: [UInt8]
        public let signCount: UInt32
        public let aaguid: [UInt8]
        public let flags: AuthenticatorData.Flags
        /// The attestation format, and whether it was verified (packed self-attestation) or taken as none.
        public let format: String
        public let attested: Bool
    }

    /// §7.1: clientDataJSON (`webauthn.create`, challenge, origin), the attestation object
    /// (`none`; `packed` self-attestation verified; any other format taken as `none` unless
    /// `requireAttestation`), the authenticator data and its credential.
    public func verifyRegistration(
        clientDataJSON: [UInt8], attestationObject: [UInt8], challenge: [UInt8], requireUserVerification: Bool,
        requireAttestation: Bool = false
    ) throws(Failure) -> Registration {
        let clientDataHash = try checkClientData(clientDataJSON, type: "webauthn.create", challenge: challenge)
        let object: CBOR
        do { object = try CBORDecoder().decode(attestationObject) } catch { throw .attestation(error.description) }
        guard let format = object["fmt"]?.textString, let authBytes = object["authData"]?.byteString,
            let statement = object["attStmt"], case .map(let statementPairs) = statement
        else { throw .attestation("fmt, attStmt or authData missing") }
        let data: AuthenticatorData
        do { data = try AuthenticatorData(authBytes) } catch { throw .authenticatorData(error.description) }
        try checkFlags(data, requireUserVerification: requireUserVerification)
        guard let credential = data.attestedCredential else { throw .noCredential }
        var attested = false
        switch format {
        case "none":
            guard statementPairs.isEmpty else { throw .attestation("a 'none' statement must be empty") }
        case "packed" where statement["x5c"] == nil:
            // Self-attestation (§8.2): the credential's own key signs authData ‖ clientDataHash.
            guard statement["alg"]?.int == credential.publicKey.algorithm.rawValue, let signature = statement["sig"]?.byteString else {
                throw .attestation("packed self-attestation needs alg equal to the key's and sig")
            }
            guard credential.publicKey.verify(signature: signature, over: authBytes + clientDataHash) else {
                throw .attestation("packed self-attestation signature does not verify")
            }
            attested = true
        default:
            if requireAttestation { throw .attestation("format '\(String(format.prefix(20)))' is not accepted") }
        }
        if requireAttestation && !attested { throw .attestation("the tenant requires a verified attestation") }
        return Registration(
            credentialID: credential.credentialID, publicKey: credential.publicKey, publicKeyBytes: credential.publicKeyBytes,
            signCount: data.signCount, aaguid: credential.aaguid, flags: data.flags, format: format, attested: attested)
    }

    /// A verified assertion: the new counter and the flags (backup state, user verification).
    public struct Assertion: Sendable {
        public let signCount: UInt32
        public let flags: AuthenticatorData.Flags
        /// The counter went backwards (or stayed) although it is in use: a sign of a cloned
        /// authenticator; the caller flags the credential and, per policy, refuses it.
        public let counterRegressed: Bool
    }

    /// §7.2: clientDataJSON (`webauthn.get`, challenge, origin), the authenticator data (RP ID
    /// hash, UP, UV where required), the signature over authenticatorData ‖ SHA-256(clientDataJSON)
    /// with the stored key, and the counter rule (§6.1.1: when either counter is non-zero, the new
    /// one must be greater).
    public func verifyAssertion(
        clientDataJSON: [UInt8], authenticatorData: [UInt8], signature: [UInt8], challenge: [UInt8], publicKey: COSEKey,
        storedSignCount: UInt32, requireUserVerification: Bool
    ) throws(Failure) -> Assertion {
        let clientDataHash = try checkClientData(clientDataJSON, type: "webauthn.get", challenge: challenge)
        let data: AuthenticatorData
        do { data = try AuthenticatorData(authenticatorData) } catch { throw .authenticatorData(error.description) }
        try checkFlags(data, requireUserVerification: requireUserVerification)
        guard publicKey.verify(signature: signature, over: authenticatorData + clientDataHash) else { throw .badSignature }
        let regressed = (data.signCount != 0 || storedSignCount != 0) && data.signCount <= storedSignCount
        return Assertion(signCount: data.signCount, flags: data.flags, counterRegressed: regressed)
    }
}
