import Foundation

extension InMemoryStore {
    public func addPasskey(_ passkey: Passkey) async throws -> Bool {
        state.withLock { state in
            guard state.passkeys[passkey.tenant]?[passkey.credentialID] == nil else { return false }
            state.passkeys[passkey.tenant, default: [:]][passkey.credentialID] = passkey
            return true
        }
    }

    public func passkey(tenant: TenantName, credentialID: String) async throws -> Passkey? {
        state.withLock { $0.passkeys[tenant]?[credentialID] }
    }

    public func passkeys(tenant: TenantName, userID: String) async throws -> [Passkey] {
        state.withLock { state in
            (state.passkeys[tenant]?.values ?? [:].values).filter { $0.userID == userID }
                .sorted { ($0.createdAt, $0.credentialID) < ($1.createdAt, $1.credentialID) }
        }
    }

    public func recordPasskeyUse(
        tenant: TenantName, credentialID: String, previousCount: UInt32, signCount: UInt32, backedUp: Bool, counterRegressed: Bool,
        at: Date
    ) async throws -> Bool {
        state.withLock { state in
            guard var passkey = state.passkeys[tenant]?[credentialID], passkey.signCount == previousCount else { return false }
            passkey.signCount = signCount
            passkey.backedUp = backedUp
            passkey.counterRegressed = passkey.counterRegressed || counterRegressed
            passkey.lastUsedAt = at
            state.passkeys[tenant]?[credentialID] = passkey
            return true
        }
    }

    public func renamePasskey(tenant: TenantName, userID: String, credentialID: String, name: String) async throws -> Bool {
        state.withLock { state in
            guard var passkey = state.passkeys[tenant]?[credentialID], passkey.userID == userID else { return false }
            passkey.name = Passkey.name(name) ?? passkey.name
            state.passkeys[tenant]?[credentialID] = passkey
            return true
        }
    }

    public func removePasskey(tenant: TenantName, userID: String, credentialID: String) async throws -> Bool {
        state.withLock { state in
            guard state.passkeys[tenant]?[credentialID]?.userID == userID else { return false }
            state.passkeys[tenant]?[credentialID] = nil
            return true
        }
    }

    public func passkeyCount(tenant: TenantName, userID: String) async throws -> Int {
        state.withLock { state in (state.passkeys[tenant]?.values ?? [:].values).count { $0.userID == userID } }
    }

    public func setPasskeyPolicy(_ policy: PasskeyPolicy, tenant: TenantName) async throws -> Bool {
        try await updateTenant(tenant) { updated in
            updated.passkeyPolicy = policy
        }
    }
}
