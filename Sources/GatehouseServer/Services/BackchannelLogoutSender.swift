import Foundation
import GatehouseCore

/// Delivers back-channel logout tokens for the outbox (OpenID Connect Back-Channel Logout 1.0
/// §2.5): signs a logout token with the tenant's key when it is sent (a fresh `iat` on every
/// attempt) and posts it to the relying party's URI through the outbound guard. Every attempt is
/// recorded in the sign-in log under the step `backchannel_logout`: a success, a failure that
/// will be retried (9900241) or one given up (9900242).
public struct BackchannelLogoutSender: Sendable {
    let keyRings: KeyRingRegistry
    let fetcher: any OutboundFetcher
    let tenants: any TenantStore
    let signIns: SignInLogWriter?
    let time: TimeSource
    let random: RandomSource

    public init(
        keyRings: KeyRingRegistry, fetcher: any OutboundFetcher, tenants: any TenantStore, signIns: SignInLogWriter?,
        time: TimeSource = .system, random: RandomSource = .system
    ) {
        self.keyRings = keyRings
        self.fetcher = fetcher
        self.tenants = tenants
        self.signIns = signIns
        self.time = time
        self.random = random
    }

    /// Posts the logout token; throws `DeliveryRefused` when the relying party refused it (4xx).
    func deliver(_ delivery: BackchannelLogoutDelivery) async throws {
        let tenant = try TenantName(delivery.tenant)
        // An administrator's client may be on the local network; a client nobody vetted only
        // where the tenant allows local fetches.
        var allowLocal = delivery.trusted
        if !allowLocal { allowLocal = try await tenants.tenant(named: tenant)?.clientRegistration.allowLocalFetches ?? false }
        let now = time.now()
        let claims = LogoutTokenClaims(delivery: delivery, now: now, jti: random.token(byteCount: 16))
        let token = try await keyRings.keyRing(for: tenant).sign(claims, type: BackchannelLogout.tokenType)
        try await fetcher.post(
            delivery.uri, form: [("logout_token", token)],
            policy: OutboundPolicy(allowLocalAddresses: allowLocal, maximumBytes: 16 * 1024, timeout: 5))
    }

    /// Records an attempt in the sign-in log.
    func record(_ delivery: BackchannelLogoutDelivery, attempt: Int, failure: String?, givenUp: Bool) {
        guard let signIns else { return }
        let now = time.now()
        var error: CatalogueError? = nil
        if let failure {
            error = CatalogueError(
                givenUp ? Catalogue.backchannelLogoutAbandoned : Catalogue.backchannelLogoutFailed,
                ["clientId": delivery.clientID, "reason": failure])
        }
        signIns.record(
            SignInEvent(
                time: now, tenant: delivery.tenant, clientID: delivery.clientID, grantType: "backchannel_logout", scopes: nil,
                result: error == nil ? .success : .failure, errorCode: error?.entry.number, error: error?.error.rawValue,
                detail: "attempt \(attempt) to \(RecordedValue.cut(delivery.uri, to: 200)) for session \(delivery.sid) (\(delivery.reason))"
                    + (failure.map { ": \($0)" } ?? ""),
                traceID: TraceID.make(now: now, random: random), correlationID: TraceID.make(now: now, random: random), clientIP: nil,
                userAgent: nil, latencyMicros: 0, userID: delivery.userID))
    }
}
