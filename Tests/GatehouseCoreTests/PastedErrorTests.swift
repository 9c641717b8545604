import GatehouseCore
import Testing

/// What an operator gets from an error a user pasted, in the shapes users paste.
@Suite struct PastedErrorTests {
    static let trace = "01a24e6c-2b7c-7755-aab5-2aa3c27589ff"
    static let correlation = "1be526fd-c9dc-4a69-961b-edba48bf247c"

    /// Pretty-printed JSON, as a browser's developer tools or `json.dumps(indent=2)` show it.
    @Test func anIndentedJSONBody() {
        let body = """
            {
              "error": "invalid_client",
              "error_codes": [
                7000215,
                50126
              ],
              "trace_id": "\(Self.trace)"
            }
            """
        let found = PastedError.parse(body)
        #expect(found.codes == [7000215, 50126] && found.traceID == Self.trace)
    }

    /// Pastes built to make a pattern backtrack over the whole text are read in bounded steps
    /// (each repetition in the patterns has a bound); this finishes, and finds what is real.
    @Test func pathologicalPastesAreReadInBoundedSteps() {
        let spaces = "error_codes:[" + String(repeating: " ", count: 60_000)
        let uris = String(repeating: "/error?a", count: 8_000)
        let ids = String(repeating: "trace_id:" + String(repeating: " ", count: 100), count: 500)
        #expect(PastedError.parse(spaces).isEmpty && PastedError.parse(uris).isEmpty && PastedError.parse(ids).isEmpty)
        #expect(PastedError.parse(uris + " AADSTS50126").codes == [50126])
    }

    @Test func aJSONErrorBody() {
        let body = """
            {"error":"invalid_client","error_description":"The client secret is not valid.","error_codes":[7000215],\
            "timestamp":"2026-12-07 02:54:01Z","trace_id":"\(Self.trace)","correlation_id":"\(Self.correlation)",\
            "error_uri":"http://127.0.0.1:8080/error?code=7000215"}
            """
        #expect(PastedError.parse(body) == PastedError(codes: [7000215], traceID: Self.trace, correlationID: Self.correlation))
    }

    @Test func msalsResultAsPythonPrintsIt() {
        let text = """
            {'error': 'invalid_scope', 'error_description': 'AADSTS70011: The provided value for scope admin is not valid.\\r\\n\
            Trace ID: \(Self.trace.uppercased())\\r\\nCorrelation ID: \(Self.correlation)\\r\\nTimestamp: 2026-12-07 02:54:01Z', \
            'error_codes': [70011], 'timestamp': '2026-12-07 02:54:01Z', 'trace_id': '\(Self.trace)', \
            'correlation_id': '\(Self.correlation)', 'error_uri': 'https://127.0.0.1/error?code=70011'}
            """
        #expect(PastedError.parse(text) == PastedError(codes: [70011], traceID: Self.trace, correlationID: Self.correlation))
    }

    @Test func anAzureIdentityException() {
        let text = """
            azure.core.exceptions.ClientAuthenticationError: Authentication failed: AADSTS7000215: Invalid client secret provided.
            Trace ID: \(Self.trace)
            Correlation ID: \(Self.correlation)
            Timestamp: 2026-12-07 02:54:01Z
            Content: {"error":"invalid_client","error_codes":[7000215,50000]}
            """
        #expect(PastedError.parse(text) == PastedError(codes: [7000215, 50000], traceID: Self.trace, correlationID: Self.correlation))
    }

    @Test func anAADSTSLine() {
        let line =
            "AADSTS50126: Error validating credentials due to invalid username or password. Trace ID: \(Self.trace) "
            + "Correlation ID: \(Self.correlation) Timestamp: 2026-12-07 02:54:01Z"
        #expect(PastedError.parse(line) == PastedError(codes: [50126], traceID: Self.trace, correlationID: Self.correlation))
    }

    @Test func anErrorURIAndAHeaderAlone() {
        #expect(PastedError.parse("see https://login.example/error?ui_locales=vi&code=50053").codes == [50053])
        #expect(PastedError.parse("X-Trace-Id: \(Self.trace)").traceID == Self.trace)
        #expect(PastedError.parse("client-request-id=\(Self.correlation)").correlationID == Self.correlation)
    }

    @Test func whatIsNotACodeOrAnIDIsLeftOut() {
        #expect(PastedError.parse("it just says: something went wrong").isEmpty)
        #expect(PastedError.parse("trace_id: not-a-guid 01a24e6c-2b7c-7755-aab5").traceID == nil)
        #expect(PastedError.parse("error_codes: [abc]").codes.isEmpty)
        // A paste of any size is read up to a bound, and what lies beyond it is not searched.
        let huge = String(repeating: "x", count: PastedError.maximumLength) + " AADSTS50126"
        #expect(PastedError.parse(huge).isEmpty)
    }
}
