import Foundation

/// The refresh token rotation rule (RFC 9700 §4.14.2), decided without I/O so tests can check it.
///
/// A grant is at generation G and has exactly one live refresh token. A presented token of
/// generation g is:
/// - g == G: the current token; it is rotated (G becomes G+1, its successor is the new live token);
/// - g == G-1, `window` > 0 and the last rotation was at most `window` ago: a retry after a lost
///   response; the *same* successor is answered again (it is derived from the presented token, so
///   nothing new is stored) with a fresh access token, and the grant does not advance. The window
///   is `SignInPolicy.refreshRetryWindow(for:)`: 120 s for a client that authenticates, so that a
///   rotation whose answer was lost in a database failover is not taken for reuse, 10 s for a
///   public client (120 s too when its grant is bound to its DPoP key: the key decides);
/// - anything else: reuse of a replaced token; the whole grant is revoked.
public enum RefreshDecision: Sendable, Equatable {
    case rotate(from: Int)
    case reissue(atGeneration: Int)
    case reuseDetected
}

public enum RefreshRotation {
    public static func decide(presented: Int, grant: AuthorizationGrant, now: Date, window: TimeInterval) -> RefreshDecision {
        if presented == grant.generation { return .rotate(from: presented) }
        // `now` is read when the request arrived, so a request racing the rotation can see a
        // rotation time after its own `now`; that is inside any positive window, and 0 means none.
        if presented == grant.generation - 1, window > 0, let rotatedAt = grant.rotatedAt, now.timeIntervalSince(rotatedAt) <= window {
            return .reissue(atGeneration: grant.generation)
        }
        return .reuseDetected
    }
}
