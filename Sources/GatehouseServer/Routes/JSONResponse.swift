import Foundation
import Hummingbird
import NIOCore

extension Response {
    /// A JSON answer that holds credentials or personal data: never stored by a cache (RFC 6749
    /// §5.1's `Cache-Control: no-store` and `Pragma: no-cache`). Members sorted, slashes unescaped.
    static func noStoreJSON(_ object: [String: Any], status: HTTPResponse.Status = .ok) throws -> Response {
        noStoreJSON(
            data: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]), status: status)
    }

    /// The same for a body already encoded.
    static func noStoreJSON(data: Data, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store", .pragma: "no-cache"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
