import Foundation
import JWTKit

/// The claims of an RFC 7523 client assertion. Numeric dates may be integers or floats.
public struct ClientAssertionClaims: JWTPayload, Sendable {
    public let iss: String?
    public let sub: String?
    public let aud: Audience?
    public let exp: Double?
    public let nbf: Double?
    public let iat: Double?
    public let jti: String?

    public func verify(using algorithm: some JWTAlgorithm) async throws {}

    /// `aud` is a string or an array of strings (RFC 7519 §4.1.3).
    public struct Audience: Codable, Sendable {
        public let values: [String]
        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let single = try? container.decode(String.self) { values = [single] } else { values = try container.decode([String].self) }
        }
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(values)
        }
    }
}

/// Checks an RFC 7523 §2.2 / §3 client assertion.
public struct ClientAssertionVerifier: Sendable {
    /// Clock skew tolerated on exp, nbf and iat.
    public var leeway: TimeInterval = 60
    /// Longest accepted lifetime (exp − now), to bound how long a jti must be remembered.
    public var maxLifetime: TimeInterval = 3600

    public init() {}

    /// The certificate-related members of a JWS header (what MSAL and azure-identity send).
    struct CertificateHeader {
        let alg: String
        let x5t: [UInt8]?
        let x5tS256: [UInt8]?
        let x5c: [UInt8]?
        var namesCertificate: Bool { x5t != nil || x5tS256 != nil || x5c != nil }
    }

    /// Thumbprints are base64url; MSAL keeps the `=` padding.
    static func thumbprint(_ value: Any?) -> [UInt8]? {
        guard let text = value as? String else { return nil }
        return Base64URL.decode(Substring(text.replacingOccurrences(of: "=", with: ""))).map { Array($0) }
    }

    static func certificateHeader(_ jwt: String) -> CertificateHeader? {
        guard let first = jwt.split(separator: ".", omittingEmptySubsequences: false).first, let data = Base64URL.decode(first),
            let header = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let alg = header["alg"] as? String
        else { return nil }
        let x5c = (header["x5c"] as? [String])?.first.flatMap { Data(base64Encoded: $0) }.map { Array($0) }
        return CertificateHeader(alg: alg, x5t: thumbprint(header["x5t"]), x5tS256: thumbprint(header["x5t#S256"]), x5c: x5c)
    }

    /// The registered certificate the header names: by x5t#S256, x5t, or the thumbprint of
    /// x5c's first certificate. An unregistered certificate is refused (700027).
    static func registeredCertificate(for header: CertificateHeader, in certificates: [ClientCertificate], now: Date) throws(CatalogueError)
        -> ClientCertificate
    {
        var leafSHA256: [UInt8]? = nil
        if let der = header.x5c {
            guard let leaf = try? ClientCertificate(der: der) else {
                throw CatalogueError(Catalogue.malformedClientAssertion, ["reason": "x5c does not hold a readable certificate"])
            }
            leafSHA256 = leaf.sha256
        }
        let match = certificates.first { certificate in
            if let wanted = header.x5tS256 { return constantTimeEquals(certificate.sha256, wanted) }
            if let wanted = header.x5t { return constantTimeEquals(certificate.sha1, wanted) }
            if let wanted = leafSHA256 { return constantTimeEquals(certificate.sha256, wanted) }
            return false
        }
        guard let match else {
            throw CatalogueError(
                Catalogue.assertionSignatureInvalid, detail: "the certificate the header names is not registered for the client")
        }
        if let leafSHA256, !constantTimeEquals(match.sha256, leafSHA256) {
            throw CatalogueError(Catalogue.assertionSignatureInvalid, detail: "x5c and x5t name different certificates")
        }
        guard match.notValidBefore <= now, now < match.notValidAfter else {
            throw CatalogueError(
                Catalogue.assertionSignatureInvalid, detail: "registered certificate \(match.thumbprintHex) is outside its validity period")
        }
        return match
    }

    /// Reads the claims without verifying, for the client identifier and precise errors.
    public func unverifiedClaims(_ jwt: String) throws(CatalogueError) -> ClientAssertionClaims {
        let parts = jwt.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            throw CatalogueError(
                Catalogue.malformedClientAssertion, ["reason": "a JWS in compact form has three parts, this has \(parts.count)"])
        }
        guard let headerData = Base64URL.decode(parts[0]),
            let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any]
        else { throw CatalogueError(Catalogue.malformedClientAssertion, ["reason": "the header is not base64url-encoded JSON"]) }
        guard let alg = header["alg"] as? String, alg != "none", !alg.hasPrefix("HS") else {
            throw CatalogueError(Catalogue.assertionSignatureInvalid, detail: "alg missing, none or symmetric")
        }
        guard let payloadData = Base64URL.decode(parts[1]),
            let claims = try? JSONDecoder().decode(ClientAssertionClaims.self, from: payloadData)
        else {
            throw CatalogueError(
                Catalogue.malformedClientAssertion, ["reason": "the payload is not base64url-encoded JSON with valid claim types"])
        }
        // A signed authorization request (RFC 9101) travels through browsers: it is never a
        // credential, whatever claims it carries.
        let payload = (try? JSONSerialization.jsonObject(with: payloadData)) as? [String: Any]
        if (header["typ"] as? String)?.lowercased() == "oauth-authz-req+jwt" || payload?["response_type"] != nil {
            throw CatalogueError(
                Catalogue.malformedClientAssertion, ["reason": "it is a request object (RFC 9101), not a client assertion"])
        }
        return claims
    }

    /// Verifies signature, issuer/subject, audience, time and single use. Returns which of the
    /// client's credentials signed it, for the sign-in log: `certificate <SHA-1 thumbprint>`, or
    /// `key <kid>` (`key` alone when the header names none) of its JWKS.
    @discardableResult
    public func verify(
        jwt: String, claims: ClientAssertionClaims, record: ClientRecord, acceptedAudiences: Set<String>,
        replay: any ReplayStore, now: Date
    ) async throws -> String {
        let clientID = record.client.id.value
        for (name, present) in [
            ("iss", claims.iss != nil), ("sub", claims.sub != nil), ("aud", claims.aud != nil), ("exp", claims.exp != nil),
            ("jti", claims.jti != nil),
        ] where !present {
            throw CatalogueError(Catalogue.assertionMissingClaim, ["claim": name])
        }
        guard claims.iss == clientID, claims.sub == clientID else {
            throw CatalogueError(Catalogue.assertionIssuerSubjectMismatch, ["clientId": clientID])
        }
        let keys: JWTKeyCollection
        let credential: String
        if let header = Self.certificateHeader(jwt), header.namesCertificate, !record.certificates.isEmpty {
            let certificate = try Self.registeredCertificate(for: header, in: record.certificates, now: now)
            guard let certificateKeys = try? await certificate.keys(for: header.alg) else {
                throw CatalogueError(
                    Catalogue.assertionSignatureInvalid, detail: "alg \(header.alg) does not fit certificate \(certificate.thumbprintHex)")
            }
            keys = certificateKeys
            credential = "certificate \(certificate.thumbprintHex)"
        } else if let registered = record.assertionKeys {
            keys = registered
            credential = Self.keyID(jwt).map { "key \(RecordedValue.cut($0, to: 64))" } ?? "key"
        } else {
            throw CatalogueError(Catalogue.clientHasNoKeys, ["clientId": clientID])
        }
        do {
            _ = try await keys.verify(jwt, as: ClientAssertionClaims.self, iteratingKeys: true)
        } catch {
            throw CatalogueError(Catalogue.assertionSignatureInvalid, detail: "jwt-kit: \(error)")
        }
        guard let audiences = claims.aud?.values, audiences.contains(where: acceptedAudiences.contains) else {
            throw CatalogueError(Catalogue.assertionAudienceInvalid, ["expected": acceptedAudiences.sorted().first ?? ""])
        }
        let nowSeconds = now.timeIntervalSince1970
        guard let exp = claims.exp, exp + leeway > nowSeconds, exp - nowSeconds <= maxLifetime + leeway else {
            throw CatalogueError(Catalogue.assertionTimeRange, detail: "exp outside window")
        }
        if let nbf = claims.nbf, nbf - leeway > nowSeconds { throw CatalogueError(Catalogue.assertionTimeRange, detail: "nbf in future") }
        if let iat = claims.iat, iat - leeway > nowSeconds { throw CatalogueError(Catalogue.assertionTimeRange, detail: "iat in future") }
        let key = "client_assertion|\(record.client.tenant.value)|\(clientID)|\(claims.jti ?? "")"
        let first = try await replay.consumeOnce(key: key, expiresAt: Date(timeIntervalSince1970: exp + leeway), now: now)
        guard first else { throw CatalogueError(Catalogue.assertionReplayed) }
        return credential
    }

    /// The `kid` of a JWT's header, if any.
    static func keyID(_ jwt: String) -> String? {
        guard let first = jwt.split(separator: ".", omittingEmptySubsequences: false).first, let data = Base64URL.decode(first),
            let header = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return header["kid"] as? String
    }
}
