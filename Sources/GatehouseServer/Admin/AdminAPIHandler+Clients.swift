import Foundation
import GatehouseAdminAPI
import GatehouseCore
import OpenAPIRuntime

extension AdminAPIHandler {
    func listClients(_ input: Operations.ListClients.Input) async throws -> Operations.ListClients.Output {
        let (admin, name) = try tenant(input.path.tenant)
        let page = try await admin.clients(tenant: name, cursor: input.query.cursor, limit: input.query.limit ?? 50)
        var items: [Schemas.Client] = []
        for client in page.items { items.append(try await AdminViews.client(client, store: store)) }
        return .ok(.init(body: .json(.init(items: items, nextCursor: page.next))))
    }

    func createClient(_ input: Operations.CreateClient.Input) async throws -> Operations.CreateClient.Output {
        let (admin, name) = try tenant(input.path.tenant)
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        var spec = Administration.ClientSpec(
            id: try body.clientId.map { raw in
                do { return try ClientID(raw) } catch {
                    throw Administration.AdministrationError.invalid("client_id", "format", "'\(raw)' is not a valid client ID")
                }
            }, name: body.name)
        spec.type = body._type == ._public ? .public : .confidential
        if let methods = body.authMethods { spec.authMethods = try Administration.parseAuthMethods(methods.map(\.rawValue)) }
        if let grants = body.grantTypes { spec.grantTypes = try Administration.parseGrantTypes(grants.map(\.rawValue)) }
        spec.allowedScopes = try Administration.parseScopes(body.scopes ?? [])
        if let defaults = body.defaultScopes { spec.defaultScopes = try Administration.parseScopes(defaults, field: "default_scopes") }
        spec.allowedResources = try Administration.parseResources(body.resources ?? [])
        spec.redirectURIs = body.redirectUris ?? []
        spec.postLogoutRedirectURIs = body.postLogoutRedirectUris ?? []
        spec.firstParty = body.firstParty ?? false
        spec.backchannelLogoutURI = body.backchannelLogoutUri
        spec.backchannelLogoutSessionRequired = body.backchannelLogoutSessionRequired ?? false
        spec.requirePushedAuthorizationRequests = body.requirePushedAuthorizationRequests ?? false
        spec.requireSignedRequestObject = body.requireSignedRequestObject ?? false
        spec.requireDPoP = body.dpopBoundAccessTokens ?? false
        if let jwks = body.jwks { spec.jwks = try AdminViews.text(jwks) }
        for pem in body.certificates ?? [] {
            guard let first = ClientCertificate.pemBlocks(pem).first else {
                throw Administration.AdministrationError.invalid("certificates", "format", "a certificate is not a PEM block")
            }
            spec.certificates.append(first)
        }
        if let days = body.secretLifetimeDays {
            guard days > 0, days <= 3650 else {
                throw Administration.AdministrationError.invalid(
                    "secret_lifetime_days", "range", "a secret lives more than 0 and up to 3650 days")
            }
            spec.secretLifetime = days * 86_400
        }
        let (client, secret) = try await admin.createClient(tenant: name, spec: spec)
        return .created(
            .init(
                body: .json(
                    .init(
                        client: try await AdminViews.client(client, store: store), clientSecret: secret?.value,
                        secretId: secret?.record.secretID))))
    }

    func getClient(_ input: Operations.GetClient.Input) async throws -> Operations.GetClient.Output {
        let (admin, name) = try tenant(input.path.tenant)
        let client = try await admin.client(tenant: name, id: try Self.clientID(input.path.client))
        return .ok(.init(body: .json(try await AdminViews.client(client, store: store))))
    }

    func updateClient(_ input: Operations.UpdateClient.Input) async throws -> Operations.UpdateClient.Output {
        let (admin, name) = try tenant(input.path.tenant)
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        var change = Administration.ClientChange()
        change.name = body.name
        if let methods = body.authMethods { change.authMethods = try Administration.parseAuthMethods(methods.map(\.rawValue)) }
        if let grants = body.grantTypes { change.grantTypes = try Administration.parseGrantTypes(grants.map(\.rawValue)) }
        if let scopes = body.scopes { change.scopes = try Administration.parseScopes(scopes) }
        if let defaults = body.defaultScopes { change.defaultScopes = try Administration.parseScopes(defaults, field: "default_scopes") }
        change.resources = try Administration.parseResources(body.resources ?? [])
        change.redirectURIs = body.redirectUris
        change.postLogoutRedirectURIs = body.postLogoutRedirectUris
        if let jwks = body.jwks { change.jwks = .some(try AdminViews.text(jwks)) }
        change.enabled = body.enabled
        change.firstParty = body.firstParty
        // An empty URI removes it.
        if let uri = body.backchannelLogoutUri { change.backchannelLogoutURI = .some(uri.isEmpty ? nil : uri) }
        change.backchannelLogoutSessionRequired = body.backchannelLogoutSessionRequired
        change.requirePushedAuthorizationRequests = body.requirePushedAuthorizationRequests
        change.requireSignedRequestObject = body.requireSignedRequestObject
        change.requireDPoP = body.dpopBoundAccessTokens
        let client = try await admin.updateClient(tenant: name, id: try Self.clientID(input.path.client), change: change)
        return .ok(.init(body: .json(try await AdminViews.client(client, store: store))))
    }

    func deleteClient(_ input: Operations.DeleteClient.Input) async throws -> Operations.DeleteClient.Output {
        let (admin, name) = try tenant(input.path.tenant)
        _ = try await admin.removeClient(tenant: name, id: try Self.clientID(input.path.client))
        return .noContent(.init())
    }

    func addClientSecret(_ input: Operations.AddClientSecret.Input) async throws -> Operations.AddClientSecret.Output {
        let (admin, name) = try tenant(input.path.tenant)
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        var lifetime: TimeInterval? = nil
        if let days = body.lifetimeDays {
            guard days > 0, days <= 3650 else {
                throw Administration.AdministrationError.invalid("lifetime_days", "range", "a secret lives more than 0 and up to 3650 days")
            }
            lifetime = days * 86_400
        }
        let secret = try await admin.addSecret(tenant: name, clientID: try Self.clientID(input.path.client), lifetime: lifetime)
        return .created(
            .init(
                body: .json(.init(secretId: secret.record.secretID, clientSecret: secret.value, expiresAt: secret.record.expiresAt))))
    }

    func listInitialAccessTokens(_ input: Operations.ListInitialAccessTokens.Input) async throws
        -> Operations.ListInitialAccessTokens.Output
    {
        let (admin, name) = try tenant(input.path.tenant)
        return .ok(.init(body: .json(try await admin.initialAccessTokens(tenant: name).map(AdminViews.initialAccessToken))))
    }

    func createInitialAccessToken(_ input: Operations.CreateInitialAccessToken.Input) async throws
        -> Operations.CreateInitialAccessToken.Output
    {
        let (admin, name) = try tenant(input.path.tenant)
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let created = try await admin.createInitialAccessToken(
            tenant: name, label: body.label ?? "", lifetime: TimeInterval(body.lifetimeHours ?? 168) * 3_600, uses: body.uses ?? 1)
        return .created(.init(body: .json(.init(token: AdminViews.initialAccessToken(created.token), value: created.value))))
    }

    func deleteInitialAccessToken(_ input: Operations.DeleteInitialAccessToken.Input) async throws
        -> Operations.DeleteInitialAccessToken.Output
    {
        let (admin, name) = try tenant(input.path.tenant)
        try await admin.removeInitialAccessToken(tenant: name, id: input.path.tokenId)
        return .noContent(.init())
    }

    func deleteClientSecret(_ input: Operations.DeleteClientSecret.Input) async throws -> Operations.DeleteClientSecret.Output {
        let (admin, name) = try tenant(input.path.tenant)
        try await admin.removeSecret(tenant: name, clientID: try Self.clientID(input.path.client), secretID: input.path.secret)
        return .noContent(.init())
    }

    func addClientCertificate(_ input: Operations.AddClientCertificate.Input) async throws -> Operations.AddClientCertificate.Output {
        let (admin, name) = try tenant(input.path.tenant)
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let id = try Self.clientID(input.path.client)
        _ = try await admin.addCertificate(tenant: name, clientID: id, pem: body.pem)
        return .ok(.init(body: .json(try await AdminViews.client(try await admin.client(tenant: name, id: id), store: store))))
    }

    func deleteClientCertificate(_ input: Operations.DeleteClientCertificate.Input) async throws
        -> Operations.DeleteClientCertificate.Output
    {
        let (admin, name) = try tenant(input.path.tenant)
        let client = try await admin.removeCertificate(
            tenant: name, clientID: try Self.clientID(input.path.client), thumbprint: input.path.thumbprint)
        return .ok(.init(body: .json(try await AdminViews.client(client, store: store))))
    }

    func grantClientAccess(_ input: Operations.GrantClientAccess.Input) async throws -> Operations.GrantClientAccess.Output {
        let (admin, name) = try tenant(input.path.tenant)
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let access = try await admin.grant(
            tenant: name, clientID: try Self.clientID(input.path.client), api: body.api, permissions: body.permissions ?? [],
            roles: body.roles ?? [])
        return .ok(.init(body: .json(AdminViews.access(access))))
    }

    func revokeClientAccess(_ input: Operations.RevokeClientAccess.Input) async throws -> Operations.RevokeClientAccess.Output {
        let (admin, name) = try tenant(input.path.tenant)
        let id = try Self.clientID(input.path.client)
        let api = try await admin.api(tenant: name, input.path.api)
        guard try await store.access(tenant: name, clientID: id).contains(where: { $0.api == api.applicationID }) else {
            throw Administration.AdministrationError.notFound("grant", "\(api.applicationID) to \(id)", tenant: name)
        }
        _ = try await admin.revoke(tenant: name, clientID: id, api: input.path.api, permissions: [], roles: [])
        return .noContent(.init())
    }
}
