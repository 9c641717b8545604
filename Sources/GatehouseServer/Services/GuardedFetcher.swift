import AsyncHTTPClient
import Foundation
import GatehouseCore
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The server's one way to fetch a URL that someone else chose (`OutboundFetcher`), on
/// async-http-client: the URL checked (`OutboundGuard.target`), the host resolved once, every
/// address it resolves to checked (`OutboundGuard.check`), and the connection made to the first
/// of them with the host's name for TLS (SNI and certificate checks: the system's trust store
/// plus `gatehouse.tls.extra_ca_file`); no redirects followed, at most `maximumBytes` read, one
/// deadline for all of it. async-http-client pins a host to an address per client
/// configuration, so each fetch has its own short-lived client on the shared event loops
/// (fetches are rare: their results are cached).
public struct GuardedFetcher: OutboundFetcher {
    let tls: TLSConfiguration
    /// Fetches in flight on this node; past `maximumInFlight` a fetch is refused at once (9900225),
    /// so that slow hosts named in many requests cannot tie up the server.
    let inFlight = InFlightCount()
    static let maximumInFlight = 32
    /// Resolves a host name to numeric addresses (tests replace it).
    let resolve: @Sendable (String) async throws -> [String]

    public init(extraCAFile: String?, resolve: (@Sendable (String) async throws -> [String])? = nil) throws {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.certificateVerification = .fullVerification
        configuration.trustRoots = .default
        if let extraCAFile {
            let certificates = try NIOSSLCertificate.fromPEMFile(extraCAFile)
            configuration.additionalTrustRoots = [.certificates(certificates)]
        }
        tls = configuration
        self.resolve = resolve ?? { host in try await Self.systemResolve(host) }
    }

    public func fetch(_ url: String, policy: OutboundPolicy, accept: String) async throws -> FetchedDocument {
        try await exchange(url, target: try OutboundGuard.target(url), policy: policy) { client, shown in
            try await Self.get(client: client, url: url, shown: shown, accept: accept, policy: policy)
        }
    }

    public func post(_ url: String, form: [(String, String)], policy: OutboundPolicy) async throws {
        try await exchange(url, target: try OutboundGuard.target(url, loopbackHTTP: true), policy: policy) { client, shown in
            try await Self.post(client: client, url: url, shown: shown, form: form, policy: policy)
        }
    }

    /// The checks and the pinned client around one request (`body`).
    private func exchange<T: Sendable>(
        _ url: String, target: OutboundGuard.Target, policy: OutboundPolicy,
        _ body: @escaping @Sendable (HTTPClient, String) async throws -> T
    ) async throws -> T {
        let shown = RecordedValue.cut(url, to: 200)
        guard inFlight.enter(limit: Self.maximumInFlight) else {
            throw CatalogueError(Catalogue.outboundFailed, ["url": shown, "reason": "the server has too many fetches in progress"])
        }
        let seconds = policy.timeout
        let inFlight = self.inFlight
        return try await Self.within(seconds, url: shown) {
            // The slot is held until the work really ends, not until the deadline answers.
            defer { inFlight.leave() }
            let addresses: [String]
            if OutboundGuard.isIPAddress(target.host) {
                addresses = [target.host]
            } else {
                do {
                    addresses = try await resolve(target.host)
                } catch {
                    throw CatalogueError(Catalogue.outboundFailed, ["url": shown, "reason": "the host name does not resolve"])
                }
                guard !addresses.isEmpty else {
                    throw CatalogueError(Catalogue.outboundFailed, ["url": shown, "reason": "the host name does not resolve"])
                }
            }
            // Every address the name has is checked (a mix of public and private answers is refused),
            // and the connection goes to the first: no second lookup can change it.
            for address in addresses { try OutboundGuard.check(address: address, host: target.host, policy: policy) }
            var configuration = HTTPClient.Configuration(
                tlsConfiguration: tls, redirectConfiguration: .disallow,
                timeout: .init(connect: .milliseconds(Int64(seconds * 1000)), read: .milliseconds(Int64(seconds * 1000))))
            // Pinned under every spelling of the host async-http-client may look up (it keys the
            // override by the URL's host as written).
            var pins = [target.host: addresses[0]]
            for spelling in [URL(string: url)?.host, URLComponents(string: url)?.host].compactMap({ $0 }) { pins[spelling] = addresses[0] }
            configuration.dnsOverride = pins
            configuration.httpVersion = .http1Only
            let client = HTTPClient(eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup.singleton), configuration: configuration)
            do {
                let result = try await body(client, shown)
                try? await client.shutdown()
                return result
            } catch {
                try? await client.shutdown()
                throw error
            }
        }
    }

    private static func get(client: HTTPClient, url: String, shown: String, accept: String, policy: OutboundPolicy) async throws
        -> FetchedDocument
    {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: accept)
        request.headers.add(name: "User-Agent", value: "Gatehouse")
        let response = try await execute(request, on: client, shown: shown, policy: policy)
        let status = Int(response.status.code)
        if (300..<400).contains(status) {
            throw CatalogueError(Catalogue.outboundRedirectRefused, ["url": shown, "status": String(status)])
        }
        guard status == 200 else {
            throw CatalogueError(Catalogue.outboundFailed, ["url": shown, "reason": "it answered HTTP \(status)"])
        }
        if let length = response.headers.first(name: "content-length").flatMap(Int.init), length > policy.maximumBytes {
            throw CatalogueError(Catalogue.outboundTooLarge, ["url": shown, "limit": String(policy.maximumBytes)])
        }
        var body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: policy.maximumBytes)
        } catch is NIOTooManyBytesError {
            throw CatalogueError(Catalogue.outboundTooLarge, ["url": shown, "limit": String(policy.maximumBytes)])
        } catch {
            throw CatalogueError(Catalogue.outboundFailed, ["url": shown, "reason": Self.reason(error)])
        }
        return FetchedDocument(
            body: body.readBytes(length: body.readableBytes) ?? [], contentType: response.headers.first(name: "content-type"),
            cacheControl: response.headers.first(name: "cache-control"))
    }

    /// Sends `request` within the policy's deadline; a timeout is 9900224, any other failure to
    /// get an answer 9900225 with a reason an operator can act on.
    private static func execute(_ request: HTTPClientRequest, on client: HTTPClient, shown: String, policy: OutboundPolicy)
        async throws -> HTTPClientResponse
    {
        do {
            return try await client.execute(request, deadline: .now() + .milliseconds(Int64(policy.timeout * 1000)))
        } catch let error as HTTPClientError
            where error == .deadlineExceeded || error == .connectTimeout || error == .readTimeout
        {
            throw CatalogueError(Catalogue.outboundTimedOut, ["url": shown, "seconds": String(Int(policy.timeout))])
        } catch let error as CatalogueError {
            throw error
        } catch {
            throw CatalogueError(Catalogue.outboundFailed, ["url": shown, "reason": Self.reason(error)])
        }
    }

    private static func post(client: HTTPClient, url: String, shown: String, form: [(String, String)], policy: OutboundPolicy)
        async throws
    {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "User-Agent", value: "Gatehouse")
        request.body = .bytes(
            ByteBuffer(string: form.map { "\(RedirectURI.encode($0.0))=\(RedirectURI.encode($0.1))" }.joined(separator: "&")))
        let response = try await execute(request, on: client, shown: shown, policy: policy)
        let status = Int(response.status.code)
        // The answer's body is not read beyond a little (nothing in it is used).
        _ = try? await response.body.collect(upTo: policy.maximumBytes)
        if (200..<300).contains(status) { return }
        if (300..<400).contains(status) {
            throw CatalogueError(Catalogue.outboundRedirectRefused, ["url": shown, "status": String(status)])
        }
        if (400..<500).contains(status) && status != 408 && status != 429 {
            throw DeliveryRefused("it answered HTTP \(status)")
        }
        throw CatalogueError(Catalogue.outboundFailed, ["url": shown, "reason": "it answered HTTP \(status)"])
    }

    /// A short reason an operator can act on; never the document's content.
    static func reason(_ error: any Error) -> String {
        if error is NIOSSLError || error is BoringSSLError || "\(type(of: error))".contains("SSL") {
            return "TLS failed (is the certificate trusted? gatehouse.tls.extra_ca_file adds a CA)"
        }
        if let io = error as? IOError {
            return "the connection failed (\(io.errnoCode == ECONNREFUSED ? "refused" : "error \(io.errnoCode)"))"
        }
        if let client = error as? HTTPClientError, client == .remoteConnectionClosed { return "the connection was closed" }
        return "the connection failed (\(String(describing: type(of: error))))"
    }

    /// Runs `body`, refusing with 9900224 once `seconds` have passed: the answer does not wait
    /// for a fetch that ignores cancellation (the fetch is cancelled and ends on its own).
    static func within<T: Sendable>(_ seconds: TimeInterval, url: String, _ body: @escaping @Sendable () async throws -> T)
        async throws -> T
    {
        let timedOut = CatalogueError(Catalogue.outboundTimedOut, ["url": url, "seconds": String(Int(seconds))])
        let race = Race<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                race.start(
                    continuation,
                    work: Task {
                        do { race.finish(.success(try await body())) } catch { race.finish(.failure(error)) }
                    },
                    timer: Task {
                        try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
                        if !Task.isCancelled { race.finish(.failure(timedOut)) }
                    })
            }
        } onCancel: {
            race.finish(.failure(CancellationError()))
        }
    }

    /// Threads of their own for getaddrinfo (it blocks): a name server that never answers holds
    /// these, never the pool that runs SQLite and bcrypt. At most `maximumInFlight` lookups wait.
    static let resolverPool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 4)
        pool.start()
        return pool
    }()

    /// getaddrinfo on `resolverPool`: every address, numeric.
    static func systemResolve(_ host: String) async throws -> [String] {
        try await resolverPool.runIfActive {
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            hints.ai_family = AF_UNSPEC
            var list: UnsafeMutablePointer<addrinfo>? = nil
            guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else {
                throw IOError(errnoCode: ENOENT, reason: "getaddrinfo")
            }
            defer { freeaddrinfo(list) }
            var addresses: [String] = []
            var cursor: UnsafeMutablePointer<addrinfo>? = first
            while let entry = cursor {
                var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
                if let address = entry.pointee.ai_addr,
                    getnameinfo(address, entry.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0
                {
                    let text = String(cString: buffer)
                    if !addresses.contains(text) { addresses.append(text) }
                }
                cursor = entry.pointee.ai_next
            }
            return addresses
        }
    }
}

/// A bounded count of work in progress.
final class InFlightCount: Sendable {
    private let count = Atomic<Int>(0)

    /// Counts one more unless `limit` are in progress.
    func enter(limit: Int) -> Bool {
        if count.wrappingAdd(1, ordering: .relaxed).newValue > limit {
            count.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func leave() { count.wrappingSubtract(1, ordering: .relaxed) }
}

/// The first of a fetch and its deadline to finish answers; the other is cancelled.
final class Race<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var early: Result<T, any Error>?
        var tasks: [Task<Void, Never>] = []
    }
    private let state = Mutex(State())

    func start(_ continuation: CheckedContinuation<T, any Error>, work: Task<Void, Never>, timer: Task<Void, Never>) {
        let early = state.withLock { state -> Result<T, any Error>? in
            state.tasks = [work, timer]
            if let early = state.early { return early }
            state.continuation = continuation
            return nil
        }
        if let early {
            work.cancel()
            timer.cancel()
            continuation.resume(with: early)
        }
    }

    func finish(_ result: Result<T, any Error>) {
        let (continuation, tasks) = state.withLock { state -> (CheckedContinuation<T, any Error>?, [Task<Void, Never>]) in
            guard let continuation = state.continuation else {
                if state.early == nil && state.tasks.isEmpty { state.early = result }
                return (nil, [])
            }
            state.continuation = nil
            return (continuation, state.tasks)
        }
        guard let continuation else { return }
        for task in tasks { task.cancel() }
        continuation.resume(with: result)
    }
}
