import Foundation
import GatehouseCore
import Hummingbird

extension SignInLogWriter {
    /// Records the outcome of a request (token endpoint, browser steps, introspection,
    /// revocation): IDs, client address and user agent from the request and its context, the
    /// latency since the request arrived, and the failure's code and private detail, if any; the
    /// outcome is counted (`Telemetry.outcome`) and noted for the request's log line.
    func record(
        _ request: Request, context: GatehouseContext, time: Date, tenant: String, clientID: String?, step: String?,
        scopes: String?, failure: CatalogueError?, detail: String? = nil, kind: Telemetry.OutcomeKind = .step
    ) {
        let latency = ContinuousClock.now - context.startedAt
        context.notes.update { notes in
            notes.tenant = tenant
            notes.clientID = clientID
            if let failure { notes.code = failure.entry.number }
        }
        telemetry?.outcome(kind, tenant: tenant, step: step, code: failure?.entry.number)
        record(
            SignInEvent(
                time: time, tenant: tenant, clientID: clientID, grantType: step, scopes: scopes,
                result: failure == nil ? .success : .failure, errorCode: failure?.entry.number, error: failure?.error.rawValue,
                detail: failure?.detail ?? detail, traceID: context.traceID, correlationID: context.correlationID,
                clientIP: source.resolve(peer: context.remoteAddress, forwardedFor: request.headers[.xForwardedFor]),
                userAgent: request.headers[.userAgent].map { String($0.prefix(512)) },
                latencyMicros: Int(latency.nanoseconds / 1_000)))
    }
}
