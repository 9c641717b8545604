import ArgumentParser
import Foundation
import GatehouseCore

struct Explain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the troubleshooting text of an error code (the same as GET /error?code=N).")
    @Argument(help: "The number from error_codes.") var code: Int
    @Option(help: "Language: en or vi.") var lang: String = "en"
    @Flag(help: "Print JSON (for scripts) instead of text.") var json = false

    func run() async throws {
        let texts = CatalogueTexts.bundled
        guard let entry = Catalogue.entry(code) else {
            throw CLIError("no catalogue entry has the code \(code); 'gatehouse explain' takes the number from error_codes")
        }
        let language = texts.negotiate([lang])
        guard language == lang.lowercased() || lang.lowercased().hasPrefix(language + "-") else {
            throw CLIError("no texts in '\(lang)': --lang takes \(texts.supportedLanguages.joined(separator: " or "))")
        }
        let text = texts.text(for: entry.number, language: language)
        if json {
            try printJSON([
                "code": entry.number, "name": entry.name, "error": entry.error.rawValue, "status": entry.status,
                "message": text?.message ?? "", "cause": text?.cause ?? "", "remediation": text?.remediation ?? "", "language": language,
            ])
            return
        }
        print("\(entry.number) \(entry.name)")
        print("error: \(entry.error.rawValue)   HTTP \(entry.status)")
        print("")
        print("\(texts.ui("message", language: language)): \(text?.message ?? "")")
        print("\(texts.ui("cause", language: language)): \(text?.cause ?? "")")
        print("\(texts.ui("remediation", language: language)): \(text?.remediation ?? "")")
    }
}
