import Crypto
import Foundation

/// The key-encryption key (KEK): the signing private keys, the secret-hashing key and the TOTP
/// seeds are stored sealed under it (AES-256-GCM), each value with the KEK's ID and bound to the
/// row it belongs to (the additional data names the table and key), so a value copied into another
/// row does not open. It comes from `GATEHOUSE_KEK` (base64 of 32 bytes) or a file
/// (`GATEHOUSE_KEK_FILE`, default `kek` beside the database), never from the database itself.
public struct KeyEncryptionKey: Sendable {
    /// `kek-` and the first 8 bytes of the key's SHA-256, in hex: names the key without revealing it.
    public let id: String
    private let key: SymmetricKey

    static let prefix = "gh-kek1:"

    public init(bytes: some DataProtocol) throws(KEKError) {
        guard bytes.count == 32 else { throw KEKError.malformed("a key-encryption key is 32 bytes (base64: 44 characters)") }
        self.init(unchecked: Data(bytes))
    }

    /// A KEK written as base64 (the environment variable, the file), whitespace around it ignored.
    public init(base64 text: String) throws(KEKError) {
        guard let bytes = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw KEKError.malformed("a key-encryption key is written as base64")
        }
        try self.init(bytes: bytes)
    }

    /// A new random KEK and its base64 text.
    public static func generate() -> (key: KeyEncryptionKey, base64: String) {
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        return (KeyEncryptionKey(unchecked: bytes), bytes.base64EncodedString())
    }

    /// 32 bytes (checked by the callers).
    private init(unchecked bytes: Data) {
        self.key = SymmetricKey(data: bytes)
        self.id = "kek-" + hexString(SHA256.hash(data: bytes).prefix(8))
    }

    /// `gh-kek1:<kek id>:<base64 of nonce, ciphertext and tag>`.
    public func seal(_ plaintext: String, context: String) throws -> String {
        let box = try AES.GCM.seal(Data(plaintext.utf8), using: key, authenticating: Data(context.utf8))
        guard let combined = box.combined else { throw KEKError.malformed("sealing failed") }
        return Self.prefix + id + ":" + combined.base64EncodedString()
    }

    /// Opens a value sealed under this KEK for `context`.
    public func open(_ sealed: String, context: String) throws(KEKError) -> String {
        guard let kekID = Self.kekID(of: sealed) else { throw KEKError.malformed("not a sealed value") }
        guard kekID == id else { throw KEKError.wrongKEK(needed: kekID, configured: id) }
        let payload = sealed.dropFirst(Self.prefix.count + id.count + 1)
        guard let data = Data(base64Encoded: String(payload)), let box = try? AES.GCM.SealedBox(combined: data),
            let opened = try? AES.GCM.open(box, using: key, authenticating: Data(context.utf8))
        else { throw KEKError.malformed("a value sealed under \(id) does not open for \(context) (altered or moved)") }
        return String(decoding: opened, as: UTF8.self)
    }

    /// Whether a stored value is sealed (else it predates encryption at rest).
    public static func isSealed(_ value: String) -> Bool { value.hasPrefix(prefix) }

    /// The ID of the KEK a sealed value needs.
    public static func kekID(of value: String) -> String? {
        guard isSealed(value) else { return nil }
        let rest = value.dropFirst(prefix.count)
        guard let colon = rest.firstIndex(of: ":") else { return nil }
        return String(rest[..<colon])
    }
}

public enum KEKError: Error, CustomStringConvertible, Equatable {
    case malformed(String)
    /// The database's values are sealed under `needed`; this process has `configured` (or none).
    case wrongKEK(needed: String, configured: String?)
    /// A value stored in the clear in a database whose values are sealed: written around
    /// Gatehouse (every write of Gatehouse's own seals), so it is refused, never used.
    case unsealed(String)

    public var description: String {
        switch self {
        case .malformed(let text): text
        case .wrongKEK(let needed, let configured):
            "this database's keys are encrypted under key-encryption key \(needed), but "
                + (configured.map { "the configured one is \($0)" } ?? "none is configured")
                + ": set GATEHOUSE_KEK_FILE (or GATEHOUSE_KEK) to the key \(needed)"
        case .unsealed(let place):
            "\(place) is stored unencrypted in a database whose secrets are encrypted at rest; Gatehouse never writes "
                + "one so (it was written into the database directly) and refuses to use it: delete it, or, for a "
                + "signing key, remove the row and make a new key with `gatehouse keys rotate`"
        }
    }
}
