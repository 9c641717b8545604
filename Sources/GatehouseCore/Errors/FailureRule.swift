/// Which of the server's rules refused a request, for the console's record of a failure: a
/// throttle, a lockout, consent, the second factor, or the check of one part of the request.
public enum FailureRule: String, Sendable, CaseIterable {
    case throttle, lockout, consent, secondFactor, credentials, clientAuthentication, grant, scope, redirect, request, token, server

    public init(_ entry: CatalogueEntry) {
        switch entry {
        case Catalogue.tooManyClientFailures, Catalogue.tooManySignInFailures, Catalogue.tooManyUserCodeFailures,
            Catalogue.tooManyVerificationCodes:
            self = .throttle
        case Catalogue.userLocked, Catalogue.userDisabled: self = .lockout
        case Catalogue.consentRequired, Catalogue.consentDeclined: self = .consent
        case Catalogue.invalidVerificationCode, Catalogue.strongAuthRequired: self = .secondFactor
        case Catalogue.invalidUserNameOrPassword, Catalogue.userAccountNotFound, Catalogue.loginRequired: self = .credentials
        case Catalogue.tokenIssuanceError, Catalogue.storeUnavailable: self = .server
        case Catalogue.redirectURINotRegistered, Catalogue.postLogoutRedirectURINotRegistered: self = .redirect
        case Catalogue.bearerTokenMissing, Catalogue.invalidAccessToken, Catalogue.insufficientScope: self = .token
        default:
            switch entry.error {
            case .invalidClient, .unauthorizedClient: self = .clientAuthentication
            case .invalidGrant: self = .grant
            case .invalidScope: self = .scope
            default: self = .request
            }
        }
    }
}
