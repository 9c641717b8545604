import Foundation

/// One request (token endpoint, browser step, introspection, revocation), success or failure,
/// as the sign-in log keeps it whole.
public struct SignInEvent: Sendable, Hashable, Codable {
    public enum Result: String, Sendable, Codable { case success, failure }

    public var time: Date
    public var tenant: String
    public var clientID: String?
    public var grantType: String?
    public var scopes: String?
    public var result: Result
    public var errorCode: Int?
    public var error: String?
    /// Private detail for the operator (never secrets or tokens).
    public var detail: String?
    public var traceID: String
    public var correlationID: String
    public var clientIP: String?
    public var userAgent: String?
    public var latencyMicros: Int
    /// The user the request was for, once known (a sign-in, a user's tokens); nil for an
    /// application or before the user was known.
    public var userID: String?
    /// Also counted in an aggregate (`SignInAggregator`: the first of its kind in its minute).
    public var countedInAggregate: Bool
    /// Which of the client's credentials authenticated the request (`AuthenticatedClient.credential`).
    public var credential: String?

    public init(
        time: Date, tenant: String, clientID: String?, grantType: String?, scopes: String?, result: Result,
        errorCode: Int?, error: String?, detail: String?, traceID: String, correlationID: String,
        clientIP: String?, userAgent: String?, latencyMicros: Int, countedInAggregate: Bool = false, userID: String? = nil,
        credential: String? = nil
    ) {
        self.credential = RecordedValue.cut(credential, to: RecordedValue.step)
        self.userID = RecordedValue.cut(userID, to: RecordedValue.clientID)
        // What came from a request is kept at bounded lengths (`RecordedValue`).
        self.time = time
        self.tenant = RecordedValue.cut(tenant, to: RecordedValue.tenant)
        self.clientID = RecordedValue.cut(clientID, to: RecordedValue.clientID)
        self.grantType = RecordedValue.cut(grantType, to: RecordedValue.step)
        self.scopes = RecordedValue.cut(scopes, to: RecordedValue.scope)
        self.result = result
        self.errorCode = errorCode
        self.error = RecordedValue.cut(error, to: RecordedValue.step)
        self.detail = RecordedValue.cut(detail, to: RecordedValue.detail)
        self.traceID = RecordedValue.cut(traceID, to: RecordedValue.step)
        self.correlationID = RecordedValue.cut(correlationID, to: RecordedValue.step * 2)
        self.clientIP = RecordedValue.cut(clientIP, to: RecordedValue.address)
        self.userAgent = RecordedValue.cut(userAgent, to: RecordedValue.userAgent)
        self.latencyMicros = latencyMicros
        self.countedInAggregate = countedInAggregate
    }
}

/// A filter over the sign-in log. Every set field must match.
public struct SignInQuery: Sendable, Hashable {
    public var traceID: String?
    public var correlationID: String?
    public var tenant: String?
    public var userID: String?
    public var clientID: String?
    public var errorCode: Int?
    public var result: SignInEvent.Result?
    public var since: Date?
    public var until: Date?
    public var limit: Int

    public init(
        traceID: String? = nil, correlationID: String? = nil, tenant: String? = nil, clientID: String? = nil, errorCode: Int? = nil,
        result: SignInEvent.Result? = nil, since: Date? = nil, until: Date? = nil, limit: Int = 100, userID: String? = nil
    ) {
        self.userID = userID
        self.traceID = traceID
        self.correlationID = correlationID
        self.tenant = tenant
        self.clientID = clientID
        self.errorCode = errorCode
        self.result = result
        self.since = since
        self.until = until
        self.limit = limit
    }

    public func matches(_ event: SignInEvent) -> Bool {
        if let traceID, event.traceID != traceID { return false }
        if let correlationID, event.correlationID != correlationID { return false }
        if let tenant, event.tenant != tenant { return false }
        if let clientID, event.clientID != clientID { return false }
        if let userID, event.userID != userID { return false }
        if let errorCode, event.errorCode != errorCode { return false }
        if let result, event.result != result { return false }
        if let since, event.time < since { return false }
        if let until, event.time > until { return false }
        return true
    }
}
