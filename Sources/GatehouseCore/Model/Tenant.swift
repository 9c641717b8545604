import Foundation

/// A tenant: an issuer of its own (`{base-url}/{tenant}`) with its own clients and keys.
public struct Tenant: Sendable, Hashable {
    public let name: TenantName
    /// A stable GUID, for Entra-style addressing.
    public let id: UUID
    public var displayName: String
    public var signingAlgorithm: SigningAlgorithm
    /// Access token lifetime in seconds.
    public var accessTokenLifetime: Int
    public let createdAt: Date
    /// How the sign-in log keeps repeated machine successes (`gatehouse tenants set --sign-in-log`).
    public var signInLog: SignInLogMode
    /// Automatic signing-key rotation: a rotation at most this often (`KeyRotationPolicy`);
    /// nil for none (`gatehouse tenants set --key-rotation-days`).
    public var keyRotationInterval: TimeInterval?
    /// Whether users may sign in with their email address in place of their username; while on,
    /// an address belongs to one user of the tenant (`gatehouse tenants set --email-sign-in`).
    public var emailSignIn: Bool
    /// Whether a new user's address is mailed a verification link (`gatehouse tenants set
    /// --verify-email`); a changed address always is.
    public var verifyEmail: Bool
    /// Whether people may register themselves (`gatehouse tenants set --registration`).
    public var registration: RegistrationPolicy = .off
    /// The email domains registration accepts; empty: any.
    public var registrationDomains: [String] = []
    /// Colour, support contact and logo digest of the tenant's pages and mails.
    public var branding = TenantBranding()
    /// Passkey rules: user verification, attestation, counter regression.
    public var passkeyPolicy: PasskeyPolicy
    /// Dynamic client registration and outbound fetches.
    public var clientRegistration = ClientRegistrationSettings()
    /// Every client's authorization requests only through pushed authorization requests
    /// (RFC 9126 §6; `gatehouse tenants set --require-par`).
    public var requirePushedAuthorizationRequests = false
    /// DPoP proofs only with a current server nonce (RFC 9449 §8, §9; `gatehouse tenants set
    /// --require-dpop-nonce`): a proof made in advance, before the client saw the nonce, is refused.
    public var requireDPoPNonce = false

    public init(
        name: TenantName, id: UUID = UUID(), displayName: String, signingAlgorithm: SigningAlgorithm = .es256,
        accessTokenLifetime: Int = 3600, createdAt: Date, signInLog: SignInLogMode = .aggregate, keyRotationInterval: TimeInterval? = nil,
        emailSignIn: Bool = true, verifyEmail: Bool = false, registration: RegistrationPolicy = .off, registrationDomains: [String] = [],
        branding: TenantBranding = TenantBranding(), passkeyPolicy: PasskeyPolicy = PasskeyPolicy()
    ) {
        self.passkeyPolicy = passkeyPolicy
        self.registration = registration
        self.registrationDomains = registrationDomains
        self.branding = branding
        self.verifyEmail = verifyEmail
        self.emailSignIn = emailSignIn
        self.signInLog = signInLog
        self.keyRotationInterval = keyRotationInterval
        self.name = name
        self.id = id
        self.displayName = displayName
        self.signingAlgorithm = signingAlgorithm
        self.accessTokenLifetime = accessTokenLifetime
        self.createdAt = createdAt
    }

    /// The GUID in lowercase, as Entra writes `tid`.
    public var guid: String { id.uuidString.lowercased() }
}
