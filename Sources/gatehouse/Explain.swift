import ArgumentParser
import Foundation
import GatehouseCore

struct Explain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the troubleshooting text of an error code (the same as GET /error?code=N), or of a pasted error.",
        discussion:
            "With --from - (standard input) or --from FILE it reads an error as a user pasted it (a JSON error body, MSAL's result, an azure-identity exception, an AADSTS line), picks out the codes, trace ID and correlation ID, prints each code's text and, when the database is at hand, the server's record of the request."
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The number from error_codes.") var code: Int?
    @Option(help: "Read a pasted error from this file, or '-' for standard input.") var from: String?
    @Option(help: "Language: en or vi.") var lang: String = "en"

    func run() async throws {
        let texts = CatalogueTexts.bundled
        let language = texts.negotiate([lang])
        guard language == lang.lowercased() || lang.lowercased().hasPrefix(language + "-") else {
            throw CLIError("no texts in '\(lang)': --lang takes \(texts.supportedLanguages.joined(separator: " or "))")
        }
        if let from {
            try await explainPaste(try Self.read(from), texts: texts, language: language)
            return
        }
        guard let code else { throw CLIError("give an error code (explain 50126) or a pasted error (explain --from -)") }
        guard let entry = Catalogue.entry(code) else {
            throw CLIError("no catalogue entry has the code \(code); 'gatehouse explain' takes the number from error_codes")
        }
        if global.json {
            try printJSON(Self.json(entry, texts: texts, language: language))
            return
        }
        Self.printEntry(entry, texts: texts, language: language)
    }

    static func read(_ from: String) throws -> String {
        let data: Data?
        if from == "-" {
            data = try FileHandle.standardInput.read(upToCount: PastedError.maximumLength)
        } else {
            data = FileManager.default.contents(atPath: from)
            guard data != nil else { throw CLIError("cannot read '\(from)'") }
        }
        return String(decoding: data ?? Data(), as: UTF8.self)
    }

    static func json(_ entry: CatalogueEntry, texts: CatalogueTexts, language: String) -> [String: Any] {
        let text = texts.text(for: entry.number, language: language)
        return [
            "code": entry.number, "name": entry.name, "error": entry.error.rawValue, "status": entry.status,
            "message": text?.message ?? "", "cause": text?.cause ?? "", "remediation": text?.remediation ?? "", "language": language,
        ]
    }

    static func printEntry(_ entry: CatalogueEntry, texts: CatalogueTexts, language: String) {
        let text = texts.text(for: entry.number, language: language)
        print("\(entry.number) \(entry.name)")
        print("error: \(entry.error.rawValue)   HTTP \(entry.status)")
        print("")
        print("\(texts.ui("message", language: language)): \(text?.message ?? "")")
        print("\(texts.ui("cause", language: language)): \(text?.cause ?? "")")
        print("\(texts.ui("remediation", language: language)): \(text?.remediation ?? "")")
    }

    /// The codes, IDs and the server's record of a pasted error.
    func explainPaste(_ text: String, texts: CatalogueTexts, language: String) async throws {
        let found = PastedError.parse(text)
        guard !found.isEmpty else {
            throw CLIError("found no error code, trace ID or correlation ID in what was given")
        }
        let entries = found.codes.compactMap(Catalogue.entry)
        let unknown = found.codes.filter { Catalogue.entry($0) == nil }
        // The server's record, where a database is at hand; without one the texts still help.
        var lookup = "no trace or correlation ID to look up"
        var events: [SignInEvent] = []
        var aggregates: [SignInAggregate] = []
        if found.traceID != nil || found.correlationID != nil {
            do {
                try await withStore(global) { store, _ in
                    if let traceID = found.traceID { events = try await store.signIns(SignInQuery(traceID: traceID)) }
                    if events.isEmpty, let correlationID = found.correlationID {
                        events = try await store.signIns(SignInQuery(correlationID: correlationID, limit: 20))
                    }
                    if events.isEmpty, let traceID = found.traceID {
                        aggregates = try await SignInLookup.aggregates(containing: traceID, in: store)
                    }
                }
                lookup =
                    events.isEmpty && aggregates.isEmpty
                    ? "no record of it in this database (another server's, or older than the sign-in log keeps)" : "found"
            } catch let error as CLIError {
                lookup = "not looked up: \(error.description)"
            }
        }
        if global.json {
            var object: [String: Any] = [
                "found": [
                    "codes": found.codes, "trace_id": found.traceID ?? NSNull(), "correlation_id": found.correlationID ?? NSNull(),
                ] as [String: Any],
                "entries": entries.map { Self.json($0, texts: texts, language: language) }, "unknown_codes": unknown,
                "lookup": lookup, "aggregates": aggregates.map(SignIns.json),
            ]
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.dateEncodingStrategy = .iso8601
            object["records"] = (try? JSONSerialization.jsonObject(with: try encoder.encode(events))) ?? []
            try printJSON(object)
            return
        }
        print(
            "Found: "
                + [
                    found.codes.isEmpty ? nil : "code \(found.codes.map(String.init).joined(separator: ", "))",
                    found.traceID.map { "trace ID \($0)" }, found.correlationID.map { "correlation ID \($0)" },
                ].compactMap { $0 }.joined(separator: "; "))
        for entry in entries {
            print("")
            Self.printEntry(entry, texts: texts, language: language)
        }
        for code in unknown { print("\n\(code): not a code of Gatehouse's catalogue") }
        print("")
        print("Server's record: \(lookup)")
        if !events.isEmpty {
            printTable(
                ["TIME", "TENANT", "CLIENT", "USER", "STEP", "RESULT", "CREDENTIAL", "TRACE ID", "DETAIL"],
                events.map { event in
                    [
                        printedTime(event.time), event.tenant, event.clientID ?? "-", event.userID ?? "-", event.grantType ?? "-",
                        event.result == .success ? "success" : "\(event.errorCode.map(String.init) ?? "-") \(event.error ?? "")",
                        event.credential ?? "-", event.traceID, event.detail ?? "-",
                    ]
                }, empty: "")
        }
        for aggregate in aggregates { print(SignIns.explain(aggregate)) }
    }
}
