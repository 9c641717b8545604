import Foundation

extension InMemoryStore {
    // MARK: Users

    public func createUser(_ user: User) async throws {
        try await countingChange {
            try state.withLock { state in
                if state.users[user.tenant]?.values.contains(where: { $0.username == user.username || $0.id == user.id }) == true {
                    throw StoreError.conflict("user \(user.username)")
                }
                if Self.addressTaken(by: user, in: state) { throw StoreError.conflict(StoreError.emailTaken) }
                state.users[user.tenant, default: [:]][user.id] = user
            }
        }
    }

    public func user(tenant: TenantName, username: Username) async throws -> User? {
        state.withLock { $0.users[tenant]?.values.first { $0.username == username } }
    }

    /// Whether another user of the tenant signs in with `user`'s address (email sign-in on).
    static func addressTaken(by user: User, in state: State) -> Bool {
        guard state.tenants[user.tenant]?.emailSignIn == true, let address = user.signInEmail else { return false }
        return state.users[user.tenant]?.values.contains { $0.id != user.id && $0.signInEmail == address } == true
    }

    public func user(tenant: TenantName, signInEmail: String) async throws -> User? {
        state.withLock { state in
            guard state.tenants[tenant]?.emailSignIn == true else { return nil }
            return state.users[tenant]?.values.first { $0.signInEmail == signInEmail }
        }
    }

    public func setEmailSignIn(_ on: Bool, tenant: TenantName) async throws -> EmailSignInChange {
        try await countingChange {
            state.withLock { state in
                guard state.tenants[tenant] != nil else { return .noSuchTenant }
                if on {
                    let users = state.users[tenant].map { Array($0.values) } ?? []
                    let shared = SignInAddresses(users.map { ($0.id, $0.email) }).shared
                    guard shared.isEmpty else { return .duplicates(shared) }
                }
                state.tenants[tenant]?.emailSignIn = on
                return .done
            }
        }
    }

    public func user(tenant: TenantName, id: String) async throws -> User? {
        state.withLock { $0.users[tenant]?[id] }
    }

    public func users(tenant: TenantName) async throws -> [User] {
        state.withLock { ($0.users[tenant].map { Array($0.values) } ?? []).sorted { $0.username.value < $1.username.value } }
    }

    public func updateUser(_ user: User) async throws -> Bool {
        try await countingChange {
            try state.withLock { state in
                guard state.users[user.tenant]?[user.id] != nil else { return false }
                if Self.addressTaken(by: user, in: state) { throw StoreError.conflict(StoreError.emailTaken) }
                state.users[user.tenant]?[user.id] = user
                return true
            }
        }
    }

    public func updateUser(_ user: User, ifCredentialsOf previous: User) async throws -> Bool {
        try await countingChange {
            try state.withLock { state in
                guard let stored = state.users[user.tenant]?[user.id], stored.enabled, stored.passwordHash == previous.passwordHash,
                    (stored.sealedTOTPSecret == nil) == (previous.sealedTOTPSecret == nil)
                else { return false }
                if Self.addressTaken(by: user, in: state) { throw StoreError.conflict(StoreError.emailTaken) }
                state.users[user.tenant]?[user.id] = user
                return true
            }
        }
    }

    public func countSignInAttempt(key: String, limit: Int, now: Date, resetBefore: Date) async throws -> Int {
        state.withLock { state in
            guard let existing = state.failures[key], existing.last >= resetBefore else {
                state.failures[key] = (1, now)
                return 1
            }
            state.failures[key] = (existing.count + 1, existing.count < limit ? now : existing.last)
            return existing.count + 1
        }
    }

    public func signInFailures(key: String, since: Date) async throws -> Int {
        state.withLock { state in state.failures[key].flatMap { $0.last >= since ? $0.count : nil } ?? 0 }
    }

    public func clearSignInFailures(key: String) async throws {
        _ = state.withLock { $0.failures.removeValue(forKey: key) }
    }

    public func purgeSignInFailures(before: Date, limit: Int) async throws -> Int {
        state.withLock { state in
            let expired = state.failures.filter { $0.value.last < before }.map(\.key).prefix(max(0, limit))
            for key in expired { state.failures[key] = nil }
            return expired.count
        }
    }

    // MARK: State

    public func putState(kind: String, key: String, value: String, expiresAt: Date) async throws {
        state.withLock { $0.stateValues[kind + "\u{0}" + key] = (value, expiresAt) }
    }

    public func state(kind: String, key: String, now: Date) async throws -> String? {
        state.withLock { state in state.stateValues[kind + "\u{0}" + key].flatMap { $0.expiresAt > now ? $0.value : nil } }
    }

    public func takeState(kind: String, key: String, now: Date) async throws -> String? {
        state.withLock { state in
            state.stateValues.removeValue(forKey: kind + "\u{0}" + key).flatMap { $0.expiresAt > now ? $0.value : nil }
        }
    }

    public func deleteState(kind: String, key: String) async throws -> Bool {
        state.withLock { $0.stateValues.removeValue(forKey: kind + "\u{0}" + key) != nil }
    }

    public func purgeState(now: Date, limit: Int) async throws -> Int {
        state.withLock { state in
            let expired = state.stateValues.filter { $0.value.expiresAt <= now }.map(\.key).prefix(max(0, limit))
            for key in expired { state.stateValues[key] = nil }
            return expired.count
        }
    }

    // MARK: Grants

    public func createGrant(_ grant: AuthorizationGrant) async throws {
        try state.withLock { state in
            guard state.grants[grant.id] == nil, state.grantsByCode[grant.codeHash] == nil else {
                throw StoreError.conflict("grant \(grant.id)")
            }
            state.grants[grant.id] = grant
            state.grantsByCode[grant.codeHash] = grant.id
        }
    }

    public func grant(id: String) async throws -> AuthorizationGrant? { state.withLock { $0.grants[id] } }

    public func redeemCode(hash: String, now: Date, binding: TokenBinding?) async throws -> CodeRedemption {
        state.withLock { state in
            guard let id = state.grantsByCode[hash], var grant = state.grants[id] else { return .unknown }
            guard grant.codeRedeemedAt == nil else { return .alreadyRedeemed(grant) }
            grant.codeRedeemedAt = now
            grant.lastUsedAt = now
            grant.binding = grant.binding ?? binding
            state.grants[id] = grant
            return .redeemed(grant)
        }
    }

    public func revokeGrant(id: String, now: Date) async throws -> Bool {
        state.withLock { state in
            guard var grant = state.grants[id], grant.revokedAt == nil else { return false }
            grant.revokedAt = now
            state.grants[id] = grant
            return true
        }
    }

    public func revokeGrants(tenant: TenantName, userID: String, clientID: ClientID, now: Date) async throws -> Int {
        state.withLock { state in
            let live = state.grants.values.filter {
                $0.tenant == tenant && $0.userID == userID && $0.clientID == clientID && $0.revokedAt == nil
            }
            for var grant in live {
                grant.revokedAt = now
                state.grants[grant.id] = grant
            }
            return live.count
        }
    }

    public func revokeGrants(tenant: TenantName, userID: String, now: Date) async throws -> Int {
        state.withLock { state in
            let live = state.grants.values.filter { $0.tenant == tenant && $0.userID == userID && $0.revokedAt == nil }
            for var grant in live {
                grant.revokedAt = now
                state.grants[grant.id] = grant
            }
            return live.count
        }
    }

    public func refreshToken(hash: String) async throws -> RefreshTokenRecord? { state.withLock { $0.refreshTokens[hash] } }

    public func addRefreshToken(hash: String, grantID: String, generation: Int, now: Date) async throws -> Bool {
        state.withLock { state in
            guard let grant = state.grants[grantID], grant.generation == generation, grant.revokedAt == nil,
                state.refreshTokens[hash] == nil
            else { return false }
            state.refreshTokens[hash] = RefreshTokenRecord(hash: hash, grantID: grantID, generation: generation, createdAt: now)
            return true
        }
    }

    public func rotate(grantID: String, from generation: Int, newHash: String, now: Date, origin: String?) async throws -> Bool {
        state.withLock { state in
            guard var grant = state.grants[grantID], grant.generation == generation, grant.revokedAt == nil else { return false }
            grant.generation += 1
            grant.rotatedAt = now
            grant.lastUsedAt = now
            state.grants[grantID] = grant
            state.refreshTokens[newHash] = RefreshTokenRecord(
                hash: newHash, grantID: grantID, generation: grant.generation, createdAt: now, origin: origin)
            return true
        }
    }

    public func purgeGrants(now: Date, endedBefore cutoff: Date, limit: Int) async throws -> Int {
        state.withLock { state in
            let doomed = state.grants.values.filter { grant in
                (grant.codeRedeemedAt == nil && grant.codeExpiresAt < now) || (grant.revokedAt.map { $0 < cutoff } ?? false)
                    || (grant.lastUsedAt.map { $0 < cutoff } ?? false)
            }.prefix(max(0, limit))
            for grant in doomed {
                state.grants[grant.id] = nil
                state.grantsByCode[grant.codeHash] = nil
            }
            let ids = Set(doomed.map(\.id))
            state.refreshTokens = state.refreshTokens.filter { !ids.contains($0.value.grantID) }
            return doomed.count
        }
    }
}
