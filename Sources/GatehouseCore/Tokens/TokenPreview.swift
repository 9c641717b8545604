import Foundation
import Synchronization

/// The claims a client's next token would carry (the console's token preview, like Keycloak's
/// "evaluate"), made by the very grant code that issues tokens, signed with a throwaway key that
/// is never published (so the preview is not a usable token) and handed back as claims only.
/// Nothing is stored: no grant, no refresh token, no sign-in record.
public struct TokenPreview: Sendable {
    public let users: UserDirectory
    public let roles: any RoleAssignmentStore
    public let policy: SignInPolicy
    public let time: TimeSource
    /// The throwaway key per tenant and algorithm, made once per process (an RSA key takes a
    /// while to make; a preview need not make one each time).
    private let keys = PreviewKeys()

    public init(users: UserDirectory, roles: any RoleAssignmentStore, policy: SignInPolicy, time: TimeSource = .system) {
        self.users = users
        self.roles = roles
        self.policy = policy
        self.time = time
    }

    /// The claims as pretty JSON: an access token's, and an ID token's when `openid` is in scope.
    public struct Claims: Sendable, Equatable {
        public let accessToken: String
        public let idToken: String?
    }

    /// For an application (`user` nil: client credentials) or for a user of the tenant (as if
    /// the user signed in now with a password); `scope` nil means the client's default scopes.
    public func evaluate(tenant: Tenant, issuer: String, record: ClientRecord, user: User?, scope: String?) async throws -> Claims {
        let now = time.now()
        let ring = try await keys.ring(tenant: tenant.name, algorithm: tenant.signingAlgorithm, now: now)
        let issuerOfTokens = TokenIssuer(keyRings: FixedKeyRing(ring: ring), time: time)
        let client = record.client
        let authenticated = AuthenticatedClient(
            record: record, method: client.authMethods.sorted { $0.rawValue < $1.rawValue }.first ?? .none)
        var form = FormParameters()
        if let scope, !scope.isEmpty { form = FormParameters(["scope": [scope]]) }
        let request = TokenRequest(tenant: tenant, issuer: issuer, client: authenticated, form: form)
        let response: TokenResponse
        if let user {
            guard user.tenant == tenant.name else { throw CatalogueError(Catalogue.userAccountNotFound) }
            let resolved = try request.dialect.delegatedAccess(
                requested: form["scope"], resources: [], access: record.access, fallback: issuer)
            let grant = AuthorizationGrant(
                id: "preview", tenant: tenant.name, clientID: client.id, userID: user.id, scope: resolved.scope,
                audience: resolved.audience, nonce: nil, authTime: now, sessionID: nil, amr: ["pwd"], codeHash: "", codeChallenge: nil,
                redirectURI: nil, codeExpiresAt: now, createdAt: now, offline: false)
            let minter = UserTokenMinter(issuer: issuerOfTokens, users: users, policy: policy, roles: roles)
            response = try await minter.mint(
                grant: grant, user: user, scope: resolved.scope, request: request, refreshToken: nil, includeNonce: false)
        } else {
            guard client.grantTypes.contains(.clientCredentials) else {
                throw CatalogueError(
                    Catalogue.grantNotAllowedForClient, ["clientId": client.id.value, "grantType": GrantType.clientCredentials.rawValue])
            }
            response = try await ClientCredentialsGrant(issuer: issuerOfTokens).exchange(request).response
        }
        return Claims(accessToken: Self.claims(of: response.accessToken) ?? "{}", idToken: response.idToken.flatMap(Self.claims))
    }

    /// A JWT's payload as sorted, indented JSON.
    static func claims(of token: String) -> String? {
        let parts = token.split(separator: ".")
        guard parts.count == 3, let data = Base64URL.decode(parts[1]), let object = try? JSONSerialization.jsonObject(with: data),
            let pretty = try? JSONSerialization.data(
                withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        else { return nil }
        return String(decoding: pretty, as: UTF8.self)
    }
}

final class PreviewKeys: Sendable {
    private let rings = Mutex<[String: KeyRing]>([:])

    func ring(tenant: TenantName, algorithm: SigningAlgorithm, now: Date) async throws -> KeyRing {
        let key = "\(tenant.value)|\(algorithm.rawValue)"
        if let ring = rings.withLock({ $0[key] }) { return ring }
        let record = try SigningKeyMaterial.generate(
            tenant: tenant, algorithm: algorithm, kid: "preview-not-published", status: .active, now: now)
        let ring = try await KeyRing(tenant: tenant, records: [record])
        rings.withLock { rings in
            if rings.count >= 1_000 { rings.removeAll() }
            rings[key] = ring
        }
        return ring
    }
}

/// One key ring for every tenant (the preview's throwaway key).
struct FixedKeyRing: KeyRingProvider {
    let ring: KeyRing
    func keyRing(for tenant: TenantName) async throws -> KeyRing { ring }
}
