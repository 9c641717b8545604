/// A failure a client can see: a catalogue entry, the values for its message placeholders, and an
/// optional private detail that goes to the log only, never to the client.
public struct CatalogueError: Error, Sendable, CustomStringConvertible {
    public let entry: CatalogueEntry
    public let parameters: [String: String]
    /// Private, for the log only.
    public let detail: String?
    /// Replaces the entry's `error` value where one endpoint uses a different one for the same
    /// meaning (90002 is `invalid_tenant` at discovery, `invalid_request` at the token endpoint).
    public let errorOverride: OAuthErrorValue?
    /// The request fields at fault (the admin API's `field_errors`); empty elsewhere.
    public var fieldErrors: [FieldError] = []

    /// One field that breaks a rule: its name in the request, the rule, and what is wrong.
    public struct FieldError: Sendable, Hashable {
        public let field: String
        public let rule: String
        public let message: String

        public init(field: String, rule: String, message: String) {
            self.field = field
            self.rule = rule
            self.message = message
        }
    }

    public init(_ entry: CatalogueEntry, _ parameters: [String: String] = [:], detail: String? = nil, errorOverride: OAuthErrorValue? = nil)
    {
        self.entry = entry
        // Parameters and detail often hold what a request sent: cut to bounded lengths (`RecordedValue`).
        self.parameters = parameters.mapValues { RecordedValue.cut($0, to: RecordedValue.parameter) }
        self.detail = RecordedValue.cut(detail, to: RecordedValue.detail)
        self.errorOverride = errorOverride
    }

    public var error: OAuthErrorValue { errorOverride ?? entry.error }

    public var description: String {
        "CatalogueError(\(entry.number) \(entry.name)\(detail.map { ": \($0)" } ?? ""))"
    }
}
