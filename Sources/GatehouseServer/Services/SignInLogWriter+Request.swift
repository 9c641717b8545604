import Foundation
import GatehouseCore
import Hummingbird

extension SignInLogWriter {
    /// Records the outcome of a request (token endpoint, browser steps, introspection,
    /// revocation): IDs, client address and user agent from the request and its context, the
    /// latency since the request arrived, and the failure's code and private detail, if any; the
    /// outcome is counted (`Telemetry.outcome`) and noted for the request's log line.
    func record(
        _ request: Request, context: GatehouseContext, time: Date, tenant segment: String, clientID: String?, step: String?,
        scopes: String?, failure: CatalogueError?, detail: String? = nil, kind: Telemetry.OutcomeKind = .step
    ) {
        let latency = ContinuousClock.now - context.startedAt
        // One spelling per tenant: the name the segment resolved to (in this request, or when it
        // was last resolved on this node), else one bounded key; the segment itself is then
        // kept, cut, in the detail.
        let resolved = context.notes.resolvedTenant ?? cachedTenant(segment)
        let tenant = resolved ?? RecordedValue.unknownTenant
        // The failure's own detail, and what the route adds (such as the scope refused).
        let details = [failure?.detail, detail].compactMap { $0 }
        var detail = details.isEmpty ? nil : details.joined(separator: "; ")
        if resolved == nil {
            detail = "tenant segment '\(RecordedValue.cut(segment, to: RecordedValue.tenant))'" + (detail.map { "; \($0)" } ?? "")
        }
        // A grant type that is not one of Gatehouse's is recorded as `other` (it is the client's
        // to choose), and named, cut, in the detail.
        var step = step
        if kind == .token, let sent = step, !Telemetry.grantTypes.contains(sent) {
            step = "other"
            detail = "grant_type '\(RecordedValue.cut(sent, to: RecordedValue.step))'" + (detail.map { "; \($0)" } ?? "")
        }
        let clientID = RecordedValue.cut(clientID, to: RecordedValue.clientID)
        context.notes.update { notes in
            notes.tenant = tenant
            notes.clientID = clientID
            if let failure { notes.code = failure.entry.number }
        }
        telemetry?.outcome(kind, tenant: resolved, step: step, code: failure?.entry.number)
        record(
            SignInEvent(
                time: time, tenant: tenant, clientID: clientID, grantType: step, scopes: scopes,
                result: failure == nil ? .success : .failure, errorCode: failure?.entry.number, error: failure?.error.rawValue,
                detail: detail, traceID: context.traceID, correlationID: context.correlationID,
                clientIP: source.resolve(peer: context.remoteAddress, forwardedFor: request.headers[.xForwardedFor]),
                userAgent: request.headers[.userAgent],
                latencyMicros: Int(latency.nanoseconds / 1_000), userID: context.notes.current.userID,
                credential: context.notes.current.credential))
    }
}
