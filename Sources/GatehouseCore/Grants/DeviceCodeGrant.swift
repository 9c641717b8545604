import Foundation

/// The device authorization grant at the token endpoint (RFC 8628 §3.4-3.5): polling gets
/// authorization_pending (70016), slow_down (9900180), access_denied (9900181) or
/// expired_token (70020) until one poll takes the approval and gets the tokens.
public struct DeviceCodeGrant: GrantHandler {
    public let grantType = GrantType.deviceCode
    public let parameters: Set<String> = ["device_code", "resource"]
    public let devices: DeviceAuthorizationStore
    public let users: UserTokenMinter
    public let issuer: DirectGrantIssuer
    public let time: TimeSource

    public init(devices: DeviceAuthorizationStore, users: UserTokenMinter, issuer: DirectGrantIssuer, time: TimeSource = .system) {
        self.devices = devices
        self.users = users
        self.issuer = issuer
        self.time = time
    }

    public func exchange(_ request: TokenRequest) async throws -> GrantOutcome {
        let deviceCode = try request.form.require("device_code")
        for raw in request.form.all("resource") { _ = try ResourceIndicator(raw) }
        let now = time.now()
        let key = devices.key(deviceCode: deviceCode)
        let authorization = try await devices.authorization(key: key, now: now)
        let poll = try await devices.pollState(key: key, now: now)
        let clientID = request.client.client.id.value
        switch DevicePollOutcome.decide(
            authorization.flatMap { $0.tenant == request.tenant.name.value ? $0 : nil },
            clientID: clientID, lastPoll: poll.last, interval: poll.interval, now: now)
        {
        case .unknown:
            throw CatalogueError(Catalogue.invalidGrant, ["name": "device_code"], detail: "unknown device code")
        case .otherClient:
            throw CatalogueError(
                Catalogue.grantIssuedToAnotherClient, ["name": "device_code"],
                detail: "device code of client \(authorization?.clientID ?? "-")")
        case .expired:
            throw CatalogueError(Catalogue.deviceCodeExpired)
        case .denied:
            throw CatalogueError(Catalogue.deviceAuthorizationDeclined)
        case .pending(let slowDown, let interval):
            if let authorization {
                try await devices.recordPoll(
                    key: key, at: now, interval: interval,
                    keepUntil: authorization.expiresAt.addingTimeInterval(DeviceAuthorizationStore.retention))
            }
            if slowDown { throw CatalogueError(Catalogue.slowDown, ["interval": String(interval)]) }
            throw CatalogueError(Catalogue.authorizationPending)
        case .approved:
            // A resource the user did not authorize is refused before the approval is taken.
            _ = try ScopeAndAudience.narrowedAudience(requested: request.form.all("resource"), granted: authorization?.audience ?? [])
            guard let approved = try await devices.takeApproved(key: key, now: now), let userID = approved.userID else {
                throw CatalogueError(Catalogue.invalidGrant, ["name": "device_code"], detail: "device code redeemed already")
            }
            let user = try await users.activeUser(tenant: request.tenant.name, id: userID)
            let audience = try ScopeAndAudience.narrowedAudience(requested: request.form.all("resource"), granted: approved.audience)
            return try await issuer.issue(
                user: user, scope: Scope(tokens: approved.scope), audience: approved.audience, amr: approved.amr ?? ["pwd"],
                authTime: approved.authTime ?? now, sessionID: approved.sessionID, request: request, tokenAudience: audience)
        }
    }
}
