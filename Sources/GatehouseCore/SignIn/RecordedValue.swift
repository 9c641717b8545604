/// How long a value that came from a request may be wherever Gatehouse keeps or writes it: the
/// sign-in log (database rows), log lines, error descriptions and metric labels. A request can
/// carry tens of kilobytes in a client ID, a path segment or a header; what is recorded of it is
/// cut to these lengths (in UTF-8 bytes, at a character boundary, ending in `…` when cut), so that
/// an anonymous flood cannot grow the database or the log by more than a bounded amount per
/// request. docs/security.md lists the lengths.
public enum RecordedValue {
    /// A tenant segment that resolved to no tenant (a tenant's own name is at most 63).
    public static let tenant = 64
    /// A client ID: 255 is the most a valid one has (`ClientID`).
    public static let clientID = 255
    /// A grant type or step.
    public static let step = 64
    public static let username = 128
    public static let redirectURI = 512
    public static let scope = 512
    public static let userAgent = 256
    /// The operator's detail of a failure, and a log line's detail.
    public static let detail = 512
    /// A value in an error description (a parameter of a catalogue entry).
    public static let parameter = 256
    public static let address = 64

    /// The tenant of a sign-in event whose request named no tenant that exists: one bounded key,
    /// which no tenant name can equal (tenant names have no parentheses).
    public static let unknownTenant = "(unknown)"
    /// The client of an aggregate of failures that named no client that exists.
    public static let unknownClient = "(unknown)"

    /// `value` cut to `limit` UTF-8 bytes at a character boundary, with `…` appended when cut.
    public static func cut(_ value: String, to limit: Int) -> String {
        if value.utf8.count <= limit { return value }
        var kept = ""
        var bytes = 0
        for character in value {
            let size = character.utf8.count
            if bytes + size > limit { break }
            kept.append(character)
            bytes += size
        }
        return kept + "…"
    }

    /// `cut(_:to:)` for an optional value.
    public static func cut(_ value: String?, to limit: Int) -> String? {
        value.map { cut($0, to: limit) }
    }
}
