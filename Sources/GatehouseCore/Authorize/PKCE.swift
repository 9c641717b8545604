import Crypto
import Foundation

/// A PKCE code challenge (RFC 7636 §4.2), S256 only (RFC 9700 §2.1.1): 43 base64url characters.
public struct CodeChallenge: Sendable, Hashable {
    public let value: String

    /// Parses `code_challenge` and `code_challenge_method`. A missing method means `plain`
    /// (RFC 7636 §4.3), which is refused.
    public init(challenge: String, method: String?) throws(CatalogueError) {
        guard let method, method == "S256" else {
            throw CatalogueError(Catalogue.pkceMethodNotSupported, ["method": method ?? "plain"])
        }
        guard challenge.utf8.count == 43, challenge.utf8.allSatisfy(CodeVerifier.isUnreserved) else {
            throw CatalogueError(
                Catalogue.invalidParameterValue, ["name": "code_challenge"], detail: "S256 challenge is 43 base64url characters")
        }
        self.value = challenge
    }

    init(stored: String) { self.value = stored }

    /// RFC 7636 §4.6: BASE64URL(SHA256(ASCII(code_verifier))) == code_challenge, compared in constant time.
    public func isSatisfied(by verifier: CodeVerifier) -> Bool {
        let computed = Base64URL.encode(Array(SHA256.hash(data: Array(verifier.value.utf8))))
        return constantTimeEquals(Array(computed.utf8), Array(value.utf8))
    }
}

/// A PKCE code verifier (RFC 7636 §4.1): 43–128 characters of [A-Z a-z 0-9 - . _ ~].
public struct CodeVerifier: Sendable, Hashable {
    public let value: String

    public init(_ raw: String) throws(CatalogueError) {
        guard (43...128).contains(raw.utf8.count), raw.utf8.allSatisfy(Self.isUnreserved) else {
            throw CatalogueError(
                Catalogue.invalidParameterValue, ["name": "code_verifier"], detail: "verifier must be 43-128 unreserved characters")
        }
        self.value = raw
    }

    /// Its S256 challenge (for a client of this server's own: the console).
    public var s256Challenge: String { Base64URL.encode(Array(SHA256.hash(data: Array(value.utf8)))) }

    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default: false
        }
    }
}

extension CodeChallenge: Codable {
    /// Stored as its text and parsed again when read back.
    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(challenge: raw, method: "S256") } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an S256 code challenge"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}
