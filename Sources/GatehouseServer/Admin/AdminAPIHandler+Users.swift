import Foundation
import GatehouseAdminAPI
import GatehouseCore
import OpenAPIRuntime

extension AdminAPIHandler {
    func listUsers(_ input: Operations.ListUsers.Input) async throws -> Operations.ListUsers.Output {
        let (admin, name) = try tenant(input.path.tenant)
        let page = try await admin.users(tenant: name, cursor: input.query.cursor, limit: input.query.limit ?? 50)
        var items: [Schemas.User] = []
        for user in page.items { items.append(try await AdminViews.user(user, store: store)) }
        return .ok(.init(body: .json(.init(items: items, nextCursor: page.next))))
    }

    func createUser(_ input: Operations.CreateUser.Input) async throws -> Operations.CreateUser.Output {
        let (admin, name) = try tenant(input.path.tenant)
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let user = try await admin.createUser(
            tenant: name, username: body.username, email: body.email, displayName: body.displayName, password: body.password,
            passwords: passwords, emailVerified: body.emailVerified ?? false, language: body.language?.rawValue)
        return .created(.init(body: .json(try await AdminViews.user(user, store: store))))
    }

    func getUser(_ input: Operations.GetUser.Input) async throws -> Operations.GetUser.Output {
        let (admin, name) = try tenant(input.path.tenant)
        return .ok(.init(body: .json(try await AdminViews.user(try await admin.findUser(tenant: name, input.path.user), store: store))))
    }

    func updateUser(_ input: Operations.UpdateUser.Input) async throws -> Operations.UpdateUser.Output {
        let (admin, name) = try tenant(input.path.tenant)
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        var user = try await admin.findUser(tenant: name, input.path.user)
        if let enabled = body.enabled, enabled != user.enabled {
            user = try await admin.setEnabled(tenant: name, user: user.id, enabled: enabled)
        }
        if body.email != nil || body.displayName != nil || body.emailVerified != nil || body.language != nil {
            user = try await admin.updateUser(
                tenant: name, user: user.id, email: body.email.map { $0.isEmpty ? nil : $0 }, displayName: body.displayName,
                emailVerified: body.emailVerified, language: body.language?.rawValue)
        }
        return .ok(.init(body: .json(try await AdminViews.user(user, store: store))))
    }

    func resetUserPassword(_ input: Operations.ResetUserPassword.Input) async throws -> Operations.ResetUserPassword.Output {
        let (admin, name) = try tenant(input.path.tenant)
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        _ = try await admin.setPassword(tenant: name, user: input.path.user, password: body.password, passwords: passwords)
        return .noContent(.init())
    }

    func resetUserSecondFactor(_ input: Operations.ResetUserSecondFactor.Input) async throws -> Operations.ResetUserSecondFactor.Output {
        let (admin, name) = try tenant(input.path.tenant)
        _ = try await admin.removeTOTP(tenant: name, user: input.path.user)
        return .noContent(.init())
    }

    func assignUserRole(_ input: Operations.AssignUserRole.Input) async throws -> Operations.AssignUserRole.Output {
        let (admin, name) = try tenant(input.path.tenant)
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        _ = try await admin.assignRole(tenant: name, user: input.path.user, api: body.api, role: body.role)
        return .ok(.init(body: .json(try await AdminViews.user(try await admin.findUser(tenant: name, input.path.user), store: store))))
    }

    func unassignUserRole(_ input: Operations.UnassignUserRole.Input) async throws -> Operations.UnassignUserRole.Output {
        let (admin, name) = try tenant(input.path.tenant)
        try await admin.unassignRole(tenant: name, user: input.path.user, api: input.path.api, role: input.path.role)
        return .noContent(.init())
    }
}

extension AdminAPIHandler {
    func listUserSessions(_ input: Operations.ListUserSessions.Input) async throws -> Operations.ListUserSessions.Output {
        let (admin, name) = try tenant(input.path.tenant)
        // Newest first, a page at a time.
        let sessions = try await admin.sessions(tenant: name, user: input.path.user).sorted {
            Self.sortKey($0.authTime, descending: true) + $0.sid < Self.sortKey($1.authTime, descending: true) + $1.sid
        }
        let page = try Page.slice(sessions, after: input.query.cursor, limit: input.query.limit ?? 50) {
            Self.sortKey($0.authTime, descending: true) + $0.sid
        }
        return .ok(
            .init(
                body: .json(
                    .init(
                        items: page.items.map {
                            Schemas.Session(
                                sid: $0.sid, authTime: $0.authTime, lastUsedAt: $0.lastUsedAt, expiresAt: $0.expiresAt, amr: $0.amr,
                                clientIp: $0.clientIP, userAgent: $0.userAgent)
                        }, nextCursor: page.next))))
    }

    func listUserPasskeys(_ input: Operations.ListUserPasskeys.Input) async throws -> Operations.ListUserPasskeys.Output {
        let (admin, name) = try tenant(input.path.tenant)
        let user = try await admin.findUser(tenant: name, input.path.user)
        return .ok(.init(body: .json(.init(items: try await admin.passkeys(tenant: name, userID: user.id).map(AdminViews.passkey)))))
    }

    func removeUserPasskey(_ input: Operations.RemoveUserPasskey.Input) async throws -> Operations.RemoveUserPasskey.Output {
        let (admin, name) = try tenant(input.path.tenant)
        let user = try await admin.findUser(tenant: name, input.path.user)
        try await admin.removePasskey(tenant: try await admin.tenant(name), user: user, credentialID: input.path.credential)
        return .noContent(.init())
    }

    func endUserSessions(_ input: Operations.EndUserSessions.Input) async throws -> Operations.EndUserSessions.Output {
        let (admin, name) = try tenant(input.path.tenant)
        _ = try await admin.endSessions(tenant: name, user: input.path.user, sid: nil)
        return .noContent(.init())
    }

    func endUserSession(_ input: Operations.EndUserSession.Input) async throws -> Operations.EndUserSession.Output {
        let (admin, name) = try tenant(input.path.tenant)
        _ = try await admin.endSessions(tenant: name, user: input.path.user, sid: input.path.sid)
        return .noContent(.init())
    }

    func listUserConsents(_ input: Operations.ListUserConsents.Input) async throws -> Operations.ListUserConsents.Output {
        let (admin, name) = try tenant(input.path.tenant)
        let consents = try await admin.consents(tenant: name, user: input.path.user).sorted { $0.clientID < $1.clientID }
        let page = try Page.slice(consents, after: input.query.cursor, limit: input.query.limit ?? 50) { $0.clientID }
        return .ok(
            .init(
                body: .json(
                    .init(
                        items: page.items.map {
                            Schemas.Consent(
                                clientId: $0.clientID, scopes: $0.scope.tokens, grantedAt: $0.grantedAt, expiresAt: $0.expiresAt)
                        }, nextCursor: page.next))))
    }

    func revokeUserConsent(_ input: Operations.RevokeUserConsent.Input) async throws -> Operations.RevokeUserConsent.Output {
        let (admin, name) = try tenant(input.path.tenant)
        try await admin.revokeConsent(tenant: name, user: input.path.user, client: try Self.clientID(input.path.client))
        return .noContent(.init())
    }
}
