import Crypto
import CryptoExtras
import Foundation

/// A DPoP proof that passed every check (RFC 9449 §4.3): the thumbprint of its key is what the
/// tokens are bound to.
public struct DPoPProof: Sendable, Equatable {
    /// The SHA-256 JWK thumbprint (RFC 7638) of the proof's key, base64url.
    public let jkt: String
    public let jti: String
    public let iat: Int

    public var binding: TokenBinding { .dpop(jkt: jkt) }
}

/// What the request a proof comes with must look like.
public struct DPoPExpectation: Sendable {
    /// The request's method (`htm`).
    public let method: String
    /// The URL the request was sent to, as the server's public base URL and the request path
    /// give it (`htu`; query and fragment are not compared).
    public let url: String
    /// The tenant: its nonces and its single-use `jti` values are its own.
    public let tenant: TenantName
    /// The access token presented with the proof at a resource (`ath` must be its hash); nil at
    /// the token endpoint.
    public let accessToken: String?
    /// Whether the proof must carry a current server nonce (`DPoP-Nonce`, §8, §9).
    public let requireNonce: Bool

    public init(method: String, url: String, tenant: TenantName, accessToken: String? = nil, requireNonce: Bool) {
        self.method = method
        self.url = url
        self.tenant = tenant
        self.accessToken = accessToken
        self.requireNonce = requireNonce
    }
}

/// Checks DPoP proofs (RFC 9449 §4.3): `typ dpop+jwt`, an asymmetric algorithm of
/// `algorithms`, a public `jwk` that fits it, the signature, `htm`, `htu` without query and
/// fragment, `iat` within `maxAge` seconds back and `leeway` ahead, `ath` at a resource, the
/// server nonce when the tenant requires one, and `jti` used once across every node (the store's
/// replay table, per tenant and key).
public struct DPoPVerifier: Sendable {
    /// What `dpop_signing_alg_values_supported` advertises.
    public static let algorithms = ["ES256", "RS256", "PS256", "EdDSA"]
    /// How long a proof stays acceptable after its `iat`, and how far ahead `iat` may be.
    public static let maxAge = 60
    public static let leeway = 10
    /// The longest `jti` kept (RFC 9449 §4.2 asks for at least 96 bits of randomness).
    static let maxJTILength = 256
    /// The largest proof read (a 4096-bit RSA key and its signature fit well inside).
    static let maxProofLength = 8 * 1024

    public let replay: any ReplayStore
    public let nonces: DPoPNonces
    public let time: TimeSource

    public init(replay: any ReplayStore, nonces: DPoPNonces, time: TimeSource = .system) {
        self.replay = replay
        self.nonces = nonces
        self.time = time
    }

    /// Verifies the request's `DPoP` header values (there must be exactly one).
    public func verify(_ headerValues: [String], expecting expected: DPoPExpectation) async throws -> DPoPProof {
        guard headerValues.count == 1, let proof = headerValues.first else {
            throw CatalogueError(Catalogue.dpopProofMalformed, ["reason": "more than one DPoP header"])
        }
        let now = Int(time.now().timeIntervalSince1970)
        let checked = try Self.check(proof, expecting: expected, now: now)
        if expected.requireNonce {
            guard let nonce = checked.nonce else {
                throw CatalogueError(Catalogue.useDPoPNonce, ["reason": "the proof has no nonce"])
            }
            guard nonces.isCurrent(nonce, tenant: expected.tenant, now: now) else {
                throw CatalogueError(Catalogue.useDPoPNonce, ["reason": "the proof's nonce is not current"])
            }
        }
        let key = "dpop|\(expected.tenant.value)|\(checked.proof.jkt)|\(checked.proof.jti)"
        let keepUntil = Date(timeIntervalSince1970: Double(checked.proof.iat + Self.maxAge + Self.leeway))
        guard try await replay.consumeOnce(key: key, expiresAt: keepUntil, now: Date(timeIntervalSince1970: Double(now))) else {
            throw CatalogueError(Catalogue.dpopProofReplayed, detail: "jti \(RecordedValue.cut(checked.proof.jti, to: 64)) seen before")
        }
        return checked.proof
    }

    /// Everything that needs no store: shape, key, signature and claims. Returns the proof and
    /// its `nonce` claim, if any.
    public static func check(_ proof: String, expecting expected: DPoPExpectation, now: Int) throws(CatalogueError) -> (
        proof: DPoPProof, nonce: String?
    ) {
        guard proof.utf8.count <= maxProofLength else {
            throw CatalogueError(Catalogue.dpopProofMalformed, ["reason": "the proof is longer than \(maxProofLength) bytes"])
        }
        let parts = proof.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else {
            throw CatalogueError(Catalogue.dpopProofMalformed, ["reason": "not a compact JWS of three parts"])
        }
        guard let headerData = Base64URL.decode(parts[0]),
            let header = (try? JSONSerialization.jsonObject(with: headerData)) as? [String: Any]
        else { throw CatalogueError(Catalogue.dpopProofMalformed, ["reason": "the header is not base64url-encoded JSON"]) }
        guard let payloadData = Base64URL.decode(parts[1]),
            let claims = (try? JSONSerialization.jsonObject(with: payloadData)) as? [String: Any]
        else { throw CatalogueError(Catalogue.dpopProofMalformed, ["reason": "the payload is not base64url-encoded JSON"]) }
        guard let signature = Base64URL.decode(parts[2]) else {
            throw CatalogueError(Catalogue.dpopProofMalformed, ["reason": "the signature is not base64url"])
        }
        let typ = header["typ"] as? String
        guard typ?.lowercased() == "dpop+jwt" else { throw CatalogueError(Catalogue.dpopProofType, ["typ": typ ?? "(none)"]) }
        let alg = header["alg"] as? String ?? "(none)"
        guard algorithms.contains(alg) else {
            throw CatalogueError(Catalogue.dpopProofAlgorithm, ["alg": alg, "supported": algorithms.joined(separator: ", ")])
        }
        guard let jwk = header["jwk"] as? [String: Any] else {
            throw CatalogueError(Catalogue.dpopProofKey, ["reason": "the header has no jwk"])
        }
        let key = try DPoPKey(jwk: jwk, alg: alg)
        // The cheap checks first: a signature (RSA above all) is verified only for a proof made
        // for this request, now.
        for name in ["jti", "htm", "htu", "iat"] where claims[name] == nil {
            throw CatalogueError(Catalogue.dpopProofMissingClaim, ["claim": name])
        }
        guard let jti = claims["jti"] as? String, !jti.isEmpty, jti.utf8.count <= maxJTILength else {
            throw CatalogueError(Catalogue.dpopProofMalformed, ["reason": "jti is not a string of 1 to \(maxJTILength) characters"])
        }
        let htm = claims["htm"] as? String ?? ""
        guard htm == expected.method else { throw CatalogueError(Catalogue.dpopProofMethod, ["htm": htm, "method": expected.method]) }
        let htu = claims["htu"] as? String ?? ""
        guard let presented = normalizedURL(htu), presented == normalizedURL(expected.url) else {
            throw CatalogueError(Catalogue.dpopProofURL, ["htu": htu, "url": expected.url])
        }
        guard let iat = (claims["iat"] as? NSNumber).map({ $0.doubleValue }), iat.isFinite, abs(iat) < 1e12 else {
            throw CatalogueError(Catalogue.dpopProofMalformed, ["reason": "iat is not a number of seconds"])
        }
        guard Int(iat) >= now - maxAge, Int(iat) <= now + leeway else {
            throw CatalogueError(
                Catalogue.dpopProofTime, ["window": "\(maxAge)"], detail: "iat \(Int(iat)) is \(now - Int(iat)) s before the server's clock"
            )
        }
        let signingInput = Data(proof.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
        guard key.isValidSignature(Data(signature), for: signingInput) else { throw CatalogueError(Catalogue.dpopProofSignature) }
        if let token = expected.accessToken {
            guard let ath = claims["ath"] as? String else { throw CatalogueError(Catalogue.dpopProofMissingClaim, ["claim": "ath"]) }
            let hash = Base64URL.encode(Array(SHA256.hash(data: Data(token.utf8))))
            guard constantTimeEquals(Array(ath.utf8), Array(hash.utf8)) else { throw CatalogueError(Catalogue.dpopAccessTokenHash) }
        }
        let nonce = claims["nonce"] as? String
        return (DPoPProof(jkt: key.thumbprint, jti: jti, iat: Int(iat)), nonce)
    }

    /// A URL as `htu` compares it (RFC 9449 §4.3 point 9, RFC 3986 §6.2.2-6.2.3): scheme and host
    /// in lowercase, the scheme's default port dropped, an empty path as `/`, no query or fragment.
    static func normalizedURL(_ text: String) -> String? {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "https" || scheme == "http", let host = components.host?.lowercased(), !host.isEmpty,
            components.user == nil, components.password == nil
        else { return nil }
        var port = ""
        if let value = components.port, !(scheme == "https" && value == 443), !(scheme == "http" && value == 80) { port = ":\(value)" }
        let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        return "\(scheme)://\(host)\(port)\(path)"
    }
}

/// The public key of a proof, read from its `jwk` header (RFC 7517) for its `alg`.
struct DPoPKey {
    enum Key {
        case p256(P256.Signing.PublicKey)
        case rsa(_RSA.Signing.PublicKey, pss: Bool)
        case ed25519(Curve25519.Signing.PublicKey)
    }

    let key: Key
    /// RFC 7638: base64url of SHA-256 over the required members in lexicographic order.
    let thumbprint: String

    /// Members that only a private or symmetric key has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2).
    static let privateMembers = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"]

    init(jwk: [String: Any], alg: String) throws(CatalogueError) {
        if let member = Self.privateMembers.first(where: { jwk[$0] != nil }) {
            throw CatalogueError(Catalogue.dpopProofKey, ["reason": "the jwk holds private key material (\(member))"])
        }
        func member(_ name: String) throws(CatalogueError) -> String {
            guard let value = jwk[name] as? String, !value.isEmpty else {
                throw CatalogueError(Catalogue.dpopProofKey, ["reason": "the jwk has no \(name)"])
            }
            return value
        }
        // Only canonical base64url (no padding, no other alphabet, no stray bits), so that the
        // thumbprint, hashed over these texts, is the key's and the same any resource server computes.
        func bytes(_ name: String) throws(CatalogueError) -> Data {
            let text = try member(name)
            guard let data = Base64URL.decode(Substring(text)), Base64URL.encode(data) == text else {
                throw CatalogueError(Catalogue.dpopProofKey, ["reason": "\(name) is not canonical base64url"])
            }
            return data
        }
        let kty = try member("kty")
        let canonical: String
        switch alg {
        case "ES256":
            guard kty == "EC", try member("crv") == "P-256" else {
                throw CatalogueError(Catalogue.dpopProofKey, ["reason": "ES256 needs an EC key on P-256"])
            }
            let (x, y) = (try bytes("x"), try bytes("y"))
            guard x.count == 32, y.count == 32, let parsed = try? P256.Signing.PublicKey(x963Representation: [0x04] + x + y) else {
                throw CatalogueError(Catalogue.dpopProofKey, ["reason": "x and y are not a point on P-256"])
            }
            let (xText, yText) = (try member("x"), try member("y"))
            key = .p256(parsed)
            canonical = #"{"crv":"P-256","kty":"EC","x":"\#(xText)","y":"\#(yText)"}"#
        case "RS256", "PS256":
            guard kty == "RSA" else { throw CatalogueError(Catalogue.dpopProofKey, ["reason": "\(alg) needs an RSA key"]) }
            let (n, e) = (try bytes("n"), try bytes("e"))
            // Minimal integers (RFC 7518 §6.3.1), and at most 4096 bits: a larger key costs every
            // verification more without making the proof any better.
            guard n.first != 0, e.first != 0, e.count <= 4, let parsed = try? _RSA.Signing.PublicKey(n: n, e: e),
                (2048...4096).contains(parsed.keySizeInBits)
            else {
                throw CatalogueError(Catalogue.dpopProofKey, ["reason": "n and e are not an RSA key of 2048 to 4096 bits"])
            }
            let (eText, nText) = (try member("e"), try member("n"))
            key = .rsa(parsed, pss: alg == "PS256")
            canonical = #"{"e":"\#(eText)","kty":"RSA","n":"\#(nText)"}"#
        default:  // EdDSA
            guard kty == "OKP", try member("crv") == "Ed25519" else {
                throw CatalogueError(Catalogue.dpopProofKey, ["reason": "EdDSA needs an OKP key on Ed25519"])
            }
            guard let parsed = try? Curve25519.Signing.PublicKey(rawRepresentation: try bytes("x")) else {
                throw CatalogueError(Catalogue.dpopProofKey, ["reason": "x is not an Ed25519 public key"])
            }
            let xText = try member("x")
            key = .ed25519(parsed)
            canonical = #"{"crv":"Ed25519","kty":"OKP","x":"\#(xText)"}"#
        }
        thumbprint = Base64URL.encode(Array(SHA256.hash(data: Data(canonical.utf8))))
    }

    func isValidSignature(_ signature: Data, for data: Data) -> Bool {
        switch key {
        case .p256(let key):
            guard let parsed = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
            return key.isValidSignature(parsed, for: data)
        case .rsa(let key, let pss):
            return key.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature), for: data, padding: pss ? .PSS : .insecurePKCS1v1_5)
        case .ed25519(let key):
            return key.isValidSignature(signature, for: data)
        }
    }
}

/// Server nonces (RFC 9449 §8, §9) without state: a nonce names a time slot of `period` seconds
/// and carries a keyed hash of it and the tenant, so every node that shares the server key
/// issues and accepts the same ones. A nonce is current in its slot and the next (and the one
/// before, for a node whose clock is behind): it rotates every `period` and lives between one and
/// two periods.
public struct DPoPNonces: Sendable {
    public let hasher: SecretHasher
    public let period: Int

    public init(hasher: SecretHasher, period: Int = 300) {
        self.hasher = hasher
        self.period = max(period, 1)
    }

    /// The nonce to hand out now.
    public func current(tenant: TenantName, now: Int) -> String { nonce(tenant: tenant, slot: now / period) }

    public func isCurrent(_ nonce: String, tenant: TenantName, now: Int) -> Bool {
        // The next slot too: a node whose clock is a little ahead may have handed it out.
        let slot = now / period
        return [slot, slot - 1, slot + 1].contains {
            constantTimeEquals(Array(nonce.utf8), Array(self.nonce(tenant: tenant, slot: $0).utf8))
        }
    }

    private func nonce(tenant: TenantName, slot: Int) -> String {
        "\(slot).\(hasher.derive("dpop-nonce", "\(tenant.value)\u{0}\(slot)").prefix(32))"
    }
}
