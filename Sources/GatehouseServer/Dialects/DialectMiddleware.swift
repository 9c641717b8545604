import GatehouseCore
import Hummingbird

/// Serves one dialect's group of routes: sets the dialect in the render context, so that the
/// routes read their dialect from the request and any error that escapes them is rendered in the
/// dialect's shape (Hummingbird's own HTTP errors go on to `TraceMiddleware`). Every route is registered in the group
/// of the dialect it speaks (`Dialects.all`, `Application+build.swift`).
struct DialectMiddleware: RouterMiddleware {
    typealias Context = GatehouseContext
    let dialect: any Dialect
    let renderer: ErrorRenderer

    func handle(_ request: Request, context: GatehouseContext, next: (Request, GatehouseContext) async throws -> Response)
        async throws -> Response
    {
        var context = context
        context.rendering.dialect = dialect
        do {
            return try await next(request, context)
        } catch let error as any HTTPResponseError {
            throw error
        } catch {
            if !(error is CatalogueError) { context.rendering.usedAuthorizationHeader = false }
            return renderer.response(catching: error, context: context, step: request.uri.path)
        }
    }
}
