import Foundation
import GatehouseCore
import Hummingbird
import NIOCore

/// Reads an `application/x-www-form-urlencoded` body strictly (RFC 6749 §3.2, Appendix B):
/// content type, size cap, percent-decoding, repeated parameters.
enum FormBody {
    static func read(_ request: Request, limit: Int, repeatable: Set<String> = FormParameters.repeatable) async throws -> FormParameters {
        try TokenRoute.requireFormContentType(request.headers[.contentType])
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw CatalogueError(Catalogue.requestBodyTooLarge, ["limit": "\(limit)"])
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw CatalogueError(Catalogue.requestBodyTooLarge, ["limit": "\(limit)"])
        } catch {
            // The client's framing is broken (a bad chunk size, a body cut short): its error, not ours.
            throw CatalogueError(Catalogue.requestBodyUnreadable, detail: "body could not be read: \(type(of: error))")
        }
        return try FormParameters(parsing: body.readableBytesView, repeatable: repeatable)
    }

    /// The query string's parameters, with the same strictness.
    static func query(_ request: Request) throws(CatalogueError) -> FormParameters {
        try FormParameters(parsing: Array((request.uri.query ?? "").utf8))
    }
}
