import Foundation

/// A user's WebAuthn credential (a passkey or a security key), as registered from the account
/// page: its public key and what the relying party keeps about it. It belongs to one user of one
/// tenant and is never looked up in another.
public struct Passkey: Sendable, Hashable {
    public let tenant: TenantName
    public let userID: String
    /// The credential ID, base64url without padding (how browsers name it and how it is looked up).
    public let credentialID: String
    /// The COSE public key as the authenticator sent it.
    public let publicKey: [UInt8]
    /// The signature counter of the last accepted ceremony (0: the authenticator keeps none).
    public var signCount: UInt32
    /// The transports the browser reported (`internal`, `hybrid`, `usb`, `nfc`, `ble`), at most 8.
    public let transports: [String]
    /// The authenticator model's AAGUID, hex (all zero for most passkey providers).
    public let aaguid: String
    /// BE: the credential may be synced to other devices (a multi-device passkey).
    public let backupEligible: Bool
    /// BS: it is backed up now (as of the last ceremony).
    public var backedUp: Bool
    /// The attestation format at registration, and whether its statement was verified.
    public let attestationFormat: String
    /// The name the user gave it (at most 64 characters).
    public var name: String
    public let createdAt: Date
    public var lastUsedAt: Date?
    /// Set when an assertion's counter went backwards (a possible clone).
    public var counterRegressed: Bool

    public init(
        tenant: TenantName, userID: String, credentialID: String, publicKey: [UInt8], signCount: UInt32, transports: [String],
        aaguid: String, backupEligible: Bool, backedUp: Bool, attestationFormat: String, name: String, createdAt: Date,
        lastUsedAt: Date? = nil, counterRegressed: Bool = false
    ) {
        self.tenant = tenant
        self.userID = userID
        self.credentialID = credentialID
        self.publicKey = publicKey
        self.signCount = signCount
        self.transports = Array(transports.prefix(8))
        self.aaguid = aaguid
        self.backupEligible = backupEligible
        self.backedUp = backedUp
        self.attestationFormat = attestationFormat
        self.name = Self.name(name) ?? "Passkey"
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.counterRegressed = counterRegressed
    }

    /// A name as kept: trimmed, control characters removed, 1 to 64 characters; nil when nothing is left.
    public static func name(_ raw: String) -> String? {
        let cleaned = String(String.UnicodeScalarView(raw.unicodeScalars.filter { !CharacterSet.controlCharacters.contains($0) }))
            .trimmingCharacters(in: .whitespaces)
        guard !cleaned.isEmpty else { return nil }
        return String(cleaned.prefix(64))
    }

    /// The transports a browser reports, kept only when they are ones the specification names.
    public static func transports(_ raw: [String]) -> [String] {
        let known: Set<String> = ["usb", "nfc", "ble", "smart-card", "hybrid", "internal"]
        var kept: [String] = []
        for value in raw where known.contains(value) && !kept.contains(value) { kept.append(value) }
        return kept
    }

    /// RFC 8176 `amr` for a sign-in with this credential: `swk` (a software-protected key) for a
    /// synced, backup-eligible passkey; `hwk` (a hardware-bound key) otherwise.
    public var keyMethod: String { backupEligible ? "swk" : "hwk" }
}

/// A tenant's passkey rules (`gatehouse tenants set --passkey-…`).
public struct PasskeyPolicy: Sendable, Hashable {
    /// Whether the authenticator must verify the user (PIN or biometrics) at registration and sign-in.
    public enum UserVerification: String, Sendable, CaseIterable {
        case required, preferred
    }
    /// Which registrations are accepted: any (attestation taken as `none`), or only those with a
    /// verified statement (`packed` self-attestation).
    public enum Attestation: String, Sendable, CaseIterable {
        case none, required
    }
    /// What a counter that goes backwards does: refuse the sign-in, or let it pass with the
    /// credential flagged (synced passkeys that keep counters per device trip it falsely).
    public enum CounterRegression: String, Sendable, CaseIterable {
        case refuse, flag
    }

    public var userVerification: UserVerification
    public var attestation: Attestation
    public var counterRegression: CounterRegression
    /// Every user must have a passkey: one without is asked to register one at the next sign-in,
    /// before the session starts.
    public var required: Bool

    public init(
        userVerification: UserVerification = .preferred, attestation: Attestation = .none, counterRegression: CounterRegression = .refuse,
        required: Bool = false
    ) {
        self.userVerification = userVerification
        self.attestation = attestation
        self.counterRegression = counterRegression
        self.required = required
    }

    /// As stored: `uv=preferred attestation=none counter=refuse required=off`.
    public var stored: String {
        "uv=\(userVerification.rawValue) attestation=\(attestation.rawValue) counter=\(counterRegression.rawValue) required=\(required ? "on" : "off")"
    }

    /// The stored form read back; nil for anything else.
    public init?(stored: String) {
        var policy = PasskeyPolicy()
        for pair in stored.split(separator: " ") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { return nil }
            switch parts[0] {
            case "uv":
                guard let value = UserVerification(rawValue: parts[1]) else { return nil }
                policy.userVerification = value
            case "attestation":
                guard let value = Attestation(rawValue: parts[1]) else { return nil }
                policy.attestation = value
            case "counter":
                guard let value = CounterRegression(rawValue: parts[1]) else { return nil }
                policy.counterRegression = value
            case "required":
                guard parts[1] == "on" || parts[1] == "off" else { return nil }
                policy.required = parts[1] == "on"
            default: return nil
            }
        }
        self = policy
    }
}

/// Users' passkeys by tenant, user and credential ID.
public protocol PasskeyStore: Sendable {
    /// Adds a credential; false when the tenant already has one with its ID (then nothing changes).
    func addPasskey(_ passkey: Passkey) async throws -> Bool
    /// The tenant's credential `credentialID`, whoever's it is.
    func passkey(tenant: TenantName, credentialID: String) async throws -> Passkey?
    /// A user's credentials, oldest first.
    func passkeys(tenant: TenantName, userID: String) async throws -> [Passkey]
    /// Records an accepted ceremony: the new counter, backup state and time, and the regression
    /// flag; written only while the stored counter is still `previousCount`, so that of two
    /// ceremonies racing with one counter value one wins. False when it lost (or the key is gone).
    func recordPasskeyUse(
        tenant: TenantName, credentialID: String, previousCount: UInt32, signCount: UInt32, backedUp: Bool, counterRegressed: Bool,
        at: Date
    ) async throws -> Bool
    /// Renames one of the user's credentials; false when the user has none by that ID.
    func renamePasskey(tenant: TenantName, userID: String, credentialID: String, name: String) async throws -> Bool
    /// Removes one of the user's credentials; false when the user has none by that ID.
    func removePasskey(tenant: TenantName, userID: String, credentialID: String) async throws -> Bool
    /// How many credentials the user has (cheap: asked at every password sign-in).
    func passkeyCount(tenant: TenantName, userID: String) async throws -> Int
    /// Sets the tenant's passkey policy; false when there is no such tenant.
    func setPasskeyPolicy(_ policy: PasskeyPolicy, tenant: TenantName) async throws -> Bool
}
