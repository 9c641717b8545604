import Foundation
import JWTKit

/// A JWT payload that writes its own JSON: what every access token costs in jwt-kit's
/// `JSONEncoder` is, on the token endpoint, a large share of the request (see BENCHMARKS.md).
public protocol JSONTextEncodable {
    /// The payload as one JSON object, the same members and values `encode(to:)` writes.
    func jsonText() -> [UInt8]
}

/// jwt-kit's JSON encoder with a fast path: a payload that writes its own JSON
/// (`JSONTextEncodable`), and a header of strings and integers, skip Foundation's encoder;
/// anything else goes to jwt-kit's default encoder as before.
public struct TokenJSONEncoder: JWTJSONEncoder {
    let fallback: any JWTJSONEncoder = .defaultForJWT

    public init() {}

    public func encode<T: Encodable>(_ value: T) throws -> Data {
        if let payload = value as? any JSONTextEncodable { return Data(payload.jsonText()) }
        if let header = value as? JWTHeader, let text = Self.jsonText(header) { return Data(text) }
        return try fallback.encode(value)
    }

    /// A header whose fields are all strings or integers (`alg`, `kid`, `typ`), else nil.
    static func jsonText(_ header: JWTHeader) -> [UInt8]? {
        var out: [UInt8] = [UInt8(ascii: "{")]
        for (index, key) in header.fields.keys.sorted().enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSONText.appendString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            switch header.fields[key] {
            case .string(let value): JSONText.appendString(value, to: &out)
            case .int(let value): out.append(contentsOf: String(value).utf8)
            default: return nil
            }
        }
        out.append(UInt8(ascii: "}"))
        return out
    }
}

extension AccessTokenClaims: JSONTextEncodable {
    public func jsonText() -> [UInt8] {
        var out = JSONBytesWriter(capacity: 320)
        writeMembers(to: &out)
        return out.finish()
    }
}
