import Foundation

/// Issues an authorization code for a signed-in user: one grant row holding the code's hash.
public struct CodeIssuer: Sendable {
    public let grants: any GrantStore
    public let hasher: SecretHasher
    public let policy: SignInPolicy
    public let time: TimeSource
    public let random: RandomSource
    /// Where a client with a back-channel logout URI is noted as taking part in the session.
    public let participants: (any SessionParticipantStore)?

    public init(
        grants: any GrantStore, hasher: SecretHasher, policy: SignInPolicy, time: TimeSource = .system, random: RandomSource = .system,
        participants: (any SessionParticipantStore)? = nil
    ) {
        self.participants = participants
        self.grants = grants
        self.hasher = hasher
        self.policy = policy
        self.time = time
        self.random = random
    }

    /// Returns the code (256 bits) to send to the client; only its hash is stored.
    public func issue(for request: AuthorizationRequest, client: Client, session: BrowserSession, scope: Scope) async throws -> String {
        let now = time.now()
        let code = random.token(byteCount: 32)
        let offline = AuthorizationGrant.isOffline(client: client, scope: scope)
        let grant = AuthorizationGrant(
            id: random.token(byteCount: 16), tenant: client.tenant, clientID: client.id, userID: session.userID, scope: scope,
            audience: request.audience, nonce: request.nonce, authTime: session.authTime, sessionID: session.sid, amr: session.amr,
            codeHash: hasher.hash(code), codeChallenge: request.codeChallenge?.value,
            redirectURI: request.redirectURIWasSent ? request.reply.redirectURI.value : nil,
            codeExpiresAt: now.addingTimeInterval(policy.codeLifetime), createdAt: now, offline: offline,
            binding: request.dpopJKT.map { .dpop(jkt: $0) })
        try await grants.createGrant(grant)
        if let participants {
            try await BackchannelLogout.note(client: client, session: session, issuer: request.issuer, in: participants)
        }
        return code
    }
}
