import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird
import Logging
import Tracing
import W3CTraceContext

extension HTTPField.Name {
    static let clientRequestID = Self("client-request-id")!
    static let traceID = Self("X-Trace-Id")!
    static let msRequestID = Self("x-ms-request-id")!
    static let contentTypeOptions = Self("X-Content-Type-Options")!
    static let pragma = Self("Pragma")!
    static let strictTransportSecurity = Self("Strict-Transport-Security")!
    static let traceparent = Self("traceparent")!
}

/// Where every request enters: gives it its correlation ID, puts both IDs into the logger and
/// into the headers of every response, success or failure, sets the render context (language,
/// whether the client used the `Authorization` header), and turns any error that escaped a
/// route into a response: a catalogue error renders itself, Hummingbird's HTTP errors (404 for an
/// unknown path) become 9900131, and anything else is an internal fault (50000) whose cause is
/// logged against the trace ID and never sent.
///
/// Every answered request is counted and timed under its route template (`Telemetry`) and
/// logged on one line (level info: method, route, status, latency, tenant, client, catalogue
/// code, and the W3C trace ID of an incoming `traceparent`). With tracing on (OTLP export
/// configured), the request is a server span whose parent is the incoming `traceparent`; the
/// span carries Gatehouse's trace ID, which stays the one that errors and the sign-in log name.
public struct TraceMiddleware: RouterMiddleware {
    public typealias Context = GatehouseContext
    let renderer: ErrorRenderer
    /// Sent on every response when the server serves TLS itself (RFC 6797).
    var strictTransportSecurity: String? = nil
    var telemetry: Telemetry? = nil
    /// Whether requests become spans of the bootstrapped tracer.
    var tracing = false
    /// Writes the request line directly (`serve`, at level info, tracing off); else the line goes
    /// through the request's logger.
    var requestLog: RequestLog? = nil

    public func handle(_ request: Request, context: GatehouseContext, next: (Request, GatehouseContext) async throws -> Response)
        async throws -> Response
    {
        var context = context
        context.correlationID = Self.correlationID(from: request.headers[.clientRequestID]) ?? RandomSource.system.guidString()
        context.logger[metadataKey: "trace_id"] = .string(context.traceID)
        context.logger[metadataKey: "correlation_id"] = .string(context.correlationID)
        if let traceparent = request.headers[.traceparent], let parent = try? TraceContext(traceParentHeaderValue: traceparent) {
            context.parentTraceID = parent.traceID.description
        }
        guard tracing else { return try await answer(request, context: context, next: next, span: nil) }
        var serviceContext = ServiceContext.current ?? .topLevel
        InstrumentationSystem.instrument.extract(request.headers, into: &serviceContext, using: HTTPFieldsExtractor())
        let span = startSpan("HTTP \(request.method.rawValue)", context: serviceContext, ofKind: .server)
        defer { span.end() }
        return try await ServiceContext.$current.withValue(span.context) {
            try await answer(request, context: context, next: next, span: span)
        }
    }

    private func answer(
        _ request: Request, context: GatehouseContext, next: (Request, GatehouseContext) async throws -> Response, span: (any Span)?
    ) async throws -> Response {
        var context = context
        context.rendering.language = renderer.texts.language(for: request)
        context.rendering.usedAuthorizationHeader = request.headers[.authorization] != nil
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError where error.status == .notFound || error.status == .methodNotAllowed {
            // The router found no endpoint: answer with the catalogue, like every other failure.
            let notFound = CatalogueError(
                Catalogue.endpointNotFound, ["method": request.method.rawValue, "path": String(request.uri.path.prefix(200))])
            context.rendering.usedAuthorizationHeader = false
            response = renderer.response(for: notFound, context: context)
        } catch let error as any HTTPResponseError {
            response = (try? error.response(from: request, context: context)) ?? Response(status: error.status)
        } catch {
            if !(error is CatalogueError) { context.rendering.usedAuthorizationHeader = false }
            response = renderer.response(catching: error, context: context, step: String(request.uri.path.prefix(200)))
        }
        response.headers[.traceID] = context.traceID
        response.headers[.msRequestID] = context.traceID
        response.headers[.clientRequestID] = context.correlationID
        response.headers[.contentTypeOptions] = "nosniff"
        if let strictTransportSecurity { response.headers[.strictTransportSecurity] = strictTransportSecurity }
        observe(request, context: context, status: Int(response.status.code), span: span)
        return response
    }

    /// Counts, logs and describes (in the span) an answered request.
    private func observe(_ request: Request, context: GatehouseContext, status: Int, span: (any Span)?) {
        let elapsed = ContinuousClock.now - context.startedAt
        let route = context.endpointPath
        telemetry?.requestAnswered(route: route, method: request.method, status: status, duration: elapsed)
        let notes = context.notes.current
        let line = RequestLog.Line(
            traceID: context.traceID, correlationID: context.correlationID, method: request.method.rawValue,
            route: route ?? "unmatched", status: status, elapsed: elapsed, notes: notes, parentTraceID: context.parentTraceID)
        if let requestLog {
            requestLog.write(line)
        } else {
            context.logger.info("request", metadata: Self.lineMetadata(line))
        }
        guard let span else { return }
        span.operationName = "\(request.method.rawValue) \(route ?? "unmatched")"
        span.updateAttributes { attributes in
            attributes["http.request.method"] = request.method.rawValue
            attributes["http.route"] = route
            attributes["http.response.status_code"] = status
            attributes["gatehouse.trace_id"] = context.traceID
            attributes["gatehouse.correlation_id"] = context.correlationID
            attributes["gatehouse.tenant"] = notes.tenant.map { String($0.prefix(64)) }
            attributes["gatehouse.error_code"] = notes.code
        }
        if status >= 500 { span.setStatus(SpanStatus(code: .error)) }
    }

    /// A duration as milliseconds with three decimals (`12.345`).
    public static func milliseconds(_ duration: Duration) -> String {
        let micros = max(duration.nanoseconds / 1_000, 0)
        let fraction = String(micros % 1_000)
        return "\(micros / 1_000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }

    /// The request line's fields besides the trace and correlation IDs (already on the logger).
    public static func lineMetadata(_ line: RequestLog.Line) -> Logger.Metadata {
        var metadata: Logger.Metadata = [:]
        line.forEachField { key, value in
            guard key != "trace_id" && key != "correlation_id" else { return }
            switch value {
            case .text(let text): metadata[key] = .string(text)
            case .number(let number): metadata[key] = .stringConvertible(number)
            }
        }
        return metadata
    }

    /// Accepts a client-request-id of 1–128 visible ASCII characters other than quotes and backslash.
    static func correlationID(from header: String?) -> String? {
        guard let header, (1...128).contains(header.utf8.count),
            header.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C })
        else { return nil }
        return header
    }
}

/// Reads propagation headers (`traceparent`, `tracestate`, baggage) for the tracer's propagator.
struct HTTPFieldsExtractor: Extractor {
    func extract(key: String, from carrier: HTTPFields) -> String? {
        HTTPField.Name(key).flatMap { carrier[$0] }
    }
}
