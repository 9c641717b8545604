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
        var out: [UInt8] = [UInt8(ascii: "{")]
        out.reserveCapacity(320)
        JSONText.appendKey("iss", to: &out, first: true)
        JSONText.appendString(iss, to: &out)
        JSONText.appendKey("sub", to: &out)
        JSONText.appendString(sub, to: &out)
        JSONText.appendKey("aud", to: &out)
        if aud.count == 1 { JSONText.appendString(aud[0], to: &out) } else { JSONText.appendArray(aud, to: &out) }
        JSONText.appendKey("exp", to: &out)
        out.append(contentsOf: String(exp).utf8)
        JSONText.appendKey("iat", to: &out)
        out.append(contentsOf: String(iat).utf8)
        JSONText.appendKey("jti", to: &out)
        JSONText.appendString(jti, to: &out)
        JSONText.appendKey("client_id", to: &out)
        JSONText.appendString(clientID, to: &out)
        if let scope {
            JSONText.appendKey("scope", to: &out)
            JSONText.appendString(scope, to: &out)
        }
        if let authTime {
            JSONText.appendKey("auth_time", to: &out)
            out.append(contentsOf: String(authTime).utf8)
        }
        if let grantID {
            JSONText.appendKey("grant_id", to: &out)
            JSONText.appendString(grantID, to: &out)
        }
        // A dialect's claims never repeat a standard one (as with the encoder, where a repeated key
        // would have replaced the first).
        for (key, value) in additional.members where !Self.standardClaims.contains(key) {
            out.append(UInt8(ascii: ","))
            JSONText.appendString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            switch value {
            case .string(let string): JSONText.appendString(string, to: &out)
            case .int(let int): out.append(contentsOf: String(int).utf8)
            case .strings(let strings): JSONText.appendArray(strings, to: &out)
            }
        }
        out.append(UInt8(ascii: "}"))
        return out
    }
}
