import Foundation

/// Who asks the administration service for a change: an operator at the CLI on the database's
/// host, or a caller of the admin API with a token of a tenant (a user or an application).
public struct AdminActor: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case `operator`
        case user
        case application
    }

    public let kind: Kind
    /// The operator's login name, the user's object ID or the application's client ID.
    public let id: String
    /// The tenant whose token the caller presented (nil for the CLI).
    public let tenant: TenantName?

    public init(kind: Kind, id: String, tenant: TenantName?) {
        self.kind = kind
        self.id = id
        self.tenant = tenant
    }

    /// The CLI's operator: the login name of the process's user.
    public static func commandLine(user: String) -> AdminActor { AdminActor(kind: .operator, id: user, tenant: nil) }

    public var description: String { kind.rawValue + ":" + id + (tenant.map { "@" + $0.value } ?? "") }
}

/// One change made through the administration service: who, what, to which object, the
/// object before and after (secret-free views, `AuditView`), when, and where the request came from.
public struct AuditEntry: Sendable, Hashable {
    /// Sorts by time (`SignInEventID`): the cursor of the audit log's pages.
    public let id: String
    public let at: Date
    /// The tenant the changed object belongs to.
    public let tenant: TenantName
    public let actor: String
    /// `client.create`, `user.password.reset`, … (`AuditAction`).
    public let action: String
    /// The changed object's ID within its kind.
    public let target: String
    /// JSON text of the secret-free view before and after; nil where the object did not exist.
    public let before: String?
    public let after: String?
    public let traceID: String?
    public let source: String?

    public init(
        id: String, at: Date, tenant: TenantName, actor: String, action: String, target: String, before: String?, after: String?,
        traceID: String?, source: String?
    ) {
        self.id = id
        self.at = at
        self.tenant = tenant
        self.actor = actor
        self.action = RecordedValue.cut(action, to: RecordedValue.parameter)
        self.target = RecordedValue.cut(target, to: RecordedValue.parameter)
        self.before = before
        self.after = after
        self.traceID = traceID
        self.source = source
    }
}

/// Which audit entries to read: newest first, those older than the cursor `before` (an entry ID).
public struct AuditQuery: Sendable {
    public var tenant: TenantName?
    public var action: String?
    public var target: String?
    public var before: String?
    public var limit: Int

    public init(tenant: TenantName? = nil, action: String? = nil, target: String? = nil, before: String? = nil, limit: Int = 100) {
        self.tenant = tenant
        self.action = action
        self.target = target
        self.before = before
        self.limit = limit
    }
}

/// The administration log: written with every change, read newest first.
public protocol AuditStore: Sendable {
    func appendAudit(_ entry: AuditEntry) async throws
    func auditEntries(_ query: AuditQuery) async throws -> [AuditEntry]
}

/// A page of a list: the items and, if more follow, an opaque cursor for the next page.
public struct Page<Item: Sendable>: Sendable {
    public let items: [Item]
    public let next: String?

    public init(items: [Item], next: String?) {
        self.items = items
        self.next = next
    }

    /// Pages a list already in its order: `cursor` is the opaque value a previous page gave (the
    /// key of its last item); `key` must be unique and stable.
    public static func slice(_ all: [Item], after cursor: String?, limit: Int, key: (Item) -> String) throws -> Page<Item> {
        var start = all.startIndex
        if let last = try PageCursor.key(cursor) { start = all.firstIndex { key($0) > last } ?? all.endIndex }
        let limit = PageCursor.limit(limit)
        let items = Array(all[start...].prefix(limit))
        let more = start + items.count < all.endIndex
        return Page(items: items, next: more ? items.last.map { PageCursor.encode(key($0)) } : nil)
    }
}

/// Opaque cursors: the key of the last item seen, base64url-encoded.
public enum PageCursor {
    public static let maximumLimit = 200

    public static func encode(_ key: String) -> String { Base64URL.encode(Data(key.utf8)) }

    public static func decode(_ cursor: String) -> String? {
        guard cursor.utf8.count <= 1024, let data = Base64URL.decode(cursor) else { return nil }
        return String(data: data, encoding: .utf8)
    }

    /// The key a cursor carries (nil for none); a cursor no list gave is refused (9900200).
    public static func key(_ cursor: String?) throws -> String? {
        guard let cursor else { return nil }
        guard let key = decode(cursor) else { throw refusal }
        return key
    }

    public static let refusal = Administration.AdministrationError.invalid("cursor", "format", "the cursor is not one this list gave")

    /// A requested page size within 1 and `maximumLimit`.
    public static func limit(_ requested: Int) -> Int { max(1, min(requested, maximumLimit)) }
}

/// Sign-ins counted per time bucket, result and code: every aggregate's count plus every whole
/// row not also counted in an aggregate (as `SignInSummaryRow.hourly`, with any bucket size).
public enum SignInCounts {
    public struct Count: Sendable, Hashable {
        public let start: Date
        public let result: SignInEvent.Result
        public let errorCode: Int
        public let count: Int
    }

    public static func buckets(aggregates: [SignInAggregate], events: [SignInEvent], minutes: Int) -> [Count] {
        struct Key: Hashable {
            let bucket: Int
            let result: SignInEvent.Result
            let code: Int
        }
        let size = max(1, minutes)
        var counts: [Key: Int] = [:]
        for aggregate in aggregates {
            counts[Key(bucket: aggregate.key.minute / size, result: aggregate.key.result, code: aggregate.key.errorCode), default: 0] +=
                aggregate.count
        }
        for event in events where !event.countedInAggregate {
            let minute = Int((event.time.timeIntervalSince1970 / 60).rounded(.down))
            counts[Key(bucket: minute / size, result: event.result, code: event.errorCode ?? 0), default: 0] += 1
        }
        return counts.map { key, count in
            Count(
                start: Date(timeIntervalSince1970: Double(key.bucket * size) * 60), result: key.result, errorCode: key.code, count: count)
        }.sorted { ($0.start, $0.errorCode, $0.result.rawValue) < ($1.start, $1.errorCode, $1.result.rawValue) }
    }
}
