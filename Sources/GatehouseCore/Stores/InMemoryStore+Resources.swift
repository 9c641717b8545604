import Foundation

extension InMemoryStore {
    /// The identifier of `api` that another API of its tenant has, if any.
    private static func takenIdentifier(_ api: API, in state: State) -> String? {
        let others = (state.apis[api.tenant] ?? [:]).values.filter { $0.applicationID != api.applicationID }
        return api.identifiers.first { identifier in others.contains { $0.identifiers.contains(identifier) } }?.value
    }

    public func createAPI(_ api: API) async throws {
        try await countingChange {
            try state.withLock { state in
                guard state.apis[api.tenant]?[api.applicationID] == nil else { throw StoreError.conflict("API \(api.applicationID)") }
                if let taken = Self.takenIdentifier(api, in: state) { throw StoreError.conflict("API identifier \(taken)") }
                state.apis[api.tenant, default: [:]][api.applicationID] = api
            }
        }
    }

    public func api(tenant: TenantName, applicationID: ClientID) async throws -> API? {
        state.withLock { $0.apis[tenant]?[applicationID] }
    }

    public func api(tenant: TenantName, identifier: String) async throws -> API? {
        state.withLock { state in (state.apis[tenant] ?? [:]).values.first { $0.identifiers.contains { $0.value == identifier } } }
    }

    public func apis(tenant: TenantName) async throws -> [API] {
        state.withLock { ($0.apis[tenant] ?? [:]).values.sorted { $0.applicationID.value < $1.applicationID.value } }
    }

    public func updateAPI(_ api: API) async throws -> Bool {
        try await countingChange {
            try state.withLock { state in
                guard let existing = state.apis[api.tenant]?[api.applicationID] else { return false }
                if let taken = Self.takenIdentifier(api, in: state) { throw StoreError.conflict("API identifier \(taken)") }
                let updated = API(
                    tenant: existing.tenant, applicationID: existing.applicationID, displayName: api.displayName,
                    identifiers: api.identifiers, permissions: api.permissions, roles: api.roles,
                    accessTokenLifetime: api.accessTokenLifetime, createdAt: existing.createdAt)
                state.apis[api.tenant]?[api.applicationID] = updated
                return true
            }
        }
    }

    public func removeAPI(tenant: TenantName, applicationID: ClientID) async throws -> Bool {
        try await countingChange {
            state.withLock { state in
                guard state.apis[tenant]?.removeValue(forKey: applicationID) != nil else { return false }
                for client in (state.access[tenant] ?? [:]).keys { state.access[tenant]?[client]?.removeAll { $0.api == applicationID } }
                state.roleAssignments.removeAll { $0.tenant == tenant && $0.api == applicationID }
                return true
            }
        }
    }

    public func setAccess(_ access: APIAccess) async throws -> Bool {
        try await countingChange {
            state.withLock { state in
                guard state.apis[access.tenant]?[access.api] != nil else { return false }
                // A new grant goes last; a changed one keeps its place (the first is the default audience).
                var list = state.access[access.tenant]?[access.clientID] ?? []
                if let index = list.firstIndex(where: { $0.api == access.api }) { list[index] = access } else { list.append(access) }
                state.access[access.tenant, default: [:]][access.clientID] = list
                return true
            }
        }
    }

    public func access(tenant: TenantName, clientID: ClientID) async throws -> [APIAccess] {
        state.withLock { $0.access[tenant]?[clientID] ?? [] }
    }

    public func removeAccess(tenant: TenantName, clientID: ClientID, api: ClientID) async throws -> Bool {
        try await countingChange {
            state.withLock { state in
                guard let index = state.access[tenant]?[clientID]?.firstIndex(where: { $0.api == api }) else { return false }
                state.access[tenant]?[clientID]?.remove(at: index)
                return true
            }
        }
    }
}
