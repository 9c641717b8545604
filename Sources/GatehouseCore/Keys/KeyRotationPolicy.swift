import Foundation

/// When a tenant's signing keys rotate on their own, and when a retired key leaves the JWKS.
///
/// - A rotation promotes the published `next` key. It is due once the next key has been in the
///   JWKS for the tenant's interval, and never before it has been published for the longest
///   `max-age` the server sends on a JWKS (`longestJWKSMaxAge`, the Entra keys document's day):
///   a relying party that cached the JWKS just before the next key appeared must have fetched it
///   again before a token signed with that key reaches it.
/// - A retired key is removed once every token it signed has expired: `retiredAt` plus the
///   longest token lifetime plus the clock skew verifiers allow.
public enum KeyRotationPolicy {
    /// The longest JWKS `Cache-Control: max-age` Gatehouse sends: 86,400 s on the Entra-style
    /// `/discovery/v2.0/keys`, 300 s on the native `jwks`.
    public static let longestJWKSMaxAge: TimeInterval = 86_400
    /// Clock skew a verifier may allow past `exp`.
    public static let clockSkew: TimeInterval = 300

    public struct Plan: Sendable, Equatable {
        /// The next key to promote now, if a rotation is due.
        public var promote: String?
        /// Retired keys whose tokens have all expired.
        public var remove: [String]
    }

    /// The longest lifetime of a token a tenant's keys sign.
    public static func longestTokenLifetime(tenant: Tenant, policy: SignInPolicy) -> TimeInterval {
        TimeInterval(max(tenant.accessTokenLifetime, policy.idTokenLifetime))
    }

    public static func plan(tenant: Tenant, keys: [SigningKeyRecord], now: Date, longestTokenLifetime: TimeInterval) -> Plan {
        var plan = Plan(promote: nil, remove: [])
        if let interval = tenant.keyRotationInterval, let next = keys.last(where: { $0.status == .next }),
            now >= next.createdAt.addingTimeInterval(max(interval, longestJWKSMaxAge))
        {
            plan.promote = next.kid
        }
        plan.remove = keys.filter { key in
            guard key.status == .retired, let retiredAt = key.retiredAt else { return false }
            return now >= retiredAt.addingTimeInterval(longestTokenLifetime + clockSkew)
        }.map(\.kid)
        return plan
    }
}
