import Foundation
import JWTKit

/// How an authorization request's parameters arrived.
public enum AuthorizationRequestOrigin: String, Sendable, Codable, Hashable {
    /// As query or form parameters.
    case plain
    /// In a signed request object (RFC 9101 `request`), checked with the client's keys.
    case signed
    /// Pushed by the authenticated client (RFC 9126), possibly as a signed request object.
    case pushed
    case pushedSigned = "pushed-signed"

    public var isSigned: Bool { self == .signed || self == .pushedSigned }
    public var isPushed: Bool { self == .pushed || self == .pushedSigned }
}

/// Verifies a signed request object (RFC 9101; OpenID Connect Core §6.1, §6.3) and assembles
/// the request's parameters from it.
public struct RequestObjectVerifier: Sendable {
    /// The algorithms a request object may be signed with: asymmetric only, never `none` or a
    /// shared secret (`request_object_signing_alg_values_supported`).
    public static let algorithms = ["ES256", "ES384", "ES512", "EdDSA", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512"]
    /// Members that describe the object itself, never authorization parameters.
    static let envelope: Set<String> = ["iss", "aud", "exp", "nbf", "iat", "jti", "sub"]
    /// Clock skew tolerated on `exp` and `nbf`.
    public var leeway: TimeInterval = 60
    /// The longest a request object may be valid (`exp` − now).
    public var maxLifetime: TimeInterval = 3600

    public init() {}

    /// Accepts anything: the signature is what jwt-kit checks; the claims are read afterwards.
    struct Unread: JWTPayload {
        init(from decoder: any Decoder) throws {}
        func encode(to encoder: any Encoder) throws {}
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    static func invalid(_ reason: String, detail: String? = nil) -> CatalogueError {
        CatalogueError(Catalogue.invalidRequestObject, ["reason": reason], detail: detail)
    }

    /// A time claim as a number of seconds within reach (a year 5000 bound): never a value that
    /// would trap when converted.
    static func seconds(_ raw: Any, _ name: String) throws(CatalogueError) -> Double {
        guard let value = (raw as? NSNumber)?.doubleValue, value.isFinite, abs(value) < 1e11 else {
            throw Self.invalid("its \(name) is not a time in seconds")
        }
        return value
    }

    /// The parameters the object carries, after checking its signature with the client's keys,
    /// its `iss` (the client), `aud` (one of `issuers`), `exp`, `nbf` and `client_id`. `strict`
    /// (a client that requires signed request objects, RFC 9101 §10.5): `iss` and `exp` are
    /// required, so that an object cannot be used again for longer than its lifetime.
    public func parameters(of jwt: String, record: ClientRecord, issuers: Set<String>, now: Date, strict: Bool = false)
        async throws(CatalogueError) -> FormParameters
    {
        let clientID = record.client.id.value
        let parts = jwt.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 5 { throw Self.invalid("encrypted request objects are not supported; sign it (JWS) instead") }
        guard parts.count == 3, let headerData = Base64URL.decode(parts[0]),
            let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any],
            let payloadData = Base64URL.decode(parts[1]),
            let claims = try? JSONSerialization.jsonObject(with: payloadData) as? [String: Any]
        else { throw Self.invalid("it is not a JWS in compact form with a JSON header and payload") }
        guard let alg = header["alg"] as? String, Self.algorithms.contains(alg) else {
            let named = RecordedValue.cut((header["alg"] as? String) ?? "(none)", to: 32)
            throw CatalogueError(
                Catalogue.requestObjectAlgorithmRefused, ["alg": named, "supported": Self.algorithms.joined(separator: ", ")])
        }
        // No extension is understood, so none may be critical (RFC 7515 §4.1.11).
        if header["crit"] != nil { throw Self.invalid("its header names critical extensions, which Gatehouse does not understand") }
        guard let keys = record.assertionKeys else {
            throw CatalogueError(Catalogue.requestObjectNoKeys, ["clientId": clientID])
        }
        do {
            _ = try await keys.verify(jwt, as: Unread.self, iteratingKeys: true)
        } catch {
            throw CatalogueError(
                Catalogue.requestObjectSignatureInvalid, ["clientId": clientID], detail: "jwt-kit: \(String("\(error)".prefix(300)))")
        }
        return try parameters(claims: claims, clientID: clientID, issuers: issuers, now: now, strict: strict)
    }

    /// The checks of a verified object's claims, and its parameters (separate from the
    /// signature, so that the fuzz target reaches them).
    public func parameters(claims: [String: Any], clientID: String, issuers: Set<String>, now: Date, strict: Bool)
        throws(CatalogueError) -> FormParameters
    {
        if let iss = claims["iss"], (iss as? String) != clientID {
            throw Self.invalid("its iss is not the client's ID")
        }
        if strict && claims["iss"] == nil { throw Self.invalid("it has no iss: the client requires signed requests, which name it") }
        if strict && claims["exp"] == nil {
            throw Self.invalid("it has no exp: the client requires signed requests, which expire within an hour")
        }
        let audiences: [String]
        switch claims["aud"] {
        case let single as String: audiences = [single]
        case let several as [String]: audiences = several
        default: throw Self.invalid("it has no aud: name the issuer (\(issuers.sorted().first ?? "")) as its audience")
        }
        guard audiences.contains(where: issuers.contains) else {
            throw CatalogueError(
                Catalogue.requestObjectAudienceInvalid,
                ["audience": RecordedValue.cut(audiences.joined(separator: " "), to: 200), "issuer": issuers.sorted().first ?? ""])
        }
        let seconds = now.timeIntervalSince1970
        if let raw = claims["exp"] {
            let exp = try Self.seconds(raw, "exp")
            guard exp + leeway > seconds else { throw CatalogueError(Catalogue.requestObjectExpired, detail: "exp \(exp)") }
            guard exp - seconds <= maxLifetime + leeway else {
                throw Self.invalid("its exp is more than an hour ahead", detail: "exp \(exp)")
            }
        }
        if let raw = claims["nbf"] {
            let nbf = try Self.seconds(raw, "nbf")
            guard nbf - leeway <= seconds else {
                throw CatalogueError(Catalogue.requestObjectExpired, detail: "nbf \(nbf) in the future")
            }
        }
        if let inner = claims["client_id"], (inner as? String) != clientID {
            throw CatalogueError(Catalogue.requestObjectParameterMismatch, ["name": "client_id"])
        }
        if claims["request"] != nil || claims["request_uri"] != nil {
            throw Self.invalid("a request object may not hold request or request_uri")
        }
        var values: [String: [String]] = [:]
        for (name, value) in claims where !Self.envelope.contains(name) {
            switch value {
            case let text as String:
                // An empty value is an omitted one, as in a form (RFC 6749 §3.1).
                if !text.isEmpty { values[name] = [text] }
            case let number as NSNumber: values[name] = [number.stringValue]
            case let list as [String] where FormParameters.repeatable.contains(name): values[name] = list
            case is [String: Any], is [Any]:
                // `claims` (OpenID Connect Core §5.5) and other structured members travel as JSON text.
                guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]) else { continue }
                values[name] = [String(decoding: data, as: UTF8.self)]
            default:
                throw Self.invalid("its member \(RecordedValue.cut(name, to: 64)) is neither a string nor a number")
            }
        }
        values["client_id"] = [clientID]
        return FormParameters(values)
    }

    /// OpenID Connect Core §6.3: the object's parameters with the query's, the object's winning;
    /// a query parameter that the object also holds with another value is refused (no unsigned
    /// value stands in for a signed one). `strict` (RFC 9101 §5, for a client that requires
    /// signed request objects, and for a pushed object, RFC 9126 §3): only the object's
    /// parameters count, and a parameter sent only outside it is refused. `request`,
    /// `request_uri` and the client's credentials never become authorization parameters.
    public static func assemble(object: FormParameters, query: FormParameters, strict: Bool = false) throws(CatalogueError)
        -> FormParameters
    {
        var values = object.dictionary
        for (name, queryValues) in query.dictionary where !PushedAuthorizationRequests.notParameters.contains(name) {
            if let objectValues = values[name] {
                guard objectValues == queryValues else {
                    throw CatalogueError(Catalogue.requestObjectParameterMismatch, ["name": RecordedValue.cut(name, to: 64)])
                }
            } else if strict && name != "client_id" {
                throw Self.invalid("the parameter \(RecordedValue.cut(name, to: 64)) is outside it; every parameter must be signed")
            } else {
                values[name] = queryValues
            }
        }
        return FormParameters(values)
    }
}

/// Pushed authorization requests (RFC 9126): the parameters a client pushed, kept under a
/// one-time reference for `lifetime` and bound to the client.
public struct PushedAuthorizationRequests: Sendable {
    public static let uriPrefix = "urn:ietf:params:oauth:request_uri:"
    /// Form members that are never authorization parameters: the request's own reference and
    /// the client's credentials.
    static let notParameters: Set<String> = [
        "request", "request_uri", "client_secret", "client_assertion", "client_assertion_type",
    ]
    static let kind = "pushed_authorization_request"

    let store: any StateStore
    let hasher: SecretHasher
    public let lifetime: TimeInterval

    public init(store: any StateStore, hasher: SecretHasher, lifetime: TimeInterval = 60) {
        self.store = store
        self.hasher = hasher
        self.lifetime = lifetime
    }

    struct Stored: Codable {
        let tenant: String
        let clientID: String
        let parameters: [String: [String]]
        let signed: Bool
    }

    /// The parameters of a pushed request without the client's credentials.
    public static func parameters(of form: FormParameters) -> FormParameters {
        FormParameters(form.dictionary.filter { !notParameters.contains($0.key) })
    }

    /// Keeps `parameters` (already checked) and returns the `request_uri` (256 random bits; only
    /// its keyed hash is stored).
    public func push(_ parameters: FormParameters, signed: Bool, client: Client, now: Date, random: RandomSource) async throws -> String {
        let reference = random.token(byteCount: 32)
        let stored = Stored(tenant: client.tenant.value, clientID: client.id.value, parameters: parameters.dictionary, signed: signed)
        try await store.putState(
            kind: Self.kind, key: hasher.hash(reference), value: String(decoding: try JSONEncoder().encode(stored), as: UTF8.self),
            expiresAt: now.addingTimeInterval(lifetime))
        return Self.uriPrefix + reference
    }

    /// Takes the pushed request `uri` for `client` (once: a second use finds nothing). A
    /// reference that is unknown, used, expired, or another client's is refused (the other
    /// client's reference is spent too: whoever holds it was not meant to).
    public func take(_ uri: String, tenant: TenantName, clientID: ClientID, now: Date) async throws -> (FormParameters, signed: Bool) {
        guard uri.hasPrefix(Self.uriPrefix) else {
            throw CatalogueError(Catalogue.requestURINotSupported, ["uri": RecordedValue.cut(uri, to: 200)])
        }
        let reference = String(uri.dropFirst(Self.uriPrefix.count))
        guard !reference.isEmpty, reference.utf8.count <= 128,
            let value = try await store.takeState(kind: Self.kind, key: hasher.hash(reference), now: now),
            let stored = try? JSONDecoder().decode(Stored.self, from: Data(value.utf8))
        else { throw CatalogueError(Catalogue.pushedRequestNotFound) }
        guard stored.tenant == tenant.value, stored.clientID == clientID.value else {
            throw CatalogueError(Catalogue.pushedRequestOtherClient, ["clientId": clientID.value])
        }
        return (FormParameters(stored.parameters), stored.signed)
    }
}
