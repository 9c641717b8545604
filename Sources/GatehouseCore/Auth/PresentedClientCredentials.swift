import Foundation

/// The client authentication a token request carried, before it is checked (RFC 6749 §2.3,
/// RFC 7523 §2.2). Parsing enforces "exactly one method".
public enum PresentedClientCredentials: Sendable, Hashable {
    case basic(ClientID, secret: String)
    case post(ClientID, secret: String)
    case assertion(type: String, jwt: String, claimedClientID: ClientID?)
    case none(ClientID)

    public static let jwtBearerAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

    public var method: ClientAuthMethod {
        switch self {
        case .basic: .clientSecretBasic
        case .post: .clientSecretPost
        case .assertion: .privateKeyJWT
        case .none: .none
        }
    }

    /// Whether the credentials came in the `Authorization` header (then a 401 carries `WWW-Authenticate`).
    public var usedAuthorizationHeader: Bool {
        if case .basic = self { return true }
        return false
    }

    /// The client the request names, when it names one without verification.
    public var claimedClientID: ClientID? {
        switch self {
        case .basic(let id, _), .post(let id, _), .none(let id): id
        case .assertion(_, _, let id): id
        }
    }

    /// The client a request names, for finding its tenant at `common`: the claimed client ID,
    /// or an assertion's unverified `sub` (verified later against the tenant found).
    public func clientIDForTenantDiscovery() throws(CatalogueError) -> ClientID {
        if let id = claimedClientID { return id }
        if case .assertion(_, let jwt, _) = self, let sub = try? ClientAssertionVerifier().unverifiedClaims(jwt).sub {
            return try ClientID(sub)
        }
        throw CatalogueError(Catalogue.missingTenantRealm)
    }

    /// Reads the credentials from the `Authorization` header and the form.
    public init(authorization: String?, form: FormParameters) throws(CatalogueError) {
        var methods: [String] = []
        var basic: (ClientID, String)? = nil
        if let authorization {
            let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            guard parts.count == 2, parts[0].lowercased() == "basic" else {
                throw CatalogueError(Catalogue.clientAuthenticationMissing, detail: "Authorization header is not Basic")
            }
            basic = try Self.decodeBasic(String(parts[1]))
            methods.append("client_secret_basic")
        }
        if form["client_secret"] != nil { methods.append("client_secret_post") }
        if form["client_assertion"] != nil || form["client_assertion_type"] != nil { methods.append("private_key_jwt") }
        guard methods.count <= 1 else {
            throw CatalogueError(Catalogue.multipleClientAuthentication, ["methods": methods.joined(separator: ", ")])
        }
        let bodyClientID: ClientID? = try form["client_id"].map { raw throws(CatalogueError) in try ClientID(raw) }
        if let (id, secret) = basic {
            if let bodyClientID, bodyClientID != id { throw CatalogueError(Catalogue.clientIdMismatch) }
            self = .basic(id, secret: secret)
        } else if let secret = form["client_secret"] {
            guard let bodyClientID else { throw CatalogueError(Catalogue.missingParameter, ["name": "client_id"]) }
            self = .post(bodyClientID, secret: secret)
        } else if methods.first == "private_key_jwt" {
            let type = try form.require("client_assertion_type")
            let jwt = try form.require("client_assertion")
            self = .assertion(type: type, jwt: jwt, claimedClientID: bodyClientID)
        } else if let bodyClientID {
            self = .none(bodyClientID)
        } else {
            throw CatalogueError(Catalogue.clientAuthenticationMissing)
        }
    }

    /// RFC 6749 §2.3.1 / RFC 7617: base64 of `id:secret`, each form-urlencoded.
    static func decodeBasic(_ encoded: String) throws(CatalogueError) -> (ClientID, String) {
        let trimmed = encoded.utf8.drop { $0 == 0x20 || $0 == 0x09 }.reversed().drop { $0 == 0x20 || $0 == 0x09 }.reversed()
        guard let data = Data(base64Encoded: String(decoding: trimmed, as: UTF8.self)),
            let colon = data.firstIndex(of: UInt8(ascii: ":")),
            let id = FormParameters.decode(Array(data[data.startIndex..<colon])[...]),
            let secret = FormParameters.decode(Array(data[(colon + 1)...])[...]),
            !id.isEmpty
        else {
            throw CatalogueError(Catalogue.clientAuthenticationMissing, detail: "malformed Basic credentials")
        }
        return (try ClientID(id), secret)
    }
}
