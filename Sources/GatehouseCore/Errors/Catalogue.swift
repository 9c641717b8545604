/// The one error catalogue. Every failure a client can see is one of these entries.
///
/// Numbers follow the Microsoft identity platform's AADSTS codes where the meaning is the same
/// (docs/entra.md lists them); codes that Gatehouse adds are in the 99xxxxx range.
/// Texts for each entry live in `Resources/Locales/<lang>.json`.
public enum Catalogue {
    // MARK: Request shape (invalid_request)
    public static let endpointOnlyAcceptsPost = CatalogueEntry(900561, "EndpointOnlyAcceptsPost", .invalidRequest, placeholders: ["method"])
    public static let unsupportedContentType = CatalogueEntry(
        9900103, "UnsupportedContentType", .invalidRequest, placeholders: ["contentType"])
    public static let malformedRequestBody = CatalogueEntry(9900102, "MalformedRequestBody", .invalidRequest)
    public static let requestBodyTooLarge = CatalogueEntry(9900104, "RequestBodyTooLarge", .invalidRequest, placeholders: ["limit"])
    public static let requestBodyUnreadable = CatalogueEntry(9900107, "RequestBodyUnreadable", .invalidRequest)
    public static let duplicateParameter = CatalogueEntry(9900101, "DuplicateParameter", .invalidRequest, placeholders: ["name"])
    public static let missingParameter = CatalogueEntry(900144, "MissingParameter", .invalidRequest, placeholders: ["name"])
    public static let invalidParameterValue = CatalogueEntry(90100, "InvalidRequestParameter", .invalidRequest, placeholders: ["name"])
    public static let multipleClientAuthentication = CatalogueEntry(
        9900105, "MultipleClientAuthentication", .invalidRequest, placeholders: ["methods"])
    public static let clientIdMismatch = CatalogueEntry(9900106, "ClientIdMismatch", .invalidRequest)
    public static let tenantNotFound = CatalogueEntry(90002, "InvalidTenantName", .invalidRequest, placeholders: ["tenant"])
    public static let invalidTenantIdentifier = CatalogueEntry(900023, "InvalidTenantIdentifier", .invalidRequest, placeholders: ["tenant"])

    // MARK: Client authentication (invalid_client, 401)
    public static let clientAuthenticationMissing = CatalogueEntry(9900110, "ClientAuthenticationMissing", .invalidClient, status: 401)
    public static let clientSecretOrAssertionRequired = CatalogueEntry(
        7000218, "ClientSecretOrAssertionRequired", .invalidClient, status: 401)
    public static let credentialRequiredForClientCredentials = CatalogueEntry(
        7000216, "CredentialRequiredForClientCredentials", .invalidClient, status: 401)
    public static let applicationNotFound = CatalogueEntry(
        700016, "UnauthorizedClient_DoesNotMatchRequest", .invalidClient, status: 401,
        placeholders: ["clientId", "tenant"], entraError: .unauthorizedClient, entraStatus: 400)
    /// A client an administrator disabled (`clients disable`, the admin API): nothing is issued to it.
    public static let applicationDisabled = CatalogueEntry(
        7000112, "UnauthorizedClientApplicationDisabled", .unauthorizedClient, placeholders: ["clientId"])
    public static let invalidClientSecret = CatalogueEntry(7000215, "InvalidClientSecret", .invalidClient, status: 401)
    public static let clientSecretExpired = CatalogueEntry(
        7000222, "InvalidClientSecretExpiredKeysProvided", .invalidClient, status: 401, placeholders: ["clientId"])
    /// A confidential client's request from a browser (`Origin` present): its secret must not be in a page.
    public static let crossOriginConfidentialClient = CatalogueEntry(
        9002326, "CrossOriginRequestForConfidentialClient", .invalidRequest, placeholders: ["clientId"])
    public static let publicClientWithCredential = CatalogueEntry(
        700025, "InvalidClientPublicClientWithCredential", .invalidClient, status: 401)
    public static let authMethodNotAllowed = CatalogueEntry(
        9900111, "AuthenticationMethodNotAllowed", .invalidClient, status: 401, placeholders: ["clientId", "method", "allowed"])
    public static let unsupportedAssertionType = CatalogueEntry(
        9900116, "UnsupportedClientAssertionType", .invalidClient, status: 401, placeholders: ["type"])
    public static let malformedClientAssertion = CatalogueEntry(
        50027, "InvalidJwtToken", .invalidClient, status: 401, placeholders: ["reason"])
    public static let assertionSignatureInvalid = CatalogueEntry(700027, "ClientAssertionSignatureInvalid", .invalidClient, status: 401)
    public static let assertionTimeRange = CatalogueEntry(700024, "ClientAssertionNotInValidTimeRange", .invalidClient, status: 401)
    public static let assertionAudienceInvalid = CatalogueEntry(
        9900114, "ClientAssertionAudienceInvalid", .invalidClient, status: 401, placeholders: ["expected"])
    public static let assertionIssuerSubjectMismatch = CatalogueEntry(
        9900115, "ClientAssertionIssuerSubjectMismatch", .invalidClient, status: 401, placeholders: ["clientId"])
    public static let assertionReplayed = CatalogueEntry(9900117, "ClientAssertionReplayed", .invalidClient, status: 401)
    public static let clientHasNoKeys = CatalogueEntry(
        9900118, "ClientHasNoRegisteredKeys", .invalidClient, status: 401, placeholders: ["clientId"])
    public static let assertionMissingClaim = CatalogueEntry(
        9900119, "ClientAssertionMissingClaim", .invalidClient, status: 401, placeholders: ["claim"])

    // MARK: Grants
    public static let unsupportedGrantType = CatalogueEntry(
        70003, "UnsupportedGrantType", .unsupportedGrantType, placeholders: ["grantType"])
    public static let grantNotAllowedForClient = CatalogueEntry(
        9900120, "GrantTypeNotAllowedForClient", .unauthorizedClient, placeholders: ["clientId", "grantType"])

    // MARK: Scopes and resources
    public static let invalidScope = CatalogueEntry(70011, "InvalidScope", .invalidScope, placeholders: ["scope"])
    public static let scopeNotAllowed = CatalogueEntry(
        9900121, "ScopeNotAllowedForClient", .invalidScope, placeholders: ["clientId", "scope"])
    public static let permissionNotDefined = CatalogueEntry(
        65005, "PermissionNotDefinedByAPI", .invalidScope, placeholders: ["scope", "api"])
    public static let noScope = CatalogueEntry(9900122, "NoScopeRequested", .invalidScope, placeholders: ["clientId"])
    public static let resourceNotFound = CatalogueEntry(
        500011, "InvalidResourceServicePrincipalNotFound", .invalidTarget,
        placeholders: ["resource", "tenant"], entraError: .invalidResource)
    public static let defaultScopeRequired = CatalogueEntry(
        1002012, "ClientCredentialsScopeNeedsDefault", .invalidScope, placeholders: ["scope"])
    public static let malformedResource = CatalogueEntry(9900123, "MalformedResourceIndicator", .invalidTarget, placeholders: ["resource"])
    public static let resourceNotInGrant = CatalogueEntry(9900125, "ResourceNotInGrant", .invalidTarget, placeholders: ["resource"])

    // MARK: Authorization endpoint (shown on a page when the redirect URI cannot be trusted)
    public static let redirectURINotRegistered = CatalogueEntry(
        50011, "InvalidReplyTo", .invalidRequest, placeholders: ["uri", "clientId"])
    public static let unsupportedResponseType = CatalogueEntry(
        9900140, "UnsupportedResponseType", .unsupportedResponseType, placeholders: ["responseType"])
    public static let pkceRequired = CatalogueEntry(9900141, "PkceRequiredForPublicClient", .invalidRequest, placeholders: ["clientId"])
    public static let pkceMethodNotSupported = CatalogueEntry(9900142, "PkceMethodNotSupported", .invalidRequest, placeholders: ["method"])
    public static let loginRequired = CatalogueEntry(50058, "UserInformationNotProvided", .loginRequired)
    public static let consentRequired = CatalogueEntry(
        65001, "DelegationDoesNotExist", .consentRequired, placeholders: ["clientId"], suberror: "consent_required")
    public static let consentDeclined = CatalogueEntry(65004, "UserDeclinedConsent", .accessDenied, placeholders: ["clientId"])
    public static let interactionExpired = CatalogueEntry(9900143, "SignInPageExpired", .invalidRequest)
    public static let csrfCheckFailed = CatalogueEntry(9900144, "SignInFormCheckFailed", .invalidRequest)

    // MARK: User sign-in (shown on the sign-in page)
    public static let invalidUserNameOrPassword = CatalogueEntry(50126, "InvalidUserNameOrPassword", .invalidGrant)
    public static let userAccountNotFound = CatalogueEntry(50034, "UserAccountNotFound", .invalidGrant)
    public static let userDisabled = CatalogueEntry(50057, "UserDisabled", .invalidGrant)
    public static let userLocked = CatalogueEntry(50053, "IdsLocked", .invalidGrant)
    public static let invalidVerificationCode = CatalogueEntry(9900145, "InvalidVerificationCode", .invalidGrant)
    public static let tooManyVerificationCodes = CatalogueEntry(9900146, "TooManyVerificationCodes", .invalidGrant)
    public static let strongAuthRequired = CatalogueEntry(
        50076, "UserStrongAuthClientAuthNRequired", .invalidGrant, suberror: "basic_action",
        claims: #"{"access_token":{"amr":{"essential":true,"values":["mfa"]}}}"#)

    // MARK: Device authorization grant (RFC 8628)
    public static let authorizationPending = CatalogueEntry(70016, "AuthorizationPending", .authorizationPending)
    public static let deviceCodeExpired = CatalogueEntry(70020, "DeviceCodeExpired", .expiredToken)
    public static let slowDown = CatalogueEntry(9900180, "SlowDown", .slowDown, placeholders: ["interval"])
    public static let deviceAuthorizationDeclined = CatalogueEntry(9900181, "DeviceAuthorizationDeclined", .accessDenied)
    public static let invalidUserCode = CatalogueEntry(9900182, "InvalidUserCode", .invalidRequest)

    // MARK: Password reset and address verification by mail (pages, never sent to a client)
    public static let passwordResetLinkInvalid = CatalogueEntry(9900183, "PasswordResetLinkInvalid", .invalidRequest)
    public static let passwordResetUnavailable = CatalogueEntry(9900184, "PasswordResetUnavailable", .notFound, status: 404)
    public static let newPasswordRejected = CatalogueEntry(9900185, "NewPasswordRejected", .invalidRequest, placeholders: ["reason"])
    public static let newPasswordsDiffer = CatalogueEntry(9900186, "NewPasswordsDiffer", .invalidRequest)
    public static let emailVerificationLinkInvalid = CatalogueEntry(9900187, "EmailVerificationLinkInvalid", .invalidRequest)
    public static let secondFactorAlreadyEnrolled = CatalogueEntry(9900188, "SecondFactorAlreadyEnrolled", .conflict, status: 409)
    public static let secondFactorNotEnrolled = CatalogueEntry(9900189, "SecondFactorNotEnrolled", .conflict, status: 409)
    public static let registrationClosed = CatalogueEntry(9900191, "SelfRegistrationClosed", .notFound, status: 404)
    public static let emailNotVerified = CatalogueEntry(9900192, "EmailNotVerified", .invalidGrant)
    public static let emailDomainNotAllowed = CatalogueEntry(9900193, "EmailDomainNotAllowed", .invalidRequest, placeholders: ["domain"])
    public static let usernameTaken = CatalogueEntry(9900194, "UsernameTaken", .invalidRequest)
    public static let tooManyRegistrations = CatalogueEntry(
        9900433, "TooManyRegistrations", .temporarilyUnavailable, status: 429, placeholders: ["retryAfter"])

    // MARK: Passkeys (WebAuthn): pages, never sent to a client
    public static let passkeyWrongOrigin = CatalogueEntry(9900206, "PasskeyWrongOrigin", .invalidRequest)
    public static let passkeyChallengeInvalid = CatalogueEntry(9900207, "PasskeyChallengeInvalid", .invalidRequest)
    public static let passkeyNotRecognized = CatalogueEntry(9900208, "PasskeyNotRecognized", .invalidGrant)
    public static let passkeyCounterRegressed = CatalogueEntry(9900209, "PasskeyCounterRegressed", .invalidGrant)
    public static let passkeyUserVerificationRequired = CatalogueEntry(9900210, "PasskeyUserVerificationRequired", .invalidGrant)
    public static let passkeyAttestationRefused = CatalogueEntry(9900211, "PasskeyAttestationRefused", .invalidRequest)
    public static let passkeyResponseInvalid = CatalogueEntry(9900212, "PasskeyResponseInvalid", .invalidRequest)
    public static let passkeyAlreadyRegistered = CatalogueEntry(9900213, "PasskeyAlreadyRegistered", .conflict, status: 409)

    // MARK: Dynamic client registration (RFC 7591)
    public static let invalidRedirectURIMetadata = CatalogueEntry(
        9900214, "InvalidRedirectURIForRegistration", .invalidRedirectURI, placeholders: ["reason"])
    public static let invalidClientMetadata = CatalogueEntry(
        9900215, "InvalidClientMetadata", .invalidClientMetadata, placeholders: ["field", "reason"])
    public static let clientRegistrationNotEnabled = CatalogueEntry(
        9900216, "ClientRegistrationNotEnabled", .notFound, status: 404, placeholders: ["tenant"])
    public static let initialAccessTokenInvalid = CatalogueEntry(
        9900217, "InitialAccessTokenInvalid", .invalidToken, status: 401, placeholders: ["reason"])
    public static let registrationAccessTokenInvalid = CatalogueEntry(
        9900218, "RegistrationAccessTokenInvalid", .invalidToken, status: 401, placeholders: ["reason"])

    // MARK: Outbound fetches (client ID metadata documents, jwks_uri) and client ID metadata documents
    public static let outboundURLRefused = CatalogueEntry(
        9900220, "OutboundFetchUrlRefused", .invalidClient, status: 401, placeholders: ["url", "reason"])
    public static let outboundAddressRefused = CatalogueEntry(
        9900221, "OutboundFetchAddressRefused", .invalidClient, status: 401, placeholders: ["host"])
    public static let outboundRedirectRefused = CatalogueEntry(
        9900222, "OutboundFetchRedirected", .invalidClient, status: 401, placeholders: ["url", "status"])
    public static let outboundTooLarge = CatalogueEntry(
        9900223, "OutboundFetchTooLarge", .invalidClient, status: 401, placeholders: ["url", "limit"])
    public static let outboundTimedOut = CatalogueEntry(
        9900224, "OutboundFetchTimedOut", .invalidClient, status: 401, placeholders: ["url", "seconds"])
    public static let outboundFailed = CatalogueEntry(
        9900225, "OutboundFetchFailed", .invalidClient, status: 401, placeholders: ["url", "reason"])
    public static let clientMetadataDocumentInvalid = CatalogueEntry(
        9900226, "ClientMetadataDocumentInvalid", .invalidClient, status: 401, placeholders: ["url", "reason"])
    public static let clientMetadataDocumentsNotEnabled = CatalogueEntry(
        9900227, "ClientMetadataDocumentsNotEnabled", .invalidClient, status: 401, placeholders: ["tenant"])

    // MARK: Signed request objects (RFC 9101) and pushed authorization requests (RFC 9126)
    public static let invalidRequestObject = CatalogueEntry(
        9900228, "InvalidRequestObject", .invalidRequestObject, placeholders: ["reason"])
    public static let requestObjectAlgorithmRefused = CatalogueEntry(
        9900229, "RequestObjectAlgorithmRefused", .invalidRequestObject, placeholders: ["alg", "supported"])
    public static let requestObjectNoKeys = CatalogueEntry(
        9900230, "RequestObjectClientHasNoKeys", .invalidRequestObject, placeholders: ["clientId"])
    public static let requestObjectSignatureInvalid = CatalogueEntry(
        9900231, "RequestObjectSignatureInvalid", .invalidRequestObject, placeholders: ["clientId"])
    public static let requestObjectAudienceInvalid = CatalogueEntry(
        9900232, "RequestObjectAudienceInvalid", .invalidRequestObject, placeholders: ["audience", "issuer"])
    public static let requestObjectExpired = CatalogueEntry(9900233, "RequestObjectExpired", .invalidRequestObject)
    public static let requestObjectParameterMismatch = CatalogueEntry(
        9900234, "RequestObjectParameterMismatch", .invalidRequestObject, placeholders: ["name"])
    public static let requestURINotSupported = CatalogueEntry(
        9900235, "RequestUriNotSupported", .requestURINotSupported, placeholders: ["uri"])
    public static let pushedRequestNotFound = CatalogueEntry(9900236, "PushedRequestNotFound", .invalidRequestURI)
    public static let pushedRequestOtherClient = CatalogueEntry(
        9900237, "PushedRequestOfAnotherClient", .invalidRequestURI, placeholders: ["clientId"])
    public static let pushedRequestRequired = CatalogueEntry(9900238, "PushedRequestRequired", .invalidRequest, placeholders: ["clientId"])
    public static let signedRequestObjectRequired = CatalogueEntry(
        9900239, "SignedRequestObjectRequired", .invalidRequest, placeholders: ["clientId"])
    public static let requestURIPushed = CatalogueEntry(9900240, "RequestUriInPushedRequest", .invalidRequest)

    // MARK: DPoP (RFC 9449): proofs at the token endpoint and at userinfo, bound codes and tokens
    public static let dpopProofMalformed = CatalogueEntry(9900243, "DPoPProofMalformed", .invalidDPoPProof, placeholders: ["reason"])
    public static let dpopProofType = CatalogueEntry(9900244, "DPoPProofWrongType", .invalidDPoPProof, placeholders: ["typ"])
    public static let dpopProofAlgorithm = CatalogueEntry(
        9900245, "DPoPProofAlgorithmNotAccepted", .invalidDPoPProof, placeholders: ["alg", "supported"])
    public static let dpopProofKey = CatalogueEntry(9900246, "DPoPProofKeyUnusable", .invalidDPoPProof, placeholders: ["reason"])
    public static let dpopProofSignature = CatalogueEntry(9900247, "DPoPProofSignatureInvalid", .invalidDPoPProof)
    public static let dpopProofMethod = CatalogueEntry(
        9900248, "DPoPProofMethodMismatch", .invalidDPoPProof, placeholders: ["htm", "method"])
    public static let dpopProofURL = CatalogueEntry(9900249, "DPoPProofURLMismatch", .invalidDPoPProof, placeholders: ["htu", "url"])
    public static let dpopProofTime = CatalogueEntry(9900250, "DPoPProofOutsideTimeWindow", .invalidDPoPProof, placeholders: ["window"])
    public static let dpopProofReplayed = CatalogueEntry(9900251, "DPoPProofReplayed", .invalidDPoPProof)
    public static let dpopProofMissingClaim = CatalogueEntry(9900252, "DPoPProofMissingClaim", .invalidDPoPProof, placeholders: ["claim"])
    public static let useDPoPNonce = CatalogueEntry(9900253, "DPoPNonceRequired", .useDPoPNonce, placeholders: ["reason"])
    public static let dpopProofRequired = CatalogueEntry(9900254, "DPoPProofRequired", .invalidDPoPProof, placeholders: ["clientId"])
    public static let dpopAccessTokenHash = CatalogueEntry(9900255, "DPoPProofAccessTokenHashMismatch", .invalidDPoPProof)
    public static let refreshTokenBoundToKey = CatalogueEntry(
        9900256, "RefreshTokenBoundToAnotherKey", .invalidGrant, placeholders: ["reason"])
    public static let codeBoundToKey = CatalogueEntry(
        9900257, "AuthorizationCodeBoundToAnotherKey", .invalidGrant, placeholders: ["reason"])
    public static let dpopTokenAsBearer = CatalogueEntry(9900258, "DPoPBoundTokenPresentedAsBearer", .invalidToken, status: 401)
    public static let bearerTokenAsDPoP = CatalogueEntry(9900259, "BearerTokenPresentedWithDPoP", .invalidToken, status: 401)
    public static let dpopProofKeyMismatch = CatalogueEntry(9900260, "DPoPProofKeyDoesNotMatchToken", .invalidDPoPProof)
    public static let dpopJKTMismatch = CatalogueEntry(9900261, "DPoPProofKeyDoesNotMatchDPoPJKT", .invalidDPoPProof)

    // MARK: Back-channel logout deliveries: the sign-in log's, never sent to a client
    public static let backchannelLogoutFailed = CatalogueEntry(
        9900241, "BackchannelLogoutDeliveryFailed", .serverError, status: 500, placeholders: ["clientId", "reason"])
    public static let backchannelLogoutAbandoned = CatalogueEntry(
        9900242, "BackchannelLogoutGivenUp", .serverError, status: 500, placeholders: ["clientId", "reason"])

    // MARK: On-behalf-of (JWT bearer with requested_token_use=on_behalf_of)
    public static let invalidAssertion = CatalogueEntry(50013, "InvalidAssertion", .invalidGrant, placeholders: ["reason"])
    public static let assertionAudienceMismatch = CatalogueEntry(
        500131, "AssertionAudienceDoesNotMatchClient", .invalidGrant, placeholders: ["clientId"])

    // MARK: Tenant and instance discovery
    public static let missingTenantRealm = CatalogueEntry(50059, "MissingTenantRealmAndNoUserInformationProvided", .invalidRequest)
    public static let unknownInstance = CatalogueEntry(50049, "UnknownOrInvalidInstance", .invalidInstance)

    // MARK: Codes and refresh tokens (invalid_grant)
    public static let invalidGrant = CatalogueEntry(70000, "InvalidGrant", .invalidGrant, placeholders: ["name"])
    public static let codeAlreadyRedeemed = CatalogueEntry(54005, "AuthorizationCodeAlreadyRedeemed", .invalidGrant)
    public static let codeExpired = CatalogueEntry(70008, "ExpiredOrRevokedGrant", .invalidGrant)
    public static let pkceMismatch = CatalogueEntry(50148, "CodeVerifierMismatch", .invalidGrant)
    public static let codeVerifierMissing = CatalogueEntry(9900150, "CodeVerifierMissing", .invalidGrant)
    public static let codeVerifierUnexpected = CatalogueEntry(9900151, "CodeVerifierWithoutChallenge", .invalidGrant)
    public static let grantIssuedToAnotherClient = CatalogueEntry(
        9900152, "GrantIssuedToAnotherClient", .invalidGrant, placeholders: ["name"])
    public static let redirectURIMismatchAtRedemption = CatalogueEntry(9900153, "RedirectUriMismatchAtRedemption", .invalidGrant)
    public static let refreshTokenExpired = CatalogueEntry(
        700082, "ExpiredOrRevokedGrantInactiveToken", .invalidGrant, suberror: "bad_token")
    public static let grantRevoked = CatalogueEntry(50173, "FreshTokenNeeded", .invalidGrant)
    public static let refreshTokenReused = CatalogueEntry(9900154, "RefreshTokenReused", .invalidGrant)
    public static let scopeExceedsGrant = CatalogueEntry(9900124, "ScopeExceedsGrant", .invalidScope, placeholders: ["scope"])

    // MARK: Bearer tokens, introspection, revocation, logout
    public static let bearerTokenMissing = CatalogueEntry(9900160, "BearerTokenMissing", .invalidRequest, status: 401)
    public static let invalidAccessToken = CatalogueEntry(
        9900161, "InvalidAccessToken", .invalidToken, status: 401, placeholders: ["reason"])
    public static let insufficientScope = CatalogueEntry(
        9900162, "InsufficientScope", .insufficientScope, status: 403, placeholders: ["scope"])
    public static let tokenOfAnotherClient = CatalogueEntry(9900163, "TokenIssuedToAnotherClient", .invalidRequest)
    public static let introspectionNeedsConfidentialClient = CatalogueEntry(
        9900164, "IntrospectionNeedsConfidentialClient", .invalidClient, status: 401, placeholders: ["clientId"])
    public static let invalidIDTokenHint = CatalogueEntry(9900170, "InvalidIdTokenHint", .invalidRequest)
    public static let postLogoutRedirectURINotRegistered = CatalogueEntry(
        9900171, "PostLogoutRedirectUriNotRegistered", .invalidRequest, placeholders: ["uri"])

    // MARK: Server and pages
    public static let tokenIssuanceError = CatalogueEntry(50000, "TokenIssuanceError", .serverError, status: 500, entraStatus: 400)
    /// The database did not answer in time: 503 with `Retry-After`; the request may be repeated.
    public static let storeUnavailable = CatalogueEntry(9900190, "StoreUnavailable", .temporarilyUnavailable, status: 503)
    /// Throttling (429 with `Retry-After`): failures counted per source address and client, per
    /// source address and username, per source address entering user codes (`FailureThrottle`).
    public static let tooManyClientFailures = CatalogueEntry(
        9900429, "TooManyFailedClientRequests", .temporarilyUnavailable, status: 429, placeholders: ["retryAfter"])
    public static let tooManySignInFailures = CatalogueEntry(
        9900430, "TooManyFailedSignIns", .temporarilyUnavailable, status: 429, placeholders: ["retryAfter"])
    public static let tooManyUserCodeFailures = CatalogueEntry(
        9900431, "TooManyFailedUserCodes", .temporarilyUnavailable, status: 429, placeholders: ["retryAfter"])
    public static let tooManyPasswordResetRequests = CatalogueEntry(
        9900432, "TooManyPasswordResetRequests", .temporarilyUnavailable, status: 429, placeholders: ["retryAfter"])
    public static let unknownErrorCode = CatalogueEntry(9900130, "UnknownErrorCode", .notFound, status: 404, placeholders: ["code"])
    public static let endpointNotFound = CatalogueEntry(
        9900131, "EndpointNotFound", .notFound, status: 404, placeholders: ["method", "path"])

    // MARK: Admin API
    public static let adminFieldInvalid = CatalogueEntry(
        9900200, "AdminRequestFieldInvalid", .invalidRequest, placeholders: ["field", "rule", "reason"])
    public static let adminObjectNotFound = CatalogueEntry(9900201, "AdminObjectNotFound", .notFound, status: 404, placeholders: ["reason"])
    public static let adminConflict = CatalogueEntry(9900202, "AdminConflict", .conflict, status: 409, placeholders: ["reason"])
    public static let adminRoleRequired = CatalogueEntry(
        9900203, "AdminRoleRequired", .insufficientScope, status: 403, placeholders: ["role", "tenant"])
    public static let adminTenantOutOfReach = CatalogueEntry(
        9900204, "AdminTenantOutOfReach", .accessDenied, status: 403, placeholders: ["tenant"])
    public static let adminTokenAudience = CatalogueEntry(
        9900205, "AdminTokenNotForAdminAPI", .invalidToken, status: 401, placeholders: ["audience"])

    /// Every entry, in number order.
    public static let all: [CatalogueEntry] = [
        endpointOnlyAcceptsPost, unsupportedContentType, malformedRequestBody, requestBodyTooLarge, requestBodyUnreadable,
        duplicateParameter, missingParameter, invalidParameterValue, multipleClientAuthentication,
        clientIdMismatch, tenantNotFound, invalidTenantIdentifier,
        clientAuthenticationMissing, clientSecretOrAssertionRequired, credentialRequiredForClientCredentials,
        applicationNotFound, applicationDisabled, invalidClientSecret, clientSecretExpired, publicClientWithCredential,
        crossOriginConfidentialClient,
        authMethodNotAllowed, unsupportedAssertionType, malformedClientAssertion, assertionSignatureInvalid,
        assertionTimeRange, assertionAudienceInvalid, assertionIssuerSubjectMismatch, assertionReplayed,
        clientHasNoKeys, assertionMissingClaim,
        unsupportedGrantType, grantNotAllowedForClient,
        invalidScope, scopeNotAllowed, permissionNotDefined, noScope, resourceNotFound, malformedResource, resourceNotInGrant,
        redirectURINotRegistered, unsupportedResponseType, pkceRequired, pkceMethodNotSupported, loginRequired,
        consentRequired, consentDeclined, interactionExpired, csrfCheckFailed,
        invalidUserNameOrPassword, userAccountNotFound, userDisabled, userLocked, invalidVerificationCode, tooManyVerificationCodes,
        strongAuthRequired,
        defaultScopeRequired, authorizationPending, deviceCodeExpired, slowDown, deviceAuthorizationDeclined, invalidUserCode,
        passwordResetLinkInvalid, passwordResetUnavailable, newPasswordRejected, newPasswordsDiffer, emailVerificationLinkInvalid,
        secondFactorAlreadyEnrolled, secondFactorNotEnrolled, registrationClosed, emailNotVerified, emailDomainNotAllowed, usernameTaken,
        tooManyRegistrations,
        passkeyWrongOrigin, passkeyChallengeInvalid, passkeyNotRecognized, passkeyCounterRegressed, passkeyUserVerificationRequired,
        passkeyAttestationRefused, passkeyResponseInvalid, passkeyAlreadyRegistered, invalidRedirectURIMetadata, invalidClientMetadata,
        clientRegistrationNotEnabled, initialAccessTokenInvalid, registrationAccessTokenInvalid, outboundURLRefused,
        outboundAddressRefused, outboundRedirectRefused, outboundTooLarge, outboundTimedOut, outboundFailed, clientMetadataDocumentInvalid,
        clientMetadataDocumentsNotEnabled,
        invalidRequestObject, requestObjectAlgorithmRefused, requestObjectNoKeys, requestObjectSignatureInvalid,
        requestObjectAudienceInvalid, requestObjectExpired, requestObjectParameterMismatch, requestURINotSupported,
        pushedRequestNotFound, pushedRequestOtherClient, pushedRequestRequired, signedRequestObjectRequired, requestURIPushed,
        backchannelLogoutFailed, backchannelLogoutAbandoned,
        invalidAssertion, assertionAudienceMismatch, missingTenantRealm, unknownInstance,
        invalidGrant, codeAlreadyRedeemed, codeExpired, pkceMismatch, codeVerifierMissing, codeVerifierUnexpected,
        grantIssuedToAnotherClient, redirectURIMismatchAtRedemption, refreshTokenExpired, grantRevoked, refreshTokenReused,
        scopeExceedsGrant,
        bearerTokenMissing, invalidAccessToken, insufficientScope, tokenOfAnotherClient, introspectionNeedsConfidentialClient,
        invalidIDTokenHint,
        postLogoutRedirectURINotRegistered,
        tokenIssuanceError, storeUnavailable, unknownErrorCode, endpointNotFound,
        tooManyClientFailures, tooManySignInFailures, tooManyUserCodeFailures, tooManyPasswordResetRequests,
        adminFieldInvalid, adminObjectNotFound, adminConflict, adminRoleRequired, adminTenantOutOfReach, adminTokenAudience,
        dpopProofMalformed, dpopProofType, dpopProofAlgorithm, dpopProofKey, dpopProofSignature, dpopProofMethod, dpopProofURL,
        dpopProofTime, dpopProofReplayed, dpopProofMissingClaim, useDPoPNonce, dpopProofRequired, dpopAccessTokenHash,
        refreshTokenBoundToKey, codeBoundToKey, dpopTokenAsBearer, bearerTokenAsDPoP, dpopProofKeyMismatch, dpopJKTMismatch,
    ].sorted { $0.number < $1.number }

    private static let byNumber: [Int: CatalogueEntry] = Dictionary(uniqueKeysWithValues: all.map { ($0.number, $0) })

    /// The entry with this number, if any.
    public static func entry(_ number: Int) -> CatalogueEntry? { byNumber[number] }
}
