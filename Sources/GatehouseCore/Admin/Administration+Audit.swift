import Foundation

/// Every change the service makes is written to the audit log (`AuditStore`) with the acting
/// principal, the request's trace ID and source address, and secret-free views of the object
/// before and after (`AuditView`).
extension Administration {
    /// The same service acting for another principal (an admin API caller), with the request's
    /// trace ID and source address for the audit log.
    public func acting(as actor: AdminActor, traceID: String?, source: String?) -> Administration {
        var copy = self
        copy.actor = actor
        copy.traceID = traceID
        copy.source = source
        return copy
    }

    /// Writes one audit entry. `before` and `after` are `AuditView` texts.
    func audit(_ action: String, tenant: TenantName, target: String, before: String? = nil, after: String? = nil) async throws {
        let now = time.now()
        try await store.appendAudit(
            AuditEntry(
                id: TraceID.make(now: now, random: random), at: now, tenant: tenant, actor: actor.description, action: action,
                target: target, before: before, after: after, traceID: traceID, source: source))
    }

    /// The audit log, newest first, a page at a time (`cursor` from the previous page).
    public func auditLog(tenant: TenantName?, action: String? = nil, target: String? = nil, cursor: String?, limit: Int) async throws
        -> Page<AuditEntry>
    {
        let limit = PageCursor.limit(limit)
        let rows = try await store.auditEntries(
            AuditQuery(tenant: tenant, action: action, target: target, before: try PageCursor.key(cursor), limit: limit + 1))
        let items = Array(rows.prefix(limit))
        return Page(items: items, next: rows.count > limit ? items.last.map { PageCursor.encode($0.id) } : nil)
    }
}

/// The secret-free JSON views of what the service changes, as the audit log keeps them: no
/// secret, hash, sealed seed or private key, only what identifies them (a secret's ID, a key's kid).
public enum AuditView {
    static func text(_ object: [String: Any]) -> String? {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return nil
        }
        return String(decoding: data, as: UTF8.self)
    }

    public static func tenant(_ tenant: Tenant) -> String? {
        var object: [String: Any] = [
            "name": tenant.name.value, "id": tenant.guid, "display_name": tenant.displayName,
            "signing_algorithm": tenant.signingAlgorithm.rawValue, "access_token_lifetime": tenant.accessTokenLifetime,
            "sign_in_log": tenant.signInLog.rawValue, "email_sign_in": tenant.emailSignIn, "verify_email": tenant.verifyEmail,
        ]
        if let interval = tenant.keyRotationInterval { object["key_rotation_seconds"] = Int(interval) }
        object["registration"] = tenant.registration.rawValue
        if !tenant.registrationDomains.isEmpty { object["registration_domains"] = tenant.registrationDomains }
        if let color = tenant.branding.primaryColor { object["primary_color"] = color }
        if let contact = tenant.branding.supportContact { object["support_contact"] = contact }
        if let digest = tenant.branding.logoDigest { object["logo_sha256"] = digest }
        object["passkey_policy"] = tenant.passkeyPolicy.stored
        object["require_pushed_authorization_requests"] = tenant.requirePushedAuthorizationRequests
        object["require_dpop_nonce"] = tenant.requireDPoPNonce
        return text(object)
    }

    public static func client(_ client: Client) -> String? {
        var object: [String: Any] = [
            "client_id": client.id.value, "name": client.name, "type": client.type.rawValue,
            "auth_methods": client.authMethods.map(\.rawValue).sorted(), "grant_types": client.grantTypes.map(\.rawValue).sorted(),
            "scopes": client.allowedScopes.tokens, "default_scopes": client.defaultScopes.tokens, "redirect_uris": client.redirectURIs,
            "post_logout_redirect_uris": client.postLogoutRedirectURIs, "has_jwks": client.jwks != nil, "enabled": client.enabled,
            "first_party": client.firstParty,
            "certificates": client.certificates.compactMap { (try? ClientCertificate(pem: $0)).map { Base64URL.encode($0.sha256) } },
            "require_pushed_authorization_requests": client.requirePushedAuthorizationRequests,
            "require_signed_request_object": client.requireSignedRequestObject,
            "dpop_bound_access_tokens": client.requireDPoP,
        ]
        if let uri = client.backchannelLogoutURI {
            object["backchannel_logout_uri"] = uri
            object["backchannel_logout_session_required"] = client.backchannelLogoutSessionRequired
        }
        return text(object)
    }

    public static func secret(_ record: ClientSecretRecord) -> String? {
        var object: [String: Any] = ["client_id": record.clientID.value, "secret_id": record.secretID]
        if let expiry = record.expiresAt { object["expires_at"] = Int(expiry.timeIntervalSince1970) }
        return text(object)
    }

    public static func api(_ api: API) -> String? {
        var object: [String: Any] = [
            "application_id": api.applicationID.value, "display_name": api.displayName, "identifiers": api.identifiers.map(\.value),
            "permissions": api.permissions.map(\.name), "roles": api.roles.map(\.name),
        ]
        if let lifetime = api.accessTokenLifetime { object["access_token_lifetime"] = lifetime }
        return text(object)
    }

    public static func access(_ access: APIAccess?) -> String? {
        guard let access else { return nil }
        return text([
            "client_id": access.clientID.value, "api": access.api.value, "permissions": access.permissions, "roles": access.roles,
        ])
    }

    public static func user(_ user: User) -> String? {
        var object: [String: Any] = [
            "id": user.id, "username": user.username.value, "display_name": user.displayName, "enabled": user.enabled,
            "second_factor": user.sealedTOTPSecret != nil,
        ]
        if let email = user.email {
            object["email"] = email
            object["email_verified"] = user.emailVerified
        }
        if let language = user.language { object["language"] = language }
        return text(object)
    }

    public static func assignment(_ assignment: RoleAssignment) -> String? {
        text(["user_id": assignment.userID, "api": assignment.api.value, "role": assignment.role])
    }

    public static func keys(_ values: [String: String?]) -> String? { text(values.compactMapValues { $0 }) }
}
