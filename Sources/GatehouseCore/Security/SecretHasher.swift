import Crypto
import Foundation

/// Keyed SHA-256 for server-generated secrets (256 bits of entropy, so no slow hash is needed;
/// passwords get bcrypt), and a constant-time comparison.
public struct SecretHasher: Sendable {
    private let key: SymmetricKey

    /// The raw server key, from which `SecretBox` derives its own key.
    public let keyData: Data

    public init(key: Data) {
        self.keyData = key
        self.key = SymmetricKey(data: key)
    }

    /// Hex of HMAC-SHA256(key, secret).
    public func hash(_ secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(secret.utf8), using: key)
        return hexString(mac)
    }

    /// A secret derived from `input` for one purpose (`label`): base64url of
    /// HMAC-SHA256(key, label ‖ 0x00 ‖ input), 256 bits. Only someone holding the server key can
    /// compute it, and it differs from every stored hash (those are hex of HMAC(key, secret)).
    public func derive(_ label: String, _ input: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data((label + "\u{0}" + input).utf8), using: key)
        return Base64URL.encode(Array(mac))
    }

    /// Whether `secret` hashes to `storedHash`, compared in constant time.
    public func matches(_ secret: String, storedHash: String) -> Bool {
        constantTimeEquals(Array(hash(secret).utf8), Array(storedHash.utf8))
    }
}

/// Compares two byte strings in time that depends only on their lengths.
public func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
    guard lhs.count == rhs.count else { return false }
    var difference: UInt8 = 0
    for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
    return difference == 0
}

private let hexDigits = Array("0123456789abcdef".utf8)

/// Lowercase hex of bytes.
public func hexString(_ bytes: some Sequence<UInt8>) -> String {
    var output: [UInt8] = []
    output.reserveCapacity(64)
    for byte in bytes {
        output.append(hexDigits[Int(byte >> 4)])
        output.append(hexDigits[Int(byte & 0x0F)])
    }
    return String(decoding: output, as: UTF8.self)
}
