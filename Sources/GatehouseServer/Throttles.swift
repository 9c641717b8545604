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

/// The node's failure throttles (`FailureThrottle`): each attempt that can guess a credential is
/// admitted before it runs and settled after; over a limit the request is answered 429 with
/// `Retry-After` and the throttle's catalogue code, without being checked. Each node counts its own.
public struct Throttles: Sendable {
    public struct Gate: Sendable {
        let throttle: FailureThrottle?
        let entry: CatalogueEntry

        /// Counts an attempt under `key`, or throws the 429 (nil when this throttle is off).
        func admit(_ key: String, now: Date) throws(CatalogueError) -> Admission? {
            guard let throttle else { return nil }
            let (ticket, retryAfter) = throttle.admit(key, now: now)
            if let ticket { return Admission(throttle: throttle, ticket: ticket) }
            throw CatalogueError(entry, ["retryAfter": String(retryAfter ?? 1)], detail: "throttled: \(throttle.limit.failures) failures")
        }
    }

    /// An attempt admitted by a gate; `settle` once its outcome is known.
    public struct Admission: Sendable {
        let throttle: FailureThrottle
        let ticket: FailureThrottle.Ticket

        func settle(failed: Bool) { throttle.settle(ticket, failed: failed) }
    }

    public let client: Gate
    public let signIn: Gate
    public let userCode: Gate
    let source: SourceAddress

    public init(_ settings: ThrottleSettings) {
        func make(_ limit: FailureThrottle.Limit) -> FailureThrottle? {
            limit.failures > 0 && limit.window > 0 ? FailureThrottle(limit: limit) : nil
        }
        client = Gate(throttle: make(settings.client), entry: Catalogue.tooManyClientFailures)
        signIn = Gate(throttle: make(settings.signIn), entry: Catalogue.tooManySignInFailures)
        userCode = Gate(throttle: make(settings.userCode), entry: Catalogue.tooManyUserCodeFailures)
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
