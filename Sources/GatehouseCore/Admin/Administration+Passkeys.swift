import Foundation

/// Passkeys as the user (the account page) and an administrator (the CLI and the admin API) see
/// and change them: each change audited, and the user told by mail.
extension Administration {
    /// What the audit log keeps of a passkey: never more than its public description.
    static func auditView(_ passkey: Passkey) -> String? {
        AuditView.keys([
            "credential_id": passkey.credentialID, "name": passkey.name, "aaguid": passkey.aaguid,
            "backup_eligible": String(passkey.backupEligible), "attestation": passkey.attestationFormat,
        ])
    }

    /// Records a passkey the user just registered on the account page (stored by then) and tells them.
    public func passkeyAdded(_ passkey: Passkey, user: User, tenant: Tenant) async throws {
        try await audit("user.passkey.add", tenant: tenant.name, target: user.id, after: Self.auditView(passkey))
        try await notify(.passkeyAdded, user: user, tenantName: tenant.displayName)
    }

    /// The user renames one of their passkeys; false when they have none by that ID or the name is empty.
    public func renameOwnPasskey(user: User, credentialID: String, name: String) async throws -> Bool {
        guard let name = Passkey.name(name), let passkey = try await store.passkey(tenant: user.tenant, credentialID: credentialID),
            passkey.userID == user.id
        else { return false }
        guard try await store.renamePasskey(tenant: user.tenant, userID: user.id, credentialID: credentialID, name: name) else {
            return false
        }
        try await audit(
            "user.passkey.rename", tenant: user.tenant, target: user.id, before: AuditView.keys(["name": passkey.name]),
            after: AuditView.keys(["credential_id": credentialID, "name": name]))
        return true
    }

    /// Removes one of `user`'s passkeys (the user on the account page, after a fresh sign-in, or
    /// an administrator); 404 when the user has none by that ID. Like removing TOTP, it ends every
    /// session of the user and revokes their grants (a session the removed passkey began, on a
    /// stolen device, must not outlive it); the account page signs its own browser in again.
    /// The user is told by mail. Returns the user as changed.
    @discardableResult
    public func removePasskey(tenant: Tenant, user: User, credentialID: String) async throws -> User {
        guard let passkey = try await store.passkey(tenant: tenant.name, credentialID: credentialID), passkey.userID == user.id,
            try await store.removePasskey(tenant: tenant.name, userID: user.id, credentialID: credentialID)
        else {
            throw CatalogueError(
                Catalogue.adminObjectNotFound, ["reason": "no passkey \(credentialID.prefix(64)) for user \(user.username.value)"])
        }
        var changed = user
        changed.updatedAt = time.now()
        let revoked = try await saveEndingSessions(&changed)
        _ = try await store.endSessions(tenant: tenant.name.value, userID: user.id, sid: nil)
        try await audit(
            "user.passkey.remove", tenant: tenant.name, target: user.id, before: Self.auditView(passkey),
            after: AuditView.keys(["revoked_grants": String(revoked)]))
        try? await notify(.passkeyRemoved, user: user, tenantName: tenant.displayName)
        return changed
    }

    /// A user's passkeys (administrators: the CLI and the admin API).
    public func passkeys(tenant: TenantName, userID: String) async throws -> [Passkey] {
        try await store.passkeys(tenant: tenant, userID: userID)
    }
}
