import Foundation

/// What the browser posts after `navigator.credentials.create()`: each field base64url, as the
/// page's script writes them into the form.
public struct RegistrationResponse: Sendable {
    public let clientDataJSON: [UInt8]
    public let attestationObject: [UInt8]
    public let transports: [String]

    /// The form's fields, or nil when one is missing or not base64url.
    public init?(clientDataJSON: String?, attestationObject: String?, transports: String?) {
        guard let clientData = clientDataJSON.flatMap(Base64URL.decode), let attestation = attestationObject.flatMap(Base64URL.decode),
            clientData.count <= 4096, attestation.count <= 16384
        else { return nil }
        self.clientDataJSON = Array(clientData)
        self.attestationObject = Array(attestation)
        self.transports = Passkey.transports((transports ?? "").split(separator: ",").map { String($0.prefix(16)) })
    }
}

/// What the browser posts after `navigator.credentials.get()`.
public struct AssertionResponse: Sendable {
    /// base64url, as stored.
    public let credentialID: String
    public let clientDataJSON: [UInt8]
    public let authenticatorData: [UInt8]
    public let signature: [UInt8]
    /// The user handle a discoverable credential returns (the user's ID as UTF-8), if any.
    public let userHandle: [UInt8]?

    public init?(credentialID: String?, clientDataJSON: String?, authenticatorData: String?, signature: String?, userHandle: String?) {
        guard let id = credentialID, (1...1400).contains(id.utf8.count), let rawID = Base64URL.decode(id), !rawID.isEmpty,
            let clientData = clientDataJSON.flatMap(Base64URL.decode), clientData.count <= 4096,
            let authData = authenticatorData.flatMap(Base64URL.decode), authData.count <= 4096,
            let signature = signature.flatMap(Base64URL.decode), signature.count <= 1024
        else { return nil }
        self.credentialID = Base64URL.encode(Array(rawID))
        self.clientDataJSON = Array(clientData)
        self.authenticatorData = Array(authData)
        self.signature = Array(signature)
        if let handle = userHandle, !handle.isEmpty {
            guard let bytes = Base64URL.decode(handle), bytes.count <= 64 else { return nil }
            self.userHandle = Array(bytes)
        } else {
            self.userHandle = nil
        }
    }
}

/// The relying party's two ceremonies with their state: challenges (single use, short-lived,
/// bound to what the caller names: a sign-in page's interaction, an account session), the
/// credential lookup within one tenant, the tenant's policy and the stored counter. Every refusal
/// is a catalogue error; the caller decides what it counts toward (a per-source throttle only).
public struct PasskeyCeremonies: Sendable {
    public let store: any PasskeyStore & StateStore
    public let hasher: SecretHasher
    public let verifier: WebAuthnVerifier
    public let time: TimeSource
    public let random: RandomSource
    /// How long a challenge may be answered (the page's script asks for the same timeout).
    public var challengeLifetime: TimeInterval = 300

    public init(
        store: any PasskeyStore & StateStore, hasher: SecretHasher, verifier: WebAuthnVerifier, time: TimeSource = .system,
        random: RandomSource = .system
    ) {
        self.store = store
        self.hasher = hasher
        self.verifier = verifier
        self.time = time
        self.random = random
    }

    static let kind = "webauthn_challenge"

    struct Pending: Codable {
        let challenge: String
        let userID: String?
    }

    /// A fresh challenge (32 random bytes, base64url) bound to `binding`, replacing any earlier
    /// one under it; `userID` when only that user's credential may answer it.
    public func newChallenge(binding: String, userID: String?) async throws -> String {
        let challenge = Base64URL.encode(random.bytes(32))
        let value = String(decoding: try JSONEncoder().encode(Pending(challenge: challenge, userID: userID)), as: UTF8.self)
        try await store.putState(
            kind: Self.kind, key: hasher.derive("webauthn challenge", binding), value: value,
            expiresAt: time.now().addingTimeInterval(challengeLifetime))
        return challenge
    }

    /// Takes the challenge bound to `binding` (single use: of parallel answers one gets it).
    private func takeChallenge(binding: String) async throws -> Pending {
        guard let value = try await store.takeState(kind: Self.kind, key: hasher.derive("webauthn challenge", binding), now: time.now()),
            let pending = try? JSONDecoder().decode(Pending.self, from: Data(value.utf8))
        else {
            throw CatalogueError(Catalogue.passkeyChallengeInvalid, detail: "no live challenge for this page (expired, used or never made)")
        }
        return pending
    }

    /// The catalogue error for a verifier's refusal.
    public static func error(_ failure: WebAuthnVerifier.Failure, policy: PasskeyPolicy) -> CatalogueError {
        let detail = failure.description
        switch failure {
        case .challengeMismatch: return CatalogueError(Catalogue.passkeyChallengeInvalid, detail: detail)
        case .wrongOrigin, .crossOrigin, .rpIDMismatch: return CatalogueError(Catalogue.passkeyWrongOrigin, detail: detail)
        case .userVerificationRequired: return CatalogueError(Catalogue.passkeyUserVerificationRequired, detail: detail)
        case .counterRegressed: return CatalogueError(Catalogue.passkeyCounterRegressed, detail: detail)
        case .attestation where policy.attestation == .required: return CatalogueError(Catalogue.passkeyAttestationRefused, detail: detail)
        case .clientData, .wrongType, .attestation, .authenticatorData, .userNotPresent, .noCredential, .badSignature:
            return CatalogueError(Catalogue.passkeyResponseInvalid, detail: detail)
        }
    }

    /// Registers `user`'s new credential from a page that took the challenge bound to `binding`.
    public func register(_ response: RegistrationResponse, binding: String, user: User, policy: PasskeyPolicy, name: String) async throws
        -> Passkey
    {
        let pending = try await takeChallenge(binding: binding)
        guard pending.userID == user.id, let challenge = Base64URL.decode(pending.challenge) else {
            throw CatalogueError(Catalogue.passkeyChallengeInvalid, detail: "the challenge was made for another user")
        }
        let registration: WebAuthnVerifier.Registration
        do {
            registration = try verifier.verifyRegistration(
                clientDataJSON: response.clientDataJSON, attestationObject: response.attestationObject, challenge: Array(challenge),
                requireUserVerification: policy.userVerification == .required, requireAttestation: policy.attestation == .required)
        } catch {
            throw Self.error(error, policy: policy)
        }
        let passkey = Passkey(
            tenant: user.tenant, userID: user.id, credentialID: Base64URL.encode(registration.credentialID),
            publicKey: registration.publicKeyBytes, signCount: registration.signCount, transports: response.transports,
            aaguid: hexString(registration.aaguid), backupEligible: registration.flags.contains(.backupEligible),
            backedUp: registration.flags.contains(.backedUp), attestationFormat: registration.attested ? registration.format : "none",
            name: name, createdAt: time.now())
        guard try await store.addPasskey(passkey) else {
            throw CatalogueError(Catalogue.passkeyAlreadyRegistered, detail: "credential \(passkey.credentialID.prefix(16))… exists")
        }
        return passkey
    }

    /// A verified sign-in: the credential (after this use) and the flags the authenticator reported.
    public struct SignIn: Sendable {
        public let passkey: Passkey
        public let flags: AuthenticatorData.Flags
    }

    /// Verifies an assertion answering the challenge bound to `binding`, with a credential of
    /// `tenant` (of `expectedUserID` when the page knows the user: a second factor), and records
    /// its use. A counter that went backwards flags the credential and, per policy, refuses it.
    /// A passkey as the only factor must verify the user (PIN or biometrics) whatever the policy:
    /// a stolen security key signs with a presence test alone if asked to.
    public func authenticate(
        _ response: AssertionResponse, binding: String, tenant: TenantName, policy: PasskeyPolicy, expectedUserID: String?
    )
        async throws -> SignIn
    {
        let pending = try await takeChallenge(binding: binding)
        guard let challenge = Base64URL.decode(pending.challenge) else {
            throw CatalogueError(Catalogue.passkeyChallengeInvalid, detail: "unreadable stored challenge")
        }
        guard var passkey = try await store.passkey(tenant: tenant, credentialID: response.credentialID) else {
            throw CatalogueError(
                Catalogue.passkeyNotRecognized, detail: "no credential \(response.credentialID.prefix(16))… in this tenant")
        }
        let owner = expectedUserID ?? pending.userID
        if let owner, owner != passkey.userID {
            throw CatalogueError(Catalogue.passkeyNotRecognized, detail: "credential belongs to another user than the page's")
        }
        if let handle = response.userHandle, !constantTimeEquals(handle, Array(passkey.userID.utf8)) {
            throw CatalogueError(Catalogue.passkeyNotRecognized, detail: "user handle does not name the credential's user")
        }
        let key: COSEKey
        do { key = try COSEKey(try CBORDecoder().decode(passkey.publicKey)) } catch {
            throw CatalogueError(Catalogue.passkeyResponseInvalid, detail: "stored public key unreadable")
        }
        let assertion: WebAuthnVerifier.Assertion
        do {
            assertion = try verifier.verifyAssertion(
                clientDataJSON: response.clientDataJSON, authenticatorData: response.authenticatorData, signature: response.signature,
                challenge: Array(challenge), publicKey: key, storedSignCount: passkey.signCount,
                requireUserVerification: policy.userVerification == .required || owner == nil)
        } catch {
            throw Self.error(error, policy: policy)
        }
        // WebAuthn Level 3 §6.1.3: backup eligibility is fixed when the credential is made.
        guard assertion.flags.contains(.backupEligible) == passkey.backupEligible else {
            throw CatalogueError(Catalogue.passkeyResponseInvalid, detail: "backup eligibility differs from the registration's")
        }
        let now = time.now()
        // Written over the counter read; a concurrent use that moved it first is re-read once more.
        for _ in 0..<3 {
            let regressed = (assertion.signCount != 0 || passkey.signCount != 0) && assertion.signCount <= passkey.signCount
            if regressed && policy.counterRegression == .refuse {
                _ = try await store.recordPasskeyUse(
                    tenant: tenant, credentialID: passkey.credentialID, previousCount: passkey.signCount, signCount: passkey.signCount,
                    backedUp: passkey.backedUp, counterRegressed: true, at: passkey.lastUsedAt ?? passkey.createdAt)
                throw Self.error(.counterRegressed(stored: passkey.signCount, presented: assertion.signCount), policy: policy)
            }
            let count = max(passkey.signCount, assertion.signCount)
            if try await store.recordPasskeyUse(
                tenant: tenant, credentialID: passkey.credentialID, previousCount: passkey.signCount, signCount: count,
                backedUp: assertion.flags.contains(.backedUp), counterRegressed: regressed, at: now)
            {
                passkey.signCount = count
                passkey.backedUp = assertion.flags.contains(.backedUp)
                passkey.counterRegressed = passkey.counterRegressed || regressed
                passkey.lastUsedAt = now
                return SignIn(passkey: passkey, flags: assertion.flags)
            }
            guard let current = try await store.passkey(tenant: tenant, credentialID: passkey.credentialID) else { break }
            passkey = current
        }
        throw CatalogueError(Catalogue.passkeyNotRecognized, detail: "credential removed or in use by a concurrent sign-in")
    }
}
