import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird

/// The limits of `Throttles` (`gatehouse.throttle.*`); a limit of 0 failures turns one off.
public struct ThrottleSettings: Sendable {
    /// Failed client authentications and invalid grants per source address and client, on the
    /// token, device authorization, introspection and revocation endpoints.
    public var client = FailureThrottle.Limit(failures: 20, window: 60)
    /// Failed passwords and second-factor codes per source address and username, on the sign-in pages.
    public var signIn = FailureThrottle.Limit(failures: 10, window: 300)
    /// Wrong user codes per source address, on the device code page.
    public var userCode = FailureThrottle.Limit(failures: 10, window: 300)
    /// Peers whose `X-Forwarded-For` names the client's address (exact addresses).
    public var trustedProxies: Set<String> = []

    public init() {}

    /// Every throttle off (the in-process tests that count lockouts; a benchmark of failures).
    public static var off: ThrottleSettings {
        var settings = ThrottleSettings()
        settings.client.failures = 0
        settings.signIn.failures = 0
        settings.userCode.failures = 0
        return settings
    }
}

/// The node's failure throttles (`FailureThrottle`): a credential check (a client secret, a
/// password, a second-factor code, a user code) is admitted before it runs and settled after, so
/// a burst gets no more checks than the limit; other failures that count (an unknown client, a
/// bad assertion, an invalid grant) are recorded after the fact. Over a limit the request is
/// answered 429 with `Retry-After` and the throttle's catalogue code, unchecked. Each node counts
/// its own.
public struct Throttles: Sendable {
    public let client: ThrottleGate
    public let signIn: ThrottleGate
    public let userCode: ThrottleGate
    let source: SourceAddress

    public init(_ settings: ThrottleSettings) {
        func make(_ limit: FailureThrottle.Limit) -> FailureThrottle? {
            limit.failures > 0 && limit.window > 0 ? FailureThrottle(limit: limit) : nil
        }
        client = ThrottleGate(throttle: make(settings.client), entry: Catalogue.tooManyClientFailures)
        signIn = ThrottleGate(throttle: make(settings.signIn), entry: Catalogue.tooManySignInFailures)
        userCode = ThrottleGate(throttle: make(settings.userCode), entry: Catalogue.tooManyUserCodeFailures)
        source = SourceAddress(trustedProxies: settings.trustedProxies)
    }

    /// The address a request is counted under.
    func source(_ request: Request, context: GatehouseContext) -> String {
        source.resolve(peer: context.remoteAddress, forwardedFor: request.headers[.xForwardedFor])
    }

    /// Whether a failure counts against the client throttle: a failed client authentication or an
    /// invalid grant (a guessed code, refresh token, device code or password), not a pending poll.
    static func countsAgainstClient(_ failure: CatalogueError?) -> Bool {
        guard let failure else { return false }
        return failure.error == .invalidClient || failure.error == .invalidGrant
    }
}

extension HTTPField.Name {
    static let xForwardedFor = Self("X-Forwarded-For")!
}
