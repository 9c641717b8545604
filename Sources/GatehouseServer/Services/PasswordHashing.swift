import Foundation
import GatehouseCore
import HummingbirdBcrypt
import HummingbirdOTP
import NIOPosix

/// bcrypt (hummingbird-auth) run on NIO's blocking thread pool, never on an event loop
/// (so that a slow hash never blocks request handling).
public struct BcryptPasswordHasher: PasswordHasher {
    public let cost: UInt8

    public init(cost: UInt8) {
        self.cost = cost
    }

    public func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    public func verify(_ password: String, hash: String) async -> Bool {
        (try? await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }) ?? false
    }
}

/// RFC 6238 TOTP codes (30 s steps, 6 digits, HMAC-SHA1: what authenticator apps expect).
public struct HummingbirdTOTP: TOTPGenerator {
    public init() {}

    public func code(secret: String, at date: Date) -> String {
        let value = TOTP(secret: secret).compute(date: date)
        let digits = String(value)
        return String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    /// The otpauth:// URL an authenticator app scans.
    public static func enrollmentURL(secret: String, account: String, issuer: String) -> String {
        TOTP(secret: secret).createAuthenticatorURL(label: "\(issuer):\(account)", issuer: issuer)
    }
}
