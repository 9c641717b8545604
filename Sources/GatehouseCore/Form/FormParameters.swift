/// The parameters of an `application/x-www-form-urlencoded` body, parsed strictly
/// (RFC 6749 §3.1, §3.2 and Appendix B).
///
/// - A broken percent-encoding, bytes that are not UTF-8, or an empty name: 9900102.
/// - A repeated parameter: 9900101 (except those RFC 8707 allows to repeat, such as `resource`).
/// - A parameter without a value is treated as omitted (RFC 6749 §3.1).
public struct FormParameters: Sendable, Hashable {
    private var values: [String: [String]]

    public static let repeatable: Set<String> = ["resource"]

    public init(_ values: [String: [String]] = [:]) {
        self.values = values
    }

    /// Only the parameters named in `names`: what a grant handler gets, so that it can read no
    /// parameter it does not declare (`GrantHandler.parameters`).
    public func only(_ names: Set<String>) -> FormParameters {
        FormParameters(values.filter { names.contains($0.key) })
    }

    /// Parses a form body.
    public init(parsing body: some Collection<UInt8>, repeatable: Set<String> = FormParameters.repeatable) throws(CatalogueError) {
        var values: [String: [String]] = [:]
        for pair in body.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let nameBytes: Array<UInt8>.SubSequence
            let valueBytes: Array<UInt8>.SubSequence
            let bytes = Array(pair)[...]
            if let equals = bytes.firstIndex(of: UInt8(ascii: "=")) {
                nameBytes = bytes[..<equals]
                valueBytes = bytes[(equals + 1)...]
            } else {
                nameBytes = bytes
                valueBytes = []
            }
            guard let name = Self.decode(nameBytes), !name.isEmpty, let value = Self.decode(valueBytes) else {
                throw CatalogueError(Catalogue.malformedRequestBody, detail: "undecodable form pair")
            }
            if value.isEmpty { continue }
            if values[name] != nil, !repeatable.contains(name) {
                throw CatalogueError(Catalogue.duplicateParameter, ["name": name])
            }
            values[name, default: []].append(value)
        }
        self.values = values
    }

    /// Percent-decodes one name or value, `+` meaning space; nil if malformed or not UTF-8.
    static func decode(_ bytes: ArraySlice<UInt8>) -> String? {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.endIndex, let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) else {
                    return nil
                }
                output.append(high << 4 | low)
                index += 3
            } else {
                output.append(byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                index += 1
            }
        }
        return String(validating: output, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The single value of a parameter, or nil if it was omitted.
    public subscript(name: String) -> String? { values[name]?.first }

    /// All values of a repeatable parameter.
    public func all(_ name: String) -> [String] { values[name] ?? [] }

    /// The value of a required parameter; throws 900144 when it is missing.
    public func require(_ name: String) throws(CatalogueError) -> String {
        guard let value = self[name] else { throw CatalogueError(Catalogue.missingParameter, ["name": name]) }
        return value
    }

    public var names: Set<String> { Set(values.keys) }

    /// Every parameter with its values (a pushed authorization request keeps them so).
    public var dictionary: [String: [String]] { values }
}
