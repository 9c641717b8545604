import Foundation
import GatehouseCore
import Testing

/// The rotation rule without a server: pure rules are tested without HTTP.
@Suite struct RefreshRotationTests {
    let rotatedAt = Date(timeIntervalSince1970: 1_800_000_000)

    func grant(generation: Int, rotatedAt: Date?) throws -> AuthorizationGrant {
        AuthorizationGrant(
            id: "g", tenant: try TenantName("t"), clientID: try ClientID("c"), userID: "u", scope: .empty, audience: [], nonce: nil,
            authTime: rotatedAt ?? Date(), sessionID: nil, amr: [], codeHash: "h", codeChallenge: nil, redirectURI: nil,
            codeExpiresAt: Date(), createdAt: Date(), offline: true, generation: generation, rotatedAt: rotatedAt)
    }

    @Test func currentGenerationRotates() throws {
        #expect(
            RefreshRotation.decide(presented: 3, grant: try grant(generation: 3, rotatedAt: rotatedAt), now: rotatedAt, window: 10)
                == .rotate(from: 3))
    }

    @Test func replacedTokenWithinGraceIsReissuedAtTheCurrentGeneration() throws {
        let current = try grant(generation: 3, rotatedAt: rotatedAt)
        #expect(
            RefreshRotation.decide(presented: 2, grant: current, now: rotatedAt.addingTimeInterval(10), window: 10)
                == .reissue(atGeneration: 3))
        // A request that read its clock before the rotation it races is inside the grace period.
        #expect(
            RefreshRotation.decide(presented: 2, grant: current, now: rotatedAt.addingTimeInterval(-0.5), window: 10)
                == .reissue(atGeneration: 3))
    }

    @Test func everythingElseIsReuse() throws {
        let current = try grant(generation: 3, rotatedAt: rotatedAt)
        #expect(
            RefreshRotation.decide(presented: 2, grant: current, now: rotatedAt.addingTimeInterval(10.001), window: 10) == .reuseDetected)
        #expect(RefreshRotation.decide(presented: 1, grant: current, now: rotatedAt, window: 10) == .reuseDetected)
        // Grace 0 means none, even for a request whose clock reading predates the rotation.
        #expect(RefreshRotation.decide(presented: 2, grant: current, now: rotatedAt, window: 0) == .reuseDetected)
        #expect(RefreshRotation.decide(presented: 2, grant: current, now: rotatedAt.addingTimeInterval(-0.5), window: 0) == .reuseDetected)
    }

    /// A client that authenticates gets 120 s (a failover outlasts 10 s); a public client 10 s.
    @Test func theRetryWindowDependsOnTheClientType() throws {
        let policy = SignInPolicy()
        #expect(policy.refreshRetryWindow(for: .confidential) == 120 && policy.refreshRetryWindow(for: .public) == 10)
        let current = try grant(generation: 2, rotatedAt: rotatedAt)
        func decide(_ type: ClientType, after seconds: TimeInterval, presented: Int = 1) -> RefreshDecision {
            RefreshRotation.decide(
                presented: presented, grant: current, now: rotatedAt.addingTimeInterval(seconds),
                window: policy.refreshRetryWindow(for: type))
        }
        #expect(decide(.confidential, after: 60) == .reissue(atGeneration: 2))
        #expect(decide(.confidential, after: 120) == .reissue(atGeneration: 2))
        #expect(decide(.confidential, after: 130) == .reuseDetected)
        #expect(decide(.public, after: 5) == .reissue(atGeneration: 2))
        #expect(decide(.public, after: 11) == .reuseDetected)
        // Two generations back is reuse at once, for either.
        #expect(decide(.confidential, after: 1, presented: 0) == .reuseDetected)
    }
}
