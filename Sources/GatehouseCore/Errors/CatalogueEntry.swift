/// One entry of the error catalogue: the stable number a client sees in `error_codes`, the RFC
/// `error` value and HTTP status it travels with, and the names of the placeholders its message uses.
/// Texts (message, cause, remediation) live in the locale files, one per language.
public struct CatalogueEntry: Sendable, Hashable {
    /// Stable number, equal to the Microsoft identity platform's AADSTS number where the meaning is
    /// the same; Gatehouse's own codes use the 99xxxxx range.
    public let number: Int
    /// Short PascalCase name, stable, used in logs and docs.
    public let name: String
    /// The RFC 6749 §5.2 (or extension) `error` value.
    public let error: OAuthErrorValue
    /// HTTP status of the JSON response.
    public let status: Int
    /// The `error` value and status that Entra ID answers with, where it differs from the RFC.
    public let entraError: OAuthErrorValue?
    public let entraStatus: Int?
    /// Placeholders that the message template contains, e.g. `["scope"]`.
    public let placeholders: [String]
    /// The `suberror` an Entra client acts on (`bad_token`, `consent_required`), if any.
    public let suberror: String?
    /// An OpenID Connect claims request (JSON) telling the client what a new interactive
    /// request must satisfy; Entra sends it as the `claims` string (e.g. with 50076).
    public let claims: String?

    public init(
        _ number: Int, _ name: String, _ error: OAuthErrorValue, status: Int = 400,
        placeholders: [String] = [], entraError: OAuthErrorValue? = nil, entraStatus: Int? = nil, suberror: String? = nil,
        claims: String? = nil
    ) {
        self.suberror = suberror
        self.claims = claims
        self.number = number
        self.name = name
        self.error = error
        self.status = status
        self.placeholders = placeholders
        self.entraError = entraError
        self.entraStatus = entraStatus
    }
}
