import Foundation

/// What an operator can pick out of an error a user pasted: the catalogue codes, the trace ID and
/// the correlation ID. It reads the shapes users paste: a JSON error body (native or Entra), the
/// Python `repr` of MSAL's result dictionary, an azure-identity `ClientAuthenticationError` text,
/// an `AADSTS…` line with its `Trace ID:` and `Correlation ID:` lines, an `error_uri`, or any mix.
/// Nothing is trusted: a code is a number, an ID a GUID; what looks like neither is left out.
public struct PastedError: Sendable, Equatable {
    /// Catalogue numbers in the order they appear, each once.
    public var codes: [Int] = []
    public var traceID: String?
    public var correlationID: String?

    public init(codes: [Int] = [], traceID: String? = nil, correlationID: String? = nil) {
        self.codes = codes
        self.traceID = traceID
        self.correlationID = correlationID
    }

    /// Whether anything was found.
    public var isEmpty: Bool { codes.isEmpty && traceID == nil && correlationID == nil }

    /// At most this much of a paste is read (an error body is well under it).
    public static let maximumLength = 64 * 1024

    // Every repetition is bounded (no run of spaces or characters makes a match backtrack over the
    // whole paste). Regexes are not Sendable: each is made where it is used (a paste is parsed once).
    /// `trace_id": "…"`, `'trace_id': '…'`, `Trace ID: …`, `trace-id=…`, `X-Trace-Id: …`.
    static var tracePattern: Regex<(Substring, Substring)> {
        #/(?i)trace[ _-]?id["']?\s{0,20}[:=]\s{0,20}["']?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/#
    }
    /// `correlation_id`, `Correlation ID: …`, or the `client-request-id` it echoes.
    static var correlationPattern: Regex<(Substring, Substring)> {
        #/(?i)(?:correlation[ _-]?id|client-request-id)["']?\s{0,20}[:=]\s{0,20}["']?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/#
    }
    /// `AADSTS50126`, `"error_codes": [50126]`, `'error_codes': [50126, …]`, `error?code=50126`.
    static var aadstsPattern: Regex<(Substring, Substring)> { #/AADSTS(\d{4,8})/# }
    static var codesPattern: Regex<(Substring, Substring)> { #/error_codes["']?\s{0,20}[:=]\s{0,20}\[([\d,\s]{1,200})\]/# }
    static var uriPattern: Regex<(Substring, Substring)> { #/\/error\?(?:[^\s"'&]{0,200}&){0,8}code=(\d{4,8})/# }

    /// Picks the codes and IDs out of `text`.
    public static func parse(_ text: String) -> PastedError {
        let text = String(text.prefix(maximumLength))
        var found = PastedError()
        func add(_ raw: Substring) {
            guard let number = Int(raw.trimmingCharacters(in: .whitespacesAndNewlines)), (1...99_999_999).contains(number),
                !found.codes.contains(number)
            else { return }
            found.codes.append(number)
        }
        // In order of appearance, whichever shape each came in.
        var matches: [(Range<String.Index>, [Substring])] = []
        for match in text.matches(of: aadstsPattern) { matches.append((match.range, [match.output.1])) }
        for match in text.matches(of: codesPattern) { matches.append((match.range, match.output.1.split(separator: ","))) }
        for match in text.matches(of: uriPattern) { matches.append((match.range, [match.output.1])) }
        for (_, codes) in matches.sorted(by: { $0.0.lowerBound < $1.0.lowerBound }) { codes.forEach(add) }
        found.traceID = text.firstMatch(of: tracePattern).map { $0.output.1.lowercased() }
        found.correlationID = text.firstMatch(of: correlationPattern).map { $0.output.1.lowercased() }
        return found
    }
}
