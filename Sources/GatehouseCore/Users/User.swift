import Foundation

/// A person who signs in to a tenant. The password is kept only as a slow hash (bcrypt); the
/// TOTP seed, which must be usable, only sealed with the server key (`SecretBox`).
public struct User: Sendable, Hashable {
    public let tenant: TenantName
    /// Stable subject identifier (`sub`), a lowercase GUID.
    public let id: String
    /// Unique in the tenant, compared case-insensitively (stored lowercased).
    public var username: Username
    public var email: String?
    /// Whether the user proved the address is theirs (a verification link) or an operator said so;
    /// cleared when the address changes. `email_verified` in ID tokens and userinfo.
    public var emailVerified: Bool
    /// The language mails to the user are written in (`en`, `vi`): set by an administrator, or
    /// remembered from the user's last sign-in page; nil: the default.
    public var language: String?
    public var displayName: String
    public var passwordHash: String
    public var enabled: Bool
    /// The TOTP seed sealed with `SecretBox`, if a second factor is enrolled.
    public var sealedTOTPSecret: String?
    public let createdAt: Date
    public var updatedAt: Date
    /// Browser sessions that began before this instant are no longer honoured: set when the
    /// password is set, the user is disabled or the second factor is removed.
    public var sessionsValidAfter: Date?
    /// Registered themselves (`/{tenant}/register`): signing in needs a verified address.
    public var selfRegistered = false

    public init(
        tenant: TenantName, id: String, username: Username, email: String?, displayName: String, passwordHash: String,
        enabled: Bool = true, sealedTOTPSecret: String? = nil, createdAt: Date, updatedAt: Date, sessionsValidAfter: Date? = nil,
        emailVerified: Bool = false, language: String? = nil, selfRegistered: Bool = false
    ) {
        self.selfRegistered = selfRegistered
        self.emailVerified = emailVerified
        self.language = language
        self.tenant = tenant
        self.id = id
        self.username = username
        self.email = email
        self.displayName = displayName
        self.passwordHash = passwordHash
        self.enabled = enabled
        self.sealedTOTPSecret = sealedTOTPSecret
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.sessionsValidAfter = sessionsValidAfter
    }

    /// Whether a browser session of this user that began at `authTime` may still be used.
    public func honours(sessionStartedAt authTime: Date) -> Bool {
        guard enabled else { return false }
        return sessionsValidAfter.map { authTime >= $0 } ?? true
    }

    /// Whether the user may not sign in yet: registered themselves and not yet verified the address.
    public var awaitsVerification: Bool { selfRegistered && !emailVerified }

    /// Authentication methods references (RFC 8176) of a sign-in by this user.
    public var requiresSecondFactor: Bool { sealedTOTPSecret != nil }

    /// An email address as users sign in with it and as it is kept unique in a tenant: trimmed
    /// and lowercased; nil unless it has the shape local@domain.
    public static func signInEmail(_ raw: String) -> String? {
        let address = raw.trimmingCharacters(in: .whitespaces).lowercased()
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, address.count <= 254,
            !address.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0 == " " })
        else { return nil }
        return address
    }

    /// This user's address as a sign-in name, if it has one.
    public var signInEmail: String? { email.flatMap(Self.signInEmail) }
}

/// Who has which sign-in address (`User.signInEmail`) among a tenant's users: what turning email
/// sign-in on checks (an address must be one user's) and then records.
public struct SignInAddresses: Sendable {
    /// Each address and the IDs of the users who have it.
    public private(set) var owners: [String: [String]] = [:]

    /// From users' IDs and stored email values; values that are no address are left out.
    public init(_ users: [(id: String, email: String?)]) {
        for (id, email) in users {
            guard let address = email.flatMap(User.signInEmail) else { continue }
            owners[address, default: []].append(id)
        }
    }

    /// The addresses several users have, sorted.
    public var shared: [String] { owners.filter { $0.value.count > 1 }.keys.sorted() }
}

/// A username: 1–128 characters, no control characters or spaces at the ends; lowercased.
public struct Username: Sendable, Hashable, CustomStringConvertible {
    public let value: String

    public init(_ raw: String) throws(CatalogueError) {
        let trimmed = raw.trimmingCharacters(in: .whitespaces).lowercased()
        guard (1...128).contains(trimmed.count), !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            throw CatalogueError(Catalogue.invalidParameterValue, ["name": "username"])
        }
        self.value = trimmed
    }

    public var description: String { value }

    /// A value known to be valid (a constant of this module).
    init(validated value: String) { self.value = value }
}

/// Slow password hashing, run off the event loop by the implementation.
public protocol PasswordHasher: Sendable {
    func hash(_ password: String) async throws -> String
    func verify(_ password: String, hash: String) async -> Bool
}
