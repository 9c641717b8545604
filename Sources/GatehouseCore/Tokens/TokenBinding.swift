import Foundation

/// What a token is bound to: the key a client proved possession of with the token request. The
/// token endpoint resolves it once per request (`TokenRequest.binding`) and every grant hands it
/// on: the access token carries it as its `cnf` claim (RFC 7800 §3.1) and its `token_type`
/// changes, and a public client's refresh tokens are bound to it.
public enum TokenBinding: Sendable, Hashable {
    /// RFC 9449: the SHA-256 JWK thumbprint (RFC 7638, base64url) of the DPoP proof's key.
    case dpop(jkt: String)

    /// The token response's `token_type` (RFC 9449 §5).
    public var tokenType: String {
        switch self {
        case .dpop: "DPoP"
        }
    }

    /// The members of the `cnf` claim.
    public func writeMembers<W: JSONMemberWriter>(to out: inout W) {
        switch self {
        case .dpop(let jkt): out.write("jkt", jkt)
        }
    }

    /// The members of the `cnf` claim, for a JSON document built as a dictionary (introspection).
    public var confirmationMembers: [String: String] {
        switch self {
        case .dpop(let jkt): ["jkt": jkt]
        }
    }

    /// The `cnf` claim of a decoded token; nil if it names no binding this server issues.
    init?(confirmation: [String: String]) {
        guard let jkt = confirmation["jkt"], !jkt.isEmpty else { return nil }
        self = .dpop(jkt: jkt)
    }

    /// The form a store keeps (`dpop:<thumbprint>`), and back.
    public var stored: String {
        switch self {
        case .dpop(let jkt): "dpop:\(jkt)"
        }
    }

    public init?(stored: String?) {
        guard let stored, stored.hasPrefix("dpop:") else { return nil }
        let jkt = String(stored.dropFirst("dpop:".count))
        guard !jkt.isEmpty else { return nil }
        self = .dpop(jkt: jkt)
    }

    /// Whether `other` is the same key, compared in constant time.
    public func matches(_ other: TokenBinding?) -> Bool {
        guard let other else { return false }
        return constantTimeEquals(Array(stored.utf8), Array(other.stored.utf8))
    }
}
