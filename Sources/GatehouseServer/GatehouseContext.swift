import Foundation
import GatehouseCore
import Hummingbird
import NIOCore
import Synchronization

/// The request context: Hummingbird's core storage plus the trace and correlation IDs that
/// travel with every request into its log line, sign-in event and response.
public struct GatehouseContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Minted when the request arrives: a version 7 GUID, ordered by time (`TraceID`).
    public var traceID: String
    /// The `client-request-id` header if it is a usable value, else a new GUID.
    public var correlationID: String
    public let startedAt: ContinuousClock.Instant
    public let remoteAddress: String?
    /// How an error of this request is rendered: set where the request enters (`TraceMiddleware`,
    /// then `DialectMiddleware` for the route's dialect), refined by a route that reads a form
    /// (`ui_locales`) or knows its tenant (the realm).
    public var rendering: RenderContext
    /// What the request's log line reports that only the route learns (tenant, client, catalogue
    /// code): shared by every copy of this context.
    public let notes = RequestNotes()
    /// The trace ID of an incoming W3C `traceparent`, carried beside Gatehouse's own trace ID.
    public var parentTraceID: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.traceID = TraceID.make(now: Date(), random: .system)
        self.correlationID = ""
        self.startedAt = .now
        self.remoteAddress = source.channel.remoteAddress?.ipAddress
        self.rendering = RenderContext()
    }

    /// Token requests are small; the token route enforces its own, lower limit.
    public var maxUploadSize: Int { 64 * 1024 }
}

/// What the error renderer needs to know about a request besides the error.
public struct RenderContext: Sendable {
    /// The negotiated language (`ui_locales`, then `Accept-Language`).
    public var language: String = CatalogueTexts.defaultLanguage
    /// The wire format of the route that serves the request.
    public var dialect: any Dialect = Dialects.native
    /// The `WWW-Authenticate` realm: the tenant path segment where there is one.
    public var realm: String = "gatehouse"
    /// Whether the client authenticated through the `Authorization` header (RFC 6749 §5.2: a 401 then carries `WWW-Authenticate`).
    public var usedAuthorizationHeader = false
    /// Whether a failure is answered with a Bearer challenge (RFC 6750 §3, resource endpoints).
    public var bearerChallenge = false
    /// Whether a failure is answered with a DPoP challenge (RFC 9449 §7.1, userinfo); with both,
    /// `dpopChallengeFirst` says which one carries the error.
    public var dpopChallenge = false
    public var dpopChallengeFirst = false
    /// The server nonce a response hands out in `DPoP-Nonce` (RFC 9449 §8, §9), where the tenant
    /// requires nonces.
    public var dpopNonce: String?

    public init() {}
}

/// Filled in as a request goes through its route, read once when it is answered.
public final class RequestNotes: Sendable {
    public struct Fields: Sendable {
        /// The tenant the request resolved to (its name), else `RecordedValue.unknownTenant`.
        public var tenant: String?
        public var clientID: String?
        /// The user the request was for, once known (the sign-in log's `user_id`).
        public var userID: String?
        /// The catalogue number of the error the response carries.
        public var code: Int?
        /// Which credential authenticated the client (`AuthenticatedClient.credential`).
        public var credential: String?

        public init(tenant: String? = nil, clientID: String? = nil, code: Int? = nil) {
            (self.tenant, self.clientID, self.code) = (tenant, clientID, code)
        }
    }

    private let fields = Mutex(Fields())

    /// The name of the tenant the route resolved the request's segment to (set where a segment
    /// resolves in a way the tenant cache does not remember under the segment: `common`,
    /// `organizations`).
    private let resolved = Mutex<String?>(nil)

    public func update(_ change: (inout Fields) -> Void) { fields.withLock { change(&$0) } }
    public var current: Fields { fields.withLock { $0 } }

    public func resolvedTenant(_ tenant: Tenant) { resolved.withLock { $0 = tenant.name.value } }
    public var resolvedTenant: String? { resolved.withLock { $0 } }

    private let origins = Mutex<Set<String>>([])

    /// The origins whose pages may read this response (CORS, `BrowserAccessMiddleware`): set by
    /// the route once it knows the client; none by default.
    public var browserOrigins: Set<String> {
        get { origins.withLock { $0 } }
        set { origins.withLock { $0 = newValue } }
    }
}

extension TenantDirectory {
    /// The tenant for a request's path segment (`resolve(_:)`), noted on the request
    /// (`RequestNotes.resolvedTenant`) so that its sign-in event, log line and metric labels name
    /// the tenant, whatever spelling of it the request used.
    func resolve(_ segment: String, for context: GatehouseContext) async throws -> Tenant {
        let tenant = try await resolve(segment)
        context.notes.resolvedTenant(tenant)
        return tenant
    }
}
