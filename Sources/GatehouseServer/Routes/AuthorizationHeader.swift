import Foundation
import Hummingbird

/// The `Authorization` header (RFC 9110 §11.6.2): a scheme, matched without regard to case, and
/// its credentials. The one reader for every route that takes a token in it: `Bearer` today
/// (userinfo, the registration endpoint, the admin API, health and metrics).
struct AuthorizationHeader: Sendable, Equatable {
    /// The scheme in lowercase (`bearer`).
    let scheme: String
    /// What follows the scheme, without surrounding blanks.
    let credentials: String

    init?(_ value: String?) {
        guard let value else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2 else { return nil }
        scheme = parts[0].lowercased()
        credentials = parts[1].trimmingCharacters(in: .whitespaces)
    }

    /// The token of `Authorization: Bearer …`; nil without the header or with another scheme.
    static func bearer(_ request: Request) -> String? {
        guard let header = AuthorizationHeader(request.headers[.authorization]), header.scheme == "bearer" else { return nil }
        return header.credentials
    }
}
