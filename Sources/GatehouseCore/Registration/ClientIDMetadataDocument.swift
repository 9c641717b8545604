import Foundation

/// Client ID metadata documents (draft-ietf-oauth-client-id-metadata-document): a `client_id`
/// that is an https URL with a path names the JSON document at that URL, which describes a
/// public client. Its `client_id` member must equal the URL; the rest is read as RFC 7591
/// metadata under the open policy (token_endpoint_auth_method none, loopback or https
/// redirect URIs).
public enum ClientIDMetadataDocument {
    /// Whether `clientID` has the form of a document URL: https, a host, a path other than
    /// `/`, no user information, fragment, or `.`/`..` segments.
    public static func isCandidate(_ clientID: String) -> Bool {
        guard clientID.hasPrefix("https://"), let url = URLComponents(string: clientID), let host = url.host, !host.isEmpty,
            url.user == nil, url.password == nil, url.fragment == nil
        else { return false }
        let path = url.percentEncodedPath
        guard path.count > 1 else { return false }
        return !path.split(separator: "/", omittingEmptySubsequences: false).contains { $0 == "." || $0 == ".." }
    }

    /// The host shown to users on the consent page for a client named by `clientID`, if it is a
    /// document URL.
    public static func host(of clientID: String) -> String? {
        guard isCandidate(clientID) else { return nil }
        return URLComponents(string: clientID)?.host?.lowercased()
    }

    /// The public client the fetched document describes.
    public static func client(document: FetchedDocument, url: String, tenant: TenantName, now: Date) throws(CatalogueError) -> Client {
        let shown = RecordedValue.cut(url, to: 200)
        func refuse(_ reason: String) -> CatalogueError {
            CatalogueError(Catalogue.clientMetadataDocumentInvalid, ["url": shown, "reason": reason])
        }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(document.body))) as? [String: Any] else {
            throw refuse("it is not a JSON object")
        }
        guard let stated = object["client_id"] as? String else { throw refuse("it has no client_id member") }
        guard stated == url else { throw refuse("its client_id '\(RecordedValue.cut(stated, to: 200))' is not its URL") }
        if let method = object["token_endpoint_auth_method"] as? String, method != "none" {
            throw refuse("token_endpoint_auth_method must be none (a document describes a public client)")
        }
        for secretMember in ["client_secret", "client_secret_expires_at"] where object[secretMember] != nil {
            throw refuse("it holds \(secretMember), which a public document must not")
        }
        let metadata: ClientMetadata
        do {
            metadata = try ClientMetadata(object: object, policy: .open)
        } catch {
            throw refuse((error.parameters["field"].map { "\($0): " } ?? "") + (error.parameters["reason"] ?? "its metadata is invalid"))
        }
        guard let id = try? ClientID(url) else { throw refuse("its URL is longer than 255 characters") }
        // A document carries no keys Gatehouse keeps: it cannot promise signed request objects.
        if metadata.requireSignedRequestObject {
            throw refuse("require_signed_request_object needs keys, which a document client has none of")
        }
        let scopes = metadata.openIDConnectScopes
        let allowed = scopes.isEmpty ? Administration.ClientSpec.signInScopes : scopes
        var client = Client(
            tenant: tenant, id: id, name: metadata.clientName ?? (host(of: url) ?? "client"), type: .public, authMethods: [.none],
            grantTypes: Set(metadata.grantTypes), allowedScopes: allowed, defaultScopes: allowed, redirectURIs: metadata.redirectURIs,
            createdAt: now)
        client.source = .metadataDocument
        client.requirePushedAuthorizationRequests = metadata.requirePushedAuthorizationRequests
        client.requireDPoP = metadata.dpopBoundAccessTokens
        return client
    }
}
