import Foundation
import GatehouseCore
import Testing

/// Conventions that must hold by construction (issue 10, part 5): the catalogue list is complete,
/// every text exists in every language, and a broken language file is refused by name.
@Suite struct ConventionsTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func source(_ path: String) throws -> String {
        try String(contentsOf: Self.repository.appendingPathComponent(path), encoding: .utf8)
    }

    /// `Catalogue.all` is written by hand: every entry declared in Catalogue.swift must be in it.
    @Test func catalogueListHoldsEveryDeclaredEntry() throws {
        let text = try source("Sources/GatehouseCore/Errors/Catalogue.swift")
        let regex = try NSRegularExpression(pattern: #"CatalogueEntry\(\s*(\d+)\s*,"#)
        let declared = Set(
            regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { match in
                Range(match.range(at: 1), in: text).flatMap { Int(text[$0]) }
            })
        #expect(declared.count > 80)
        #expect(
            declared == Set(Catalogue.all.map(\.number)),
            "declared but not listed: \(declared.subtracting(Catalogue.all.map(\.number)).sorted())")
    }

    /// Every page text exists, non-empty and with the same placeholders, in every language, and
    /// every text the server asks for exists.
    @Test func everyPageTextInEveryLanguage() throws {
        let texts = try CatalogueTexts.loadBundled()
        let english = try #require(texts.languages["en"])
        for (tag, language) in texts.languages {
            #expect(Set(language.ui.keys) == Set(english.ui.keys), "\(tag): ui keys differ from en")
            for (key, value) in english.ui {
                let translated = language.ui[key] ?? ""
                #expect(!translated.trimmingCharacters(in: .whitespaces).isEmpty, "\(tag) ui.\(key)")
                #expect(
                    CatalogueTexts.placeholders(in: translated) == CatalogueTexts.placeholders(in: value), "\(tag) ui.\(key) placeholders")
            }
        }
        let server = Self.repository.appendingPathComponent("Sources/GatehouseServer")
        let files =
            FileManager.default.enumerator(at: server, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL }.filter {
                $0.pathExtension == "swift"
            } ?? []
        let regex = try NSRegularExpression(pattern: #"\bui\("([A-Za-z0-9_.]+)""#)
        var used: Set<String> = []
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            for match in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                if let range = Range(match.range(at: 1), in: text), !text[range].hasSuffix(".") { used.insert(String(text[range])) }
            }
        }
        // The console's texts: `text("x")` and `t("x")` in its code, `{{t.x}}` in its templates, all `console.x`.
        let console = server.appendingPathComponent("Console")
        let consolePatterns = try [#"\b(?:text|t)\("([A-Za-z0-9_.]+)""#, #"\{\{t\.([A-Za-z0-9_]+)\}\}"#].map {
            try NSRegularExpression(pattern: $0)
        }
        var consoleUsed: Set<String> = []
        for file in try FileManager.default.contentsOfDirectory(at: console, includingPropertiesForKeys: nil)
        where file.pathExtension == "swift" {
            let text = try String(contentsOf: file, encoding: .utf8)
            for pattern in consolePatterns {
                for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                    if let range = Range(match.range(at: 1), in: text), !text[range].hasSuffix(".") {
                        consoleUsed.insert("console." + text[range])
                    }
                }
            }
        }
        // And the ones named at run time: sections, periods, rules, key states.
        consoleUsed.formUnion(["signins", "clients", "apis", "users", "keys", "audit", "preview"].map { "console.section.\($0)" })
        consoleUsed.formUnion(FailureChart.Period.allCases.map { "console.period.\($0.rawValue)" })
        consoleUsed.formUnion(FailureRule.allCases.map { "console.rule.\($0.rawValue)" })
        consoleUsed.formUnion([KeyStatus.active, .next, .retired].map { "console.keyStatus.\($0.rawValue)" })
        #expect(consoleUsed.count > 100)
        used.formUnion(consoleUsed)
        #expect(used.count > 20)
        #expect(used.isSubset(of: Set(english.ui.keys)), "asked for but missing: \(used.subtracting(english.ui.keys).sorted())")
    }

    /// A malformed language file stops loading with its name and what is wrong, instead of
    /// silently dropping the language.
    @Test func malformedLanguageFileIsRefusedByName() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-locales-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let english = try Data(contentsOf: Self.repository.appendingPathComponent("Sources/GatehouseCore/Resources/Locales/en.json"))
        try english.write(to: folder.appendingPathComponent("en.json"))
        #expect(try CatalogueTexts.load(from: folder).supportedLanguages == ["en"])
        try Data(#"{"language": "fr", "name": "Français", "ui": {}, "entries": {"50000": {"message": "x"}}}"#.utf8).write(
            to: folder.appendingPathComponent("fr.json"))
        #expect(throws: LocaleFileError.self) { _ = try CatalogueTexts.load(from: folder) }
        do { _ = try CatalogueTexts.load(from: folder) } catch let error as LocaleFileError {
            #expect(error.file == "fr.json" && error.description.contains("cause"), "\(error)")
        }
        try Data("{ not json".utf8).write(to: folder.appendingPathComponent("fr.json"))
        do { _ = try CatalogueTexts.load(from: folder) } catch let error as LocaleFileError {
            #expect(error.file == "fr.json" && error.problem.hasPrefix("is not valid JSON"), "\(error)")
        }
        try Data(#"{"language": "de", "name": "x", "ui": {}, "entries": {}}"#.utf8).write(to: folder.appendingPathComponent("fr.json"))
        do { _ = try CatalogueTexts.load(from: folder) } catch let error as LocaleFileError {
            #expect(error.file == "fr.json" && error.problem.contains("must be \"fr\""), "\(error)")
        }
    }

    /// A grant handler is given only the parameters it declares.
    @Test func grantsSeeOnlyTheirDeclaredParameters() throws {
        let form = try FormParameters(
            parsing: Array("grant_type=x&scope=a&code=c&client_info=1&x-client-SKU=msal&resource=r1&resource=r2".utf8))
        let seen = form.only(["scope", "resource"])
        #expect(seen["scope"] == "a" && seen.all("resource") == ["r1", "r2"])
        #expect(seen["code"] == nil && seen["client_info"] == nil && seen["grant_type"] == nil)
    }
}
