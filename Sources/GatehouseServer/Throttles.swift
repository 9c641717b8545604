import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird
import Synchronization

/// The limits of `Throttles` (`gatehouse.throttle.*`); a limit of 0 failures turns one off.
public struct ThrottleSettings: Sendable {
    /// Wrong client secrets and client assertions whose signature does not verify, per source
    /// address, tenant and client, on the token, device authorization, introspection and
    /// revocation endpoints (`Guess.clientCredential`).
    public var client = FailureThrottle.Limit(failures: 20, window: 60)
    /// Wrong passwords (sign-in pages and the password grant) and second-factor codes per source
    /// address, tenant and username (`Guess.password`, `Guess.secondFactor`).
    public var signIn = FailureThrottle.Limit(failures: 10, window: 300)
    /// Wrong passwords per source address and tenant whatever the username (the sign-in pages and
    /// the password grant), counted before bcrypt: one address cannot spray a common password over
    /// every account, nor load the server with password checks of made-up usernames. A browser
    /// that signed in as the user before (smart lockout's device cookie) is not held by it.
    public var passwordSource = FailureThrottle.Limit(failures: 30, window: 300)
    /// Wrong user codes per source address and tenant, on the device code page.
    public var userCode = FailureThrottle.Limit(failures: 10, window: 300)
    /// Password reset requests (every one counts) per source address and tenant: over it, 429.
    public var passwordReset = FailureThrottle.Limit(failures: 10, window: 900)
    /// Password reset requests per tenant and account name, whoever asks: over it nothing more
    /// is mailed (the answer stays the same), so that nobody can flood a user's mailbox; the
    /// user already has the links the earlier requests mailed.
    public var passwordResetAccount = FailureThrottle.Limit(failures: 3, window: 900)
    /// Registrations (every attempt counts) per source address and tenant: over it, 429.
    public var registration = FailureThrottle.Limit(failures: 10, window: 3600)
    /// Client registrations (RFC 7591; every attempt counts) per source address and tenant:
    /// over it, 429 (9900433), so that one address cannot fill a tenant with clients.
    public var clientRegistration = FailureThrottle.Limit(failures: 30, window: 3600)
    /// Passkey assertions that fail verification, per source address and tenant. They never
    /// count toward a user's lockout (a stranger must not be able to lock a passkey user out),
    /// and a signature cannot be guessed, so this only bounds the work one address causes.
    public var passkey = FailureThrottle.Limit(failures: 20, window: 300)
    /// Peers whose `X-Forwarded-For` names the client's address (exact addresses).
    public var trustedProxies: Set<String> = []

    public init() {}

    /// Every throttle off (the in-process tests that count lockouts; a benchmark of failures).
    public static var off: ThrottleSettings {
        var settings = ThrottleSettings()
        settings.client.failures = 0
        settings.signIn.failures = 0
        settings.passwordSource.failures = 0
        settings.userCode.failures = 0
        settings.passwordReset.failures = 0
        settings.passwordResetAccount.failures = 0
        settings.registration.failures = 0
        settings.clientRegistration.failures = 0
        settings.passkey.failures = 0
        return settings
    }
}

/// The node's failure throttles (`FailureThrottle`). They count guesses, not mistakes (`Guess`):
/// a credential check (a client secret, a password, a second-factor code, a user code) is
/// admitted before it runs and settled after, so a burst gets no more checks than the limit; a
/// client assertion's bad signature is recorded after the fact. Failed redemptions of codes,
/// refresh tokens and device codes count toward none. Over a limit only a request that would
/// perform the same kind of check is answered 429 (`Retry-After`, the throttle's catalogue code),
/// unchecked; everything else of the same client, user or address goes on. Each node counts its own.
public struct Throttles: Sendable {
    public let client: ThrottleGate
    public let signIn: ThrottleGate
    public let passwordSource: ThrottleGate
    public let userCode: ThrottleGate
    public let passwordReset: ThrottleGate
    public let passwordResetAccount: ThrottleGate
    public let registration: ThrottleGate
    public let clientRegistration: ThrottleGate
    public let passkey: ThrottleGate
    let source: SourceAddress
    /// Warns once per node that `X-Forwarded-For` arrives from a peer not in `trusted_proxies`.
    let untrustedForwarding = OnceFlag()

    public init(_ settings: ThrottleSettings) {
        func make(_ limit: FailureThrottle.Limit) -> FailureThrottle? {
            limit.failures > 0 && limit.window > 0 ? FailureThrottle(limit: limit) : nil
        }
        client = ThrottleGate(throttle: make(settings.client), entry: Catalogue.tooManyClientFailures)
        signIn = ThrottleGate(throttle: make(settings.signIn), entry: Catalogue.tooManySignInFailures)
        passwordSource = ThrottleGate(throttle: make(settings.passwordSource), entry: Catalogue.tooManySignInFailures)
        userCode = ThrottleGate(throttle: make(settings.userCode), entry: Catalogue.tooManyUserCodeFailures)
        passwordReset = ThrottleGate(throttle: make(settings.passwordReset), entry: Catalogue.tooManyPasswordResetRequests)
        passwordResetAccount = ThrottleGate(throttle: make(settings.passwordResetAccount), entry: Catalogue.tooManyPasswordResetRequests)
        registration = ThrottleGate(throttle: make(settings.registration), entry: Catalogue.tooManyRegistrations)
        clientRegistration = ThrottleGate(throttle: make(settings.clientRegistration), entry: Catalogue.tooManyRegistrations)
        passkey = ThrottleGate(throttle: make(settings.passkey), entry: Catalogue.tooManySignInFailures)
        source = SourceAddress(trustedProxies: settings.trustedProxies)
    }

    /// The address a request is counted under.
    func source(_ request: Request, context: GatehouseContext) -> String {
        let (address, ignored) = source.resolveNoting(peer: context.remoteAddress, forwardedFor: request.headers[.xForwardedFor])
        if ignored && untrustedForwarding.firstTime() {
            context.logger.warning(
                "X-Forwarded-For from a peer not in gatehouse.trusted_proxies is ignored (requests are counted under the peer's address); said once",
                metadata: ["peer": "\(address)"])
        }
        return address
    }
}

/// True the first time only.
final class OnceFlag: Sendable {
    private let done = Atomic<Bool>(false)

    func firstTime() -> Bool {
        !done.exchange(true, ordering: .relaxed)
    }
}

extension HTTPField.Name {
    static let xForwardedFor = Self("X-Forwarded-For")!
}
