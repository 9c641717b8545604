import Crypto
import Foundation

/// Seals values that must be read back (TOTP seeds) with AES-GCM under a key derived (HKDF) from
/// the server's secret hashing key. Stored form: base64(nonce ‖ ciphertext ‖ tag).
public struct SecretBox: Sendable {
    private let key: SymmetricKey

    public init(serverKey: Data) {
        self.key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: serverKey), info: Data("gatehouse secret box v1".utf8), outputByteCount: 32)
    }

    public func seal(_ plaintext: String) throws -> String {
        guard let combined = try AES.GCM.seal(Data(plaintext.utf8), using: key).combined else { throw SecretBoxError.sealFailed }
        return combined.base64EncodedString()
    }

    public func open(_ sealed: String) throws -> String {
        guard let data = Data(base64Encoded: sealed) else { throw SecretBoxError.malformed }
        let box = try AES.GCM.SealedBox(combined: data)
        return String(decoding: try AES.GCM.open(box, using: key), as: UTF8.self)
    }
}

public enum SecretBoxError: Error { case sealFailed, malformed }
