import Foundation

/// A user's recovery codes: ten codes of ten base32 characters (50 random bits each), shown
/// once when made and kept only as keyed hashes (`UserStore.replaceRecoveryCodes`). Each works
/// once in place of the second factor at sign-in, counted like a code from the authenticator
/// app; making a new set voids the old one.
public enum RecoveryCodes {
    public static let count = 10
    public static let length = 10
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")

    /// A new set, each code written `XXXXX-XXXXX` for reading.
    public static func generate(_ random: RandomSource) -> [String] {
        (0..<count).map { _ in
            // 5 bits from each byte: 32 values, each equally likely.
            let characters = random.bytes(length).map { alphabet[Int($0 & 0x1f)] }
            return String(characters.prefix(length / 2)) + "-" + String(characters.suffix(length / 2))
        }
    }

    /// The code in a form field as it is hashed: spaces and dashes dropped, upper case; nil
    /// unless it is ten base32 characters (a six-digit TOTP code is not one).
    public static func normalize(_ typed: String) -> String? {
        let compact = typed.uppercased().filter { $0 != "-" && !$0.isWhitespace }
        guard compact.count == length, compact.allSatisfy({ alphabet.contains($0) }) else { return nil }
        return compact
    }

    /// The keyed hash a code is stored under: bound to the user, so one user's code is no other's.
    public static func hash(_ normalized: String, user: User, hasher: SecretHasher) -> String {
        hasher.derive("recovery-code", "\(user.tenant.value)|\(user.id)|\(normalized)")
    }
}
