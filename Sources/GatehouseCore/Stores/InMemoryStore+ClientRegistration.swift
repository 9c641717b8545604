import Foundation

extension InMemoryStore {
    public func addClientRegistration(_ record: ClientRegistrationRecord) async throws {
        try await countingChange {
            try state.withLock { state in
                guard state.clientRegistrations[record.tenant]?[record.clientID] == nil else {
                    throw StoreError.conflict("client registration \(record.clientID)")
                }
                state.clientRegistrations[record.tenant, default: [:]][record.clientID] = record
            }
        }
    }

    public func clientRegistration(tenant: TenantName, clientID: ClientID) async throws -> ClientRegistrationRecord? {
        state.withLock { $0.clientRegistrations[tenant]?[clientID] }
    }

    public func clientRegistrations(tenant: TenantName) async throws -> [ClientRegistrationRecord] {
        state.withLock { state in
            (state.clientRegistrations[tenant].map { Array($0.values) } ?? []).sorted { $0.clientID.value < $1.clientID.value }
        }
    }

    public func replaceClientRegistration(_ record: ClientRegistrationRecord, expectedTokenHash: String) async throws -> Bool {
        try await countingChange {
            state.withLock { state in
                guard var stored = state.clientRegistrations[record.tenant]?[record.clientID], stored.tokenHash == expectedTokenHash
                else { return false }
                stored.tokenHash = record.tokenHash
                stored.metadata = record.metadata
                stored.updatedAt = record.updatedAt
                state.clientRegistrations[record.tenant]?[record.clientID] = stored
                return true
            }
        }
    }

    public func addInitialAccessToken(_ token: InitialAccessToken) async throws {
        state.withLock { state in state.initialAccessTokens[token.tenant, default: [:]][token.id] = token }
    }

    public func initialAccessTokens(tenant: TenantName) async throws -> [InitialAccessToken] {
        state.withLock { state in
            (state.initialAccessTokens[tenant].map { Array($0.values) } ?? []).sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
        }
    }

    public func spendInitialAccessToken(tenant: TenantName, hash: String, now: Date) async throws -> InitialAccessToken? {
        state.withLock { state in
            guard var token = state.initialAccessTokens[tenant]?.values.first(where: { $0.hash == hash }), token.usesLeft > 0,
                token.expiresAt > now
            else { return nil }
            token.usesLeft -= 1
            state.initialAccessTokens[tenant]?[token.id] = token
            return token
        }
    }

    public func removeInitialAccessToken(tenant: TenantName, id: String) async throws -> Bool {
        state.withLock { $0.initialAccessTokens[tenant]?.removeValue(forKey: id) != nil }
    }
}
