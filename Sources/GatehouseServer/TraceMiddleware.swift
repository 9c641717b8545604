import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird
import Logging

extension HTTPField.Name {
    static let clientRequestID = Self("client-request-id")!
    static let traceID = Self("X-Trace-Id")!
    static let msRequestID = Self("x-ms-request-id")!
    static let contentTypeOptions = Self("X-Content-Type-Options")!
    static let pragma = Self("Pragma")!
    static let strictTransportSecurity = Self("Strict-Transport-Security")!
}

/// Where every request enters: gives it its correlation ID, puts both IDs into the logger and
/// into the headers of every response, success or failure, sets the render context (language,
/// whether the client used the `Authorization` header), and turns any error that escaped a
/// route into a response: a catalogue error renders itself, Hummingbird's HTTP errors (404 for an
/// unknown path) become 9900131, and anything else is an internal fault (50000) whose cause is
/// logged against the trace ID and never sent.
public struct TraceMiddleware: RouterMiddleware {
    public typealias Context = GatehouseContext
    let renderer: ErrorRenderer
    /// Sent on every response when the server serves TLS itself (RFC 6797).
    var strictTransportSecurity: String? = nil

    public func handle(_ request: Request, context: GatehouseContext, next: (Request, GatehouseContext) async throws -> Response)
        async throws -> Response
    {
        var context = context
        context.correlationID = Self.correlationID(from: request.headers[.clientRequestID]) ?? RandomSource.system.guidString()
        context.logger[metadataKey: "trace_id"] = .string(context.traceID)
        context.logger[metadataKey: "correlation_id"] = .string(context.correlationID)
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
            response = renderer.response(catching: error, context: context, step: request.uri.path)
        }
        response.headers[.traceID] = context.traceID
        response.headers[.msRequestID] = context.traceID
        response.headers[.clientRequestID] = context.correlationID
        response.headers[.contentTypeOptions] = "nosniff"
        if let strictTransportSecurity { response.headers[.strictTransportSecurity] = strictTransportSecurity }
        return response
    }

    /// Accepts a client-request-id of 1–128 visible ASCII characters other than quotes and backslash.
    static func correlationID(from header: String?) -> String? {
        guard let header, (1...128).contains(header.utf8.count),
            header.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C })
        else { return nil }
        return header
    }
}
