import Foundation

/// The texts of one catalogue entry in one language.
public struct CatalogueText: Sendable, Codable, Hashable {
    public let message: String
    public let cause: String
    public let remediation: String

    public init(message: String, cause: String, remediation: String) {
        self.message = message
        self.cause = cause
        self.remediation = remediation
    }
}

/// One language: its catalogue texts and the labels of the troubleshooting page.
/// Adding a language is adding `Resources/Locales/<tag>.json`.
public struct CatalogueLanguage: Sendable, Codable {
    public let language: String
    public let name: String
    public let ui: [String: String]
    public let entries: [String: CatalogueText]

    public init(language: String, name: String, ui: [String: String], entries: [String: CatalogueText]) {
        self.language = language
        self.name = name
        self.ui = ui
        self.entries = entries
    }
}

/// All languages, loaded once from the bundled locale files.
public struct CatalogueTexts: Sendable {
    public static let defaultLanguage = "en"
    public let languages: [String: CatalogueLanguage]

    public init(languages: [String: CatalogueLanguage]) {
        self.languages = languages
    }

    /// Every `*.json` file of the bundled `Locales` folder. `gatehouse serve` calls
    /// `loadBundled()` first, so a malformed file stops start-up instead of losing its language.
    public static let bundled: CatalogueTexts = (try? loadBundled()) ?? CatalogueTexts(languages: [:])

    /// Loads the bundled locale files; throws `LocaleFileError` naming the file and the problem.
    public static func loadBundled() throws -> CatalogueTexts {
        guard let folder = Bundle.module.url(forResource: "Locales", withExtension: nil) else {
            throw LocaleFileError(file: "Locales", problem: "the bundled locale folder is missing")
        }
        return try load(from: folder)
    }

    /// Loads every `<tag>.json` in `folder`; each must decode and name its own tag as `language`.
    public static func load(from folder: URL) throws -> CatalogueTexts {
        let files: [URL]
        do {
            files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
        } catch {
            throw LocaleFileError(file: folder.path, problem: "cannot be listed (\(error.localizedDescription))")
        }
        var languages: [String: CatalogueLanguage] = [:]
        for file in files.sorted(by: { $0.lastPathComponent < $1.lastPathComponent }) where file.pathExtension == "json" {
            let language: CatalogueLanguage
            do {
                language = try JSONDecoder().decode(CatalogueLanguage.self, from: try Data(contentsOf: file))
            } catch let error as DecodingError {
                throw LocaleFileError(file: file.lastPathComponent, problem: Self.describe(error))
            } catch {
                throw LocaleFileError(file: file.lastPathComponent, problem: "cannot be read (\(error.localizedDescription))")
            }
            let tag = file.deletingPathExtension().lastPathComponent
            guard language.language == tag else {
                throw LocaleFileError(
                    file: file.lastPathComponent, problem: "says \"language\": \"\(language.language)\"; it must be \"\(tag)\"")
            }
            languages[tag] = language
        }
        guard languages[defaultLanguage] != nil else {
            throw LocaleFileError(file: "\(defaultLanguage).json", problem: "is missing; it is the fallback language")
        }
        return CatalogueTexts(languages: languages)
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.isEmpty
                ? "" : " at " + context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .dataCorrupted(let context): return "is not valid JSON\(path(context)): \(context.debugDescription)"
        case .keyNotFound(let key, let context): return "lacks \"\(key.stringValue)\"\(path(context))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "has a wrong value\(path(context)): \(context.debugDescription)"
        @unknown default: return "cannot be decoded"
        }
    }

    public var supportedLanguages: [String] { languages.keys.sorted() }

    /// The best supported language for a list of preferences, best first
    /// (`ui_locales` values or `Accept-Language` ranges). Falls back to English.
    public func negotiate(_ preferences: [String]) -> String {
        for preference in preferences {
            let tag = preference.lowercased()
            if languages[tag] != nil { return tag }
            let primary = String(tag.split(separator: "-").first ?? "")
            if languages[primary] != nil { return primary }
        }
        return Self.defaultLanguage
    }

    /// The entry's texts in a language, falling back to English.
    public func text(for number: Int, language: String) -> CatalogueText? {
        let key = String(number)
        return languages[language]?.entries[key] ?? languages[Self.defaultLanguage]?.entries[key]
    }

    public func ui(_ key: String, language: String) -> String {
        languages[language]?.ui[key] ?? languages[Self.defaultLanguage]?.ui[key] ?? key
    }

    /// The public message of an error, placeholders filled, in a language.
    public func message(for error: CatalogueError, language: String) -> String {
        guard let text = text(for: error.entry.number, language: language) else { return error.entry.name }
        return Self.fill(text.message, with: error.parameters)
    }

    /// Replaces `{name}` with the value for `name`. Values are cut to 256 characters and stripped of
    /// control characters, so that a reflected input stays short and single-line.
    public static func fill(_ template: String, with values: [String: String]) -> String {
        var result = template
        for (name, value) in values {
            result = result.replacingOccurrences(of: "{\(name)}", with: sanitize(value))
        }
        return result
    }

    static func sanitize(_ value: String) -> String {
        let cleaned = String(String.UnicodeScalarView(value.unicodeScalars.filter { !CharacterSet.controlCharacters.contains($0) }))
        return cleaned.count > 256 ? String(cleaned.prefix(256)) + "…" : cleaned
    }

    /// Placeholders (`{name}`) that a template uses.
    public static func placeholders(in template: String) -> Set<String> {
        var names: Set<String> = []
        var current: String? = nil
        for character in template {
            if character == "{" {
                current = ""
            } else if character == "}" {
                if let name = current, !name.isEmpty { names.insert(name) }
                current = nil
            } else if current != nil {
                if character.isLetter || character.isNumber || character == "_" { current?.append(character) } else { current = nil }
            }
        }
        return names
    }
}

/// A locale file that cannot be used: which file, and what is wrong with it.
public struct LocaleFileError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let problem: String
    public var description: String { "locale file \(file) \(problem)" }
}

/// Parses an `Accept-Language` header (RFC 9110 §12.5.4) into language ranges, best first.
public func parseAcceptLanguage(_ header: String) -> [String] {
    var ranges: [(String, Double, Int)] = []
    for (index, part) in header.split(separator: ",").enumerated() {
        let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let tag = pieces.first, !tag.isEmpty, tag != "*" else { continue }
        var quality = 1.0
        for piece in pieces.dropFirst() where piece.hasPrefix("q=") {
            quality = Double(piece.dropFirst(2)) ?? 0
        }
        if quality > 0 { ranges.append((tag, quality, index)) }
    }
    return ranges.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.2 < $1.2 }.map { $0.0 }
}
