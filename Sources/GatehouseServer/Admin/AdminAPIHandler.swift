import Foundation
import GatehouseAdminAPI
import GatehouseCore
import OpenAPIRuntime

/// The admin API's operations (openapi/admin.yaml), each a call of the administration service
/// acting for the caller (`AdminCaller`, set by `AdminAccessMiddleware`), which writes the audit log.
struct AdminAPIHandler: APIProtocol {
    typealias Schemas = Components.Schemas
    let service: Administration
    let configuration: ServerConfiguration
    let passwords: any PasswordHasher

    var store: any GatehouseStore { service.store }

    /// The service acting for this request's caller.
    func admin() throws -> (Administration, AdminCaller) {
        guard let caller = AdminCaller.current else { throw CatalogueError(Catalogue.bearerTokenMissing) }
        return (service.acting(as: caller.actor, traceID: caller.traceID, source: caller.source), caller)
    }

    /// The path's tenant, which the caller must reach (the middleware checked it; here again, so
    /// that no handler depends on that).
    func tenant(_ raw: String) throws -> (Administration, TenantName) {
        let (admin, caller) = try admin()
        guard let name = try? TenantName(raw) else { throw Administration.AdministrationError.notFound("tenant", raw) }
        try caller.reach(name)
        return (admin, name)
    }

    static func clientID(_ raw: String) throws -> ClientID {
        guard let id = try? ClientID(raw) else { throw Administration.AdministrationError.notFound("client", raw) }
        return id
    }

    // MARK: Tenants

    func listTenants(_ input: Operations.ListTenants.Input) async throws -> Operations.ListTenants.Output {
        let (admin, caller) = try admin()
        let page = try await admin.tenants(
            reachableFrom: caller.administrative ? nil : caller.tenant, cursor: input.query.cursor, limit: input.query.limit ?? 50)
        return .ok(
            .init(body: .json(.init(items: page.items.map { AdminViews.tenant($0, configuration: configuration) }, nextCursor: page.next))))
    }

    func createTenant(_ input: Operations.CreateTenant.Input) async throws -> Operations.CreateTenant.Output {
        let (admin, caller) = try admin()
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        guard let name = try? TenantName(body.name) else {
            throw Administration.AdministrationError.invalid(
                "name", "format", "'\(body.name)' is not a valid tenant name: 1-63 characters of a-z, 0-9, '-' and '.'")
        }
        // Only the administrative tenant's principals make tenants.
        guard caller.administrative else { throw CatalogueError(Catalogue.adminTenantOutOfReach, ["tenant": name.value]) }
        let algorithm = body.signingAlgorithm.flatMap { SigningAlgorithm(rawValue: $0.rawValue) } ?? .es256
        let tenant = try await admin.createTenant(
            name: name, displayName: body.displayName, algorithm: algorithm, accessTokenLifetime: body.accessTokenLifetime ?? 3600)
        return .created(.init(body: .json(AdminViews.tenant(tenant, configuration: configuration))))
    }

    func getTenant(_ input: Operations.GetTenant.Input) async throws -> Operations.GetTenant.Output {
        let (admin, name) = try tenant(input.path.tenant)
        return .ok(.init(body: .json(AdminViews.tenant(try await admin.tenant(name), configuration: configuration))))
    }

    func updateTenant(_ input: Operations.UpdateTenant.Input) async throws -> Operations.UpdateTenant.Output {
        let (admin, name) = try tenant(input.path.tenant)
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        var rotation: TimeInterval?? = nil
        if let days = body.keyRotationDays {
            guard (0...3650).contains(days) else {
                throw Administration.AdministrationError.invalid("key_rotation_days", "range", "key rotation is every 0 (off) to 3650 days")
            }
            rotation = .some(days == 0 ? nil : TimeInterval(days) * 86_400)
        }
        let tenant = try await admin.updateTenant(
            tenant: name, signInLog: body.signInLog.flatMap { SignInLogMode(rawValue: $0.rawValue) }, keyRotation: rotation,
            algorithm: body.signingAlgorithm.flatMap { SigningAlgorithm(rawValue: $0.rawValue) },
            accessTokenLifetime: body.accessTokenLifetime,
            emailSignIn: body.emailSignIn, verifyEmail: body.verifyEmail,
            requirePushedAuthorizationRequests: body.requirePushedAuthorizationRequests, requireDPoPNonce: body.requireDpopNonce)
        var updated = tenant
        let passkeyChanged =
            body.passkeyUserVerification != nil || body.passkeyAttestation != nil || body.passkeyCounterRegression != nil
            || body.passkeyRequired != nil
        if body.registration != nil || body.registrationDomains != nil || body.primaryColor != nil || body.supportContact != nil
            || body.displayName != nil || passkeyChanged
        {
            let before = tenant.passkeyPolicy
            updated = try await admin.updateTenantProfile(
                tenant: name, registration: body.registration.flatMap { RegistrationPolicy(rawValue: $0.rawValue) },
                domains: body.registrationDomains, displayName: body.displayName, primaryColor: body.primaryColor,
                supportContact: body.supportContact,
                passkeyPolicy: passkeyChanged
                    ? PasskeyPolicy(
                        userVerification: body.passkeyUserVerification.flatMap { .init(rawValue: $0.rawValue) } ?? before.userVerification,
                        attestation: body.passkeyAttestation.flatMap { .init(rawValue: $0.rawValue) } ?? before.attestation,
                        counterRegression: body.passkeyCounterRegression.flatMap { .init(rawValue: $0.rawValue) }
                            ?? before.counterRegression,
                        required: body.passkeyRequired ?? before.required)
                    : nil)
        }
        if body.clientRegistration != nil || body.registrationApis != nil || body.allowLocalFetches != nil
            || body.clientIdMetadataDocuments != nil
        {
            updated = try await admin.setClientRegistration(
                tenant: name, policy: body.clientRegistration.flatMap { ClientRegistrationPolicy(rawValue: $0.rawValue) },
                apis: body.registrationApis, allowLocalFetches: body.allowLocalFetches, metadataDocuments: body.clientIdMetadataDocuments)
        }
        return .ok(.init(body: .json(AdminViews.tenant(updated, configuration: configuration))))
    }

    func setTenantLogo(_ input: Operations.SetTenantLogo.Input) async throws -> Operations.SetTenantLogo.Output {
        let (admin, name) = try tenant(input.path.tenant)
        // The declared type is not trusted: the bytes decide (`TenantLogo`).
        let body: HTTPBody
        switch input.body {
        case .png(let png): body = png
        case .jpeg(let jpeg): body = jpeg
        }
        let bytes: [UInt8]
        do { bytes = try await [UInt8](collecting: body, upTo: TenantLogo.maximumBytes + 1) } catch {
            throw Administration.AdministrationError.invalid("logo", "size", "at most \(TenantLogo.maximumBytes) bytes")
        }
        let tenant = try await admin.setLogo(tenant: name, bytes: bytes)
        return .ok(.init(body: .json(AdminViews.tenant(tenant, configuration: configuration))))
    }

    func removeTenantLogo(_ input: Operations.RemoveTenantLogo.Input) async throws -> Operations.RemoveTenantLogo.Output {
        let (admin, name) = try tenant(input.path.tenant)
        let tenant = try await admin.setLogo(tenant: name, bytes: nil)
        return .ok(.init(body: .json(AdminViews.tenant(tenant, configuration: configuration))))
    }

    // MARK: APIs

    func listAPIs(_ input: Operations.ListAPIs.Input) async throws -> Operations.ListAPIs.Output {
        let (admin, name) = try tenant(input.path.tenant)
        let page = try await admin.apis(tenant: name, cursor: input.query.cursor, limit: input.query.limit ?? 50)
        return .ok(.init(body: .json(.init(items: page.items.map(AdminViews.api), nextCursor: page.next))))
    }

    func createAPI(_ input: Operations.CreateAPI.Input) async throws -> Operations.CreateAPI.Output {
        let (admin, name) = try tenant(input.path.tenant)
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let tenant = try await admin.tenant(name)
        let identifiers = try body.identifiers.map { raw in
            do { return try ResourceIndicator(raw) } catch {
                throw Administration.AdministrationError.invalid(
                    "identifiers", "format", "'\(raw)' is not an absolute URI without a fragment (RFC 8707 §2)")
            }
        }
        let applicationID = try body.applicationId.map { raw in
            do { return try ClientID(raw) } catch {
                throw Administration.AdministrationError.invalid("application_id", "format", "'\(raw)' is not a valid client ID")
            }
        }
        let (api, secret) = try await admin.createAPI(
            tenant: name, applicationID: applicationID, displayName: body.displayName, identifiers: identifiers,
            accessTokenLifetime: body.accessTokenLifetime, issuers: configuration.issuers(tenant))
        return .created(
            .init(body: .json(.init(api: AdminViews.api(api), clientSecret: secret?.value, secretId: secret?.record.secretID))))
    }

    func getAPI(_ input: Operations.GetAPI.Input) async throws -> Operations.GetAPI.Output {
        let (admin, name) = try tenant(input.path.tenant)
        return .ok(.init(body: .json(AdminViews.api(try await admin.api(tenant: name, input.path.api)))))
    }

    func deleteAPI(_ input: Operations.DeleteAPI.Input) async throws -> Operations.DeleteAPI.Output {
        let (admin, name) = try tenant(input.path.tenant)
        _ = try await admin.removeAPI(tenant: name, api: input.path.api)
        return .noContent(.init())
    }

    func addAPIPermission(_ input: Operations.AddAPIPermission.Input) async throws -> Operations.AddAPIPermission.Output {
        let (admin, name) = try tenant(input.path.tenant)
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let api = try await admin.addPermission(
            tenant: name, api: input.path.api, name: body.name, descriptions: body.descriptions?.additionalProperties ?? [:], role: false)
        return .ok(.init(body: .json(AdminViews.api(api))))
    }

    func addAPIRole(_ input: Operations.AddAPIRole.Input) async throws -> Operations.AddAPIRole.Output {
        let (admin, name) = try tenant(input.path.tenant)
        guard case .json(let body) = input.body else { throw Self.unsupportedBody }
        let api = try await admin.addPermission(
            tenant: name, api: input.path.api, name: body.name, descriptions: body.descriptions?.additionalProperties ?? [:], role: true)
        return .ok(.init(body: .json(AdminViews.api(api))))
    }

    // MARK: Keys and logs

    func listKeys(_ input: Operations.ListKeys.Input) async throws -> Operations.ListKeys.Output {
        let (admin, name) = try tenant(input.path.tenant)
        _ = try await admin.tenant(name)
        let keys = try await store.keys(tenant: name).sorted { ($0.createdAt, $0.kid) < ($1.createdAt, $1.kid) }
        let page = try Page.slice(keys, after: input.query.cursor, limit: input.query.limit ?? 50) { Self.sortKey($0.createdAt) + $0.kid }
        return .ok(.init(body: .json(.init(items: page.items.map(AdminViews.key), nextCursor: page.next))))
    }

    func rotateKeys(_ input: Operations.RotateKeys.Input) async throws -> Operations.RotateKeys.Output {
        let (admin, name) = try tenant(input.path.tenant)
        let rotation = try await admin.rotateKeys(tenant: name)
        return .ok(.init(body: .json(.init(activated: rotation.activated, retired: rotation.retired, next: rotation.next))))
    }

    func listSignIns(_ input: Operations.ListSignIns.Input) async throws -> Operations.ListSignIns.Output {
        let (admin, name) = try tenant(input.path.tenant)
        _ = try await admin.tenant(name)
        let query = input.query
        let limit = PageCursor.limit(query.limit ?? 50)
        // The cursor is the time of the last event seen, in whole microseconds since 1970 (newest
        // first: the next page is older).
        var until = query.until.map(Self.bounded)
        if let text = try PageCursor.key(query.cursor) {
            guard let micros = Int64(text), (0...Self.latestMicros).contains(micros) else { throw PageCursor.refusal }
            until = Date(timeIntervalSince1970: Double(micros - 1) / 1_000_000)
        }
        var userID: String? = nil
        if let user = query.user { userID = try await admin.findUser(tenant: name, user).id }
        let events = try await store.signIns(
            SignInQuery(
                traceID: query.traceId, correlationID: query.correlationId, tenant: name.value, clientID: query.clientId,
                errorCode: query.code, result: query.result.map { $0 == .success ? .success : .failure },
                since: query.since.map(Self.bounded), until: until, limit: limit + 1, userID: userID))
        let items = Array(events.prefix(limit))
        let next =
            events.count > limit
            ? items.last.map { PageCursor.encode(String(Int64(($0.time.timeIntervalSince1970 * 1_000_000).rounded(.up)))) } : nil
        return .ok(.init(body: .json(.init(items: items.map(AdminViews.signIn), nextCursor: next))))
    }

    func countSignIns(_ input: Operations.CountSignIns.Input) async throws -> Operations.CountSignIns.Output {
        let (admin, name) = try tenant(input.path.tenant)
        _ = try await admin.tenant(name)
        let query = input.query
        let bucket = query.bucketMinutes ?? 60
        guard (1...10_080).contains(bucket) else {
            throw Administration.AdministrationError.invalid("bucket_minutes", "range", "a bucket is 1 to 10080 minutes")
        }
        let until = Self.bounded(query.until ?? Date())
        let since = Self.bounded(query.since ?? until.addingTimeInterval(-86_400))
        // At most 31 days at a time, and at most `countRows` rows read (else a narrower range is asked for).
        guard since <= until, until.timeIntervalSince(since) <= 31 * 86_400 else {
            throw Administration.AdministrationError.invalid("since", "range", "count at most 31 days at a time, since before until")
        }
        let aggregates = try await store.signInAggregates(
            SignInAggregateQuery(
                tenant: name.value, clientID: query.clientId, fromMinute: Int(since.timeIntervalSince1970 / 60),
                toMinute: Int(until.timeIntervalSince1970 / 60), limit: Self.countRows + 1))
        let events = try await store.signIns(
            SignInQuery(tenant: name.value, clientID: query.clientId, since: since, until: until, limit: Self.countRows + 1))
        guard aggregates.count <= Self.countRows, events.count <= Self.countRows else {
            throw Administration.AdministrationError.invalid(
                "since", "range", "more than \(Self.countRows) records in this range; count a narrower one")
        }
        let counts = SignInCounts.buckets(aggregates: aggregates, events: events, minutes: bucket)
        return .ok(
            .init(
                body: .json(
                    .init(
                        items: counts.map {
                            Schemas.SignInCount(
                                bucketStart: $0.start, result: $0.result == .success ? .success : .failure,
                                errorCode: $0.errorCode == 0 ? nil : $0.errorCode, count: $0.count)
                        }))))
    }

    func listAudit(_ input: Operations.ListAudit.Input) async throws -> Operations.ListAudit.Output {
        let (admin, name) = try tenant(input.path.tenant)
        _ = try await admin.tenant(name)
        let page = try await admin.auditLog(
            tenant: name, action: input.query.action, target: input.query.target, cursor: input.query.cursor,
            limit: input.query.limit ?? 50)
        return .ok(.init(body: .json(.init(items: page.items.map(AdminViews.audit), nextCursor: page.next))))
    }

    /// The most rows one count reads of each kind.
    static let countRows = 20_000
    /// Year 9999, in microseconds since 1970: instants past it (or before 1970) are clamped.
    static let latestMicros: Int64 = 253_402_300_799_000_000

    /// A text that sorts as `date` does (whole microseconds, zero-padded); `descending` sorts the
    /// newest first. For paging lists in time order by an opaque cursor.
    static func sortKey(_ date: Date, descending: Bool = false) -> String {
        let micros = Int64(min(max(date.timeIntervalSince1970, 0), 253_402_300_799) * 1_000_000)
        let value = descending ? latestMicros - micros : micros
        let digits = String(value)
        return String(repeating: "0", count: max(0, 19 - digits.count)) + digits + "|"
    }

    static func bounded(_ date: Date) -> Date {
        Date(timeIntervalSince1970: min(max(date.timeIntervalSince1970, 0), Double(latestMicros / 1_000_000)))
    }

    static let unsupportedBody = Administration.AdministrationError.invalid(nil, "content_type", "the body must be application/json")
}
