import Foundation

/// Lifetimes and limits of user sign-in, codes and refresh tokens (configurable, docs/configuration.md).
public struct SignInPolicy: Sendable {
    /// Authorization code lifetime (RFC 6749 §4.1.2 recommends at most 10 minutes).
    public var codeLifetime: TimeInterval = 120
    /// How long a sign-in page (an interaction) stays usable.
    public var interactionLifetime: TimeInterval = 15 * 60
    /// Browser sign-in session lifetime.
    public var sessionLifetime: TimeInterval = 8 * 3600
    /// ID token lifetime.
    public var idTokenLifetime: Int = 3600
    /// Refresh tokens: unused for longer than this, they expire (sliding lifetime).
    public var refreshIdleLifetime: TimeInterval = 14 * 86400
    /// Refresh tokens: no grant lives longer than this from its sign-in (absolute lifetime).
    public var refreshAbsoluteLifetime: TimeInterval = 90 * 86400
    /// After a rotation, a *public* client's replaced refresh token may be presented again for
    /// this long (a retry after a lost response) without revoking the grant (RFC 9700 §4.14.2).
    public var refreshReuseGrace: TimeInterval = 10
    /// The same for a client that authenticates (a confidential client): long enough to outlast
    /// a database failover (10-30 s with Patroni's defaults) and the client's own retries. A thief
    /// of such a client's refresh token also needs the client's credentials (RFC 9700 §4.14), so a
    /// longer window does not help one (docs/security.md "Refresh token rotation").
    public var refreshRetryWindow: TimeInterval = 120

    /// How long after a rotation the replaced token is still a retry, for a client of `type`;
    /// `bound`: a public client's grant bound to its DPoP key, whose retries need the key as a
    /// confidential client's need its credentials, and so get the same window.
    public func refreshRetryWindow(for type: ClientType, bound: Bool = false) -> TimeInterval {
        type == .confidential || bound ? refreshRetryWindow : refreshReuseGrace
    }
    /// Credential checks (password or second factor) allowed per account, or unknown username,
    /// in `lockoutDuration` without a success; past them the account is locked. Attempts are
    /// counted before the check, so a parallel burst gets no more checks than this.
    public var lockoutThreshold: Int = 5
    /// Wrong second-factor codes one sign-in page accepts before it is ended (the password must
    /// then be entered again; the account lock above still counts every code).
    public var secondFactorAttemptsPerInteraction: Int = 3
    /// How long a lockout lasts; failures older than this are forgotten.
    public var lockoutDuration: TimeInterval = 15 * 60
    /// Remembered consent lifetime.
    public var consentLifetime: TimeInterval = 365 * 86400
    /// Device codes (RFC 8628): lifetime (Entra uses 900 s) and the polling interval given out.
    public var deviceCodeLifetime: TimeInterval = 900
    public var deviceCodeInterval: Int = 5

    public init() {}
}
