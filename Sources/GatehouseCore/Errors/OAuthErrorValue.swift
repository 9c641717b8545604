/// The `error` values a client can see (RFC 6749 §5.2, RFC 8707 §2, OpenID Connect Core §3.1.2.6,
/// and the few that the Microsoft identity platform adds).
public enum OAuthErrorValue: String, Sendable, Codable, CaseIterable {
    case invalidRequest = "invalid_request"
    case invalidClient = "invalid_client"
    case invalidGrant = "invalid_grant"
    case unauthorizedClient = "unauthorized_client"
    case unsupportedGrantType = "unsupported_grant_type"
    case invalidScope = "invalid_scope"
    case invalidTarget = "invalid_target"
    case invalidResource = "invalid_resource"
    case invalidTenant = "invalid_tenant"
    case serverError = "server_error"
    // Authorization endpoint (RFC 6749 §4.1.2.1, OpenID Connect Core §3.1.2.6).
    case unsupportedResponseType = "unsupported_response_type"
    case accessDenied = "access_denied"
    case loginRequired = "login_required"
    case consentRequired = "consent_required"
    case interactionRequired = "interaction_required"
    // Protected resources (RFC 6750 §3.1).
    case invalidToken = "invalid_token"
    case insufficientScope = "insufficient_scope"
    case notFound = "not_found"
    /// The admin API's answer to a change that collides with what exists (HTTP 409).
    case conflict = "conflict"
    case authorizationPending = "authorization_pending"
    case slowDown = "slow_down"
    case expiredToken = "expired_token"
    case invalidInstance = "invalid_instance"
    /// RFC 6749 §4.1.2.1: the server cannot handle the request now (here: its database is away).
    case temporarilyUnavailable = "temporarily_unavailable"
    // Dynamic client registration (RFC 7591 §3.2.2).
    case invalidRedirectURI = "invalid_redirect_uri"
    case invalidClientMetadata = "invalid_client_metadata"
    // Signed and pushed authorization requests (OpenID Connect Core §6.4, RFC 9101, RFC 9126).
    case invalidRequestObject = "invalid_request_object"
    case invalidRequestURI = "invalid_request_uri"
    case requestURINotSupported = "request_uri_not_supported"
    // DPoP (RFC 9449 §5, §7.1, §8).
    case invalidDPoPProof = "invalid_dpop_proof"
    case useDPoPNonce = "use_dpop_nonce"
}
