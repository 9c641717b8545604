import Foundation
import GatehouseCore
import Hummingbird
import NIOCore

/// The request context: Hummingbird's core storage plus the trace and correlation IDs that
/// travel with every request into its log line, sign-in event and response.
public struct GatehouseContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Minted when the request arrives (a new GUID per request).
    public var traceID: String
    /// The `client-request-id` header if it is a usable value, else a new GUID.
    public var correlationID: String
    public let startedAt: ContinuousClock.Instant
    public let remoteAddress: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.traceID = RandomSource.system.guidString()
        self.correlationID = ""
        self.startedAt = .now
        self.remoteAddress = source.channel.remoteAddress?.ipAddress
    }

    /// Token requests are small; the token route enforces its own, lower limit.
    public var maxUploadSize: Int { 64 * 1024 }
}
