import Foundation

/// Gives the key ring of a tenant.
public protocol KeyRingProvider: Sendable {
    func keyRing(for tenant: TenantName) async throws -> KeyRing
}

/// An issued access token.
public struct IssuedAccessToken: Sendable {
    public let token: String
    public let expiresIn: Int
    public let claims: AccessTokenClaims
}

/// Turns decided claims into signed JWT access tokens (RFC 9068).
public struct TokenIssuer: Sendable {
    public let keyRings: any KeyRingProvider
    public let time: TimeSource
    public let random: RandomSource

    public init(keyRings: any KeyRingProvider, time: TimeSource = .system, random: RandomSource = .system) {
        self.keyRings = keyRings
        self.time = time
        self.random = random
    }

    /// Signs an access token; the request's dialect decides the `scope` claim and adds its own
    /// claims about `subject`; `binding` becomes its `cnf` claim.
    public func issueAccessToken(
        tenant: Tenant, issuer: String, subject: TokenSubject, clientID: ClientID, audience: [String], scope: Scope,
        dialect: any Dialect, authTime: Date? = nil, grantID: String? = nil, lifetime: Int? = nil, roles: [String] = [],
        binding: TokenBinding? = nil
    ) async throws -> IssuedAccessToken {
        let now = Int(time.now().timeIntervalSince1970)
        let lifetime = lifetime ?? tenant.accessTokenLifetime
        let jti = random.token(byteCount: 16)
        var (scopeClaim, additional) = dialect.accessTokenClaims(
            subject, tenant: tenant, clientID: clientID.value, scope: scope, jti: jti, iat: now, random: random)
        // A user's application roles (RFC 9068 §2.2.3.1), in every dialect.
        if !roles.isEmpty && additional["roles"] == nil { additional["roles"] = .strings(roles) }
        let claims = AccessTokenClaims(
            iss: issuer, sub: subject.objectID, aud: audience, exp: now + lifetime, iat: now,
            jti: jti, clientID: clientID.value, scope: scopeClaim,
            authTime: authTime.map { Int($0.timeIntervalSince1970) }, grantID: grantID, additional: additional,
            confirmation: binding)
        let ring = try await keyRings.keyRing(for: tenant.name)
        let token = try await ring.sign(claims, type: "at+jwt")
        return IssuedAccessToken(token: token, expiresIn: lifetime, claims: claims)
    }
}

/// A successful token response (RFC 6749 §5.1), plus the members a dialect may add
/// (`ext_expires_in`, `client_info`: `Dialect.decorate(_:form:userID:tenant:)`).
public struct TokenResponse: Sendable, Encodable, Equatable {
    public let accessToken: String
    public let tokenType: String
    public let expiresIn: Int
    public let scope: String?
    public let refreshToken: String?
    public let idToken: String?
    public var extExpiresIn: Int?
    public var clientInfo: String?

    public init(
        accessToken: String, tokenType: String = "Bearer", expiresIn: Int, scope: String?, refreshToken: String? = nil,
        idToken: String? = nil
    ) {
        self.refreshToken = refreshToken
        self.idToken = idToken
        self.accessToken = accessToken
        self.tokenType = tokenType
        self.expiresIn = expiresIn
        self.scope = scope
    }

    /// The one list of the response's members, for both encodings; optional members are left
    /// out rather than written as null.
    public func writeMembers<W: JSONMemberWriter>(to out: inout W) {
        out.write("token_type", tokenType)
        out.writeIfPresent("scope", scope)
        out.write("expires_in", expiresIn)
        out.writeIfPresent("ext_expires_in", extExpiresIn)
        out.write("access_token", accessToken)
        out.writeIfPresent("refresh_token", refreshToken)
        out.writeIfPresent("id_token", idToken)
        out.writeIfPresent("client_info", clientInfo)
    }

    /// The response body, written directly.
    public func json() -> [UInt8] {
        var out = JSONBytesWriter(capacity: accessToken.utf8.count + (refreshToken?.utf8.count ?? 0) + (idToken?.utf8.count ?? 0) + 160)
        writeMembers(to: &out)
        return out.finish()
    }

    public func encode(to encoder: any Encoder) throws {
        var out = EncoderMemberWriter(encoder)
        writeMembers(to: &out)
        try out.finish()
    }
}
