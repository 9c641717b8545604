import Foundation
import GatehouseCore
import NIOCore
import NIOPosix
import NIOSSL

/// Sends a mail per connection over SMTP submission (`SMTPSettings`): greeting, EHLO, STARTTLS
/// (or TLS from the start), EHLO again, AUTH PLAIN or LOGIN, MAIL FROM, RCPT TO, DATA, QUIT. Each
/// step has the settings' deadline. Failures are `MailDeliveryError`s whose text tells an operator
/// what to fix (never the password); the server refusing the recipient or the message for good
/// (5xx to RCPT or to the message) is permanent, everything else is tried again later.
public struct SMTPTransport: MailTransport {
    public let settings: SMTPSettings
    let tls: NIOSSLContext
    let group: any EventLoopGroup

    public init(settings: SMTPSettings, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) throws {
        self.settings = settings
        self.group = group
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.certificateVerification = .fullVerification
        configuration.trustRoots = .default
        if let file = settings.extraCAFile {
            let certificates = try NIOSSLCertificate.fromPEMFile(file)
            guard !certificates.isEmpty else { throw SMTPSettingsError("gatehouse.tls.extra_ca_file '\(file)' holds no PEM certificate") }
            configuration.additionalTrustRoots = [.certificates(certificates)]
        }
        tls = try NIOSSLContext(configuration: configuration)
    }

    public func send(_ mail: MailMessage, id: String) async throws {
        let message = try MIMEMessage.render(mail, from: settings.from, envelopeFrom: settings.envelopeFrom, id: id, date: Date())
        let session = try await SMTPSession.connect(
            settings: settings, tls: tls, group: group, deadline: NIODeadline.now() + .seconds(settings.deadline.components.seconds))
        do {
            try await session.deliver(message, to: mail.to)
            await session.close()
        } catch {
            await session.close()
            throw error
        }
    }
}

/// One SMTP reply: its code and its lines' texts.
struct SMTPReply: Sendable {
    let code: Int
    let lines: [String]
    var text: String { "\(code) " + lines.joined(separator: " / ").prefix(300) }
}

/// One connection's dialogue.
struct SMTPSession: Sendable {
    let channel: any Channel
    let reader: SMTPReplyReader
    let settings: SMTPSettings
    let tls: NIOSSLContext
    /// The whole dialogue ends by then: each reply waits at most until it.
    let deadline: NIODeadline

    static func connect(settings: SMTPSettings, tls: NIOSSLContext, group: any EventLoopGroup, deadline: NIODeadline) async throws
        -> SMTPSession
    {
        let reader = SMTPReplyReader()
        let implicit = settings.security == .implicitTLS
        let host = settings.host
        let timeout = TimeAmount.nanoseconds(Int64(settings.timeout.components.seconds) * 1_000_000_000)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(timeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if implicit { try channel.pipeline.syncOperations.addHandler(try Self.tlsHandler(tls, host: host)) }
                        try channel.pipeline.syncOperations.addHandler(reader)
                    }
                }
                .connect(host: host, port: settings.port).get()
        } catch {
            throw MailDeliveryError("cannot connect to the SMTP server \(settings): \(error)")
        }
        // The whole mail's deadline, whatever step it is at (a TLS handshake that never ends, a
        // write that never drains): the connection is closed and the reader says why.
        let limit = settings.deadline.components.seconds
        let description = settings.description
        channel.eventLoop.scheduleTask(deadline: deadline) {
            reader.fail(MailDeliveryError("the SMTP server \(description) did not take the mail within \(limit) s"))
            channel.close(promise: nil)
        }
        return SMTPSession(channel: channel, reader: reader, settings: settings, tls: tls, deadline: deadline)
    }

    static func tlsHandler(_ context: NIOSSLContext, host: String) throws -> NIOSSLClientHandler {
        // An IP address is no SNI name: NIOSSL then checks the certificate against the address.
        let isAddress = host.contains(":") || host.split(separator: ".").allSatisfy { UInt8($0) != nil }
        return try NIOSSLClientHandler(context: context, serverHostname: isAddress ? nil : host)
    }

    func deliver(_ message: String, to recipient: String) async throws {
        try expect(try await reply(), 220, "greeting")
        var hello = try await command("EHLO \(settings.helloName)", expecting: 250, "EHLO")
        if settings.security != .implicitTLS {
            let offered = hello.lines.contains { $0.uppercased().hasPrefix("STARTTLS") }
            if offered {
                _ = try await command("STARTTLS", expecting: 220, "STARTTLS")
                // Anything the server sent after the 220 and before TLS was injected in the clear
                // (CVE-2011-0411's class): it must not be read as an answer once TLS is up.
                let reader = self.reader
                guard try await channel.eventLoop.submit({ reader.isEmpty }).get() else {
                    throw MailDeliveryError(
                        "the SMTP server \(settings) sent more after its STARTTLS answer, before TLS: refused (a STARTTLS injection)")
                }
                let (tls, host) = (self.tls, settings.host)
                try await channel.eventLoop.submit { [channel] in
                    try channel.pipeline.syncOperations.addHandler(try Self.tlsHandler(tls, host: host), position: .first)
                }.get()
                hello = try await command("EHLO \(settings.helloName)", expecting: 250, "EHLO after STARTTLS")
            } else if settings.security == .requireSTARTTLS {
                throw MailDeliveryError(
                    "the SMTP server \(settings) does not offer STARTTLS, and Gatehouse sends mail in the clear only to a loopback host: "
                        + "use smtps:// or a server that offers STARTTLS")
            }
        }
        if let username = settings.username, let password = settings.password {
            try await authenticate(username, password, offered: hello.lines)
        }
        _ = try await command("MAIL FROM:<\(settings.envelopeFrom)>", expecting: 250, "MAIL FROM")
        let rcpt = try await command("RCPT TO:<\(recipient)>", "RCPT TO")
        guard rcpt.code == 250 || rcpt.code == 251 else {
            throw MailDeliveryError("the SMTP server refused the recipient: \(rcpt.text)", permanent: rcpt.code >= 500)
        }
        _ = try await command("DATA", expecting: 354, "DATA")
        // Dot-stuffing (RFC 5321 §4.5.2); base64 bodies make it rare, headers could still need it.
        let stuffed = message.replacingOccurrences(of: "\r\n.", with: "\r\n..")
        try await write((stuffed.hasPrefix(".") ? "." + stuffed : stuffed) + ".\r\n", "the message")
        let accepted = try await reply()
        guard accepted.code == 250 else {
            throw MailDeliveryError("the SMTP server refused the message: \(accepted.text)", permanent: accepted.code >= 500)
        }
        _ = try? await command("QUIT", "QUIT")
    }

    private func authenticate(_ username: String, _ password: String, offered: [String]) async throws {
        let mechanisms = Set(
            offered.filter { $0.uppercased().hasPrefix("AUTH") }.flatMap {
                $0.uppercased().split(whereSeparator: { $0 == " " || $0 == "=" })
            }
            .map(String.init))
        if mechanisms.contains("PLAIN") {
            let credentials = Data(([0] + Array(username.utf8) + [0] + Array(password.utf8))).base64EncodedString()
            _ = try await command("AUTH PLAIN \(credentials)", expecting: 235, "AUTH", shown: "AUTH PLAIN")
        } else if mechanisms.contains("LOGIN") {
            _ = try await command("AUTH LOGIN", expecting: 334, "AUTH")
            _ = try await command(Data(username.utf8).base64EncodedString(), expecting: 334, "AUTH", shown: "AUTH LOGIN (user)")
            _ = try await command(Data(password.utf8).base64EncodedString(), expecting: 235, "AUTH", shown: "AUTH LOGIN (password)")
        } else {
            throw MailDeliveryError(
                "the SMTP server \(settings) offers no AUTH PLAIN or LOGIN\(mechanisms.isEmpty ? " (none at all: is TLS in place?)" : "")")
        }
    }

    private func command(_ line: String, expecting code: Int, _ step: String, shown: String? = nil) async throws -> SMTPReply {
        let answer = try await command(line, step)
        try expect(answer, code, shown ?? step)
        return answer
    }

    private func command(_ line: String, _ step: String) async throws -> SMTPReply {
        try await write(line + "\r\n", step)
        return try await reply(step)
    }

    private func expect(_ reply: SMTPReply, _ code: Int, _ step: String) throws {
        guard reply.code == code else {
            let hint = reply.code == 535 || reply.code == 534 ? " (check the user and password in gatehouse.smtp.url)" : ""
            throw MailDeliveryError("the SMTP server \(settings) answered \(step) with \(reply.text)\(hint)")
        }
    }

    /// A write fails once the connection is gone; why it went (a TLS refusal, say) is what the
    /// reader saw, and is what this throws.
    private func write(_ text: String, _ step: String) async throws {
        do {
            try await channel.writeAndFlush(ByteBuffer(string: text)).get()
        } catch {
            _ = try await reply(step)
            throw MailDeliveryError("the connection to the SMTP server \(settings) failed at \(step): \(error)")
        }
    }

    private func reply(_ step: String = "greeting") async throws -> SMTPReply {
        let loop = channel.eventLoop
        let reader = self.reader
        let seconds = settings.timeout.components.seconds
        let due = min(NIODeadline.now() + .seconds(seconds), deadline)
        let settings = self.settings
        let timer = loop.scheduleTask(deadline: due) {
            reader.fail(
                MailDeliveryError(
                    "the SMTP server \(settings) did not answer \(step) in time (\(seconds) s a reply, "
                        + "\(settings.deadline.components.seconds) s a mail)"))
        }
        defer { timer.cancel() }
        do {
            return try await loop.flatSubmit { reader.next(on: loop) }.get()
        } catch let error as MailDeliveryError {
            throw error
        } catch let error as NIOSSLExtraError {
            throw MailDeliveryError(
                "TLS with the SMTP server \(settings) failed: \(error) (the certificate must name the host in gatehouse.smtp.url)")
        } catch let error as NIOSSLError {
            throw MailDeliveryError(
                "TLS with the SMTP server \(settings) failed: \(error) (is its certificate from a CA in the system store or in "
                    + "gatehouse.tls.extra_ca_file?)")
        } catch {
            throw MailDeliveryError("the connection to the SMTP server \(settings) failed at \(step): \(error)")
        }
    }

    func close() async {
        try? await channel.close().get()
    }
}

/// Splits what the server sends into replies (`250-…` lines continue one, `250 …` ends it) and
/// hands them out in order. Lives on the channel's event loop: every method runs there. Bounded:
/// a line of at most `maximumLine` bytes, a reply of at most `maximumLines` lines, at most
/// `maximumQueued` replies waiting; a server that sends more is cut off.
final class SMTPReplyReader: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    private var buffer = ByteBuffer()
    private var lines: [String] = []
    private var replies: [Result<SMTPReply, any Error>] = []
    private var waiter: EventLoopPromise<SMTPReply>?
    private var failure: (any Error)?
    static let maximumLine = 8192
    static let maximumLines = 100
    static let maximumQueued = 16

    /// Nothing received that was not read: no reply waiting, no part of one.
    var isEmpty: Bool { replies.isEmpty && lines.isEmpty && buffer.readableBytes == 0 }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        buffer.writeBuffer(&incoming)
        while let end = buffer.readableBytesView.firstIndex(of: 10) {
            let length = end - buffer.readerIndex
            guard var line = buffer.readBytes(length: length + 1) else { break }
            line.removeLast()
            if line.last == 13 { line.removeLast() }
            take(String(decoding: line, as: UTF8.self))
            if failure != nil { break }
        }
        buffer.discardReadBytes()
        if failure == nil, buffer.readableBytes > Self.maximumLine {
            fail(MailDeliveryError("the SMTP server sent a line longer than \(Self.maximumLine) bytes"))
        }
        if failure == nil, lines.count > Self.maximumLines || replies.count > Self.maximumQueued {
            fail(
                MailDeliveryError(
                    "the SMTP server sent more than an SMTP client reads (a reply of over \(Self.maximumLines) lines, or replies nobody asked for)"
                ))
        }
        if failure != nil { context.close(promise: nil) }
    }

    private func take(_ line: String) {
        let characters = Array(line.utf8)
        guard characters.count >= 3, let code = Int(String(decoding: characters[0..<3], as: UTF8.self)), (200...599).contains(code),
            characters.count == 3 || characters[3] == UInt8(ascii: " ") || characters[3] == UInt8(ascii: "-")
        else {
            deliver(.failure(MailDeliveryError("the SMTP server sent something that is no SMTP reply: '\(line.prefix(80))'")))
            return
        }
        lines.append(characters.count > 4 ? String(decoding: characters[4...], as: UTF8.self) : "")
        if characters.count == 3 || characters[3] == UInt8(ascii: " ") {
            deliver(.success(SMTPReply(code: code, lines: lines)))
            lines = []
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(MailDeliveryError("the SMTP server closed the connection"))
        context.fireChannelInactive()
    }

    /// Fails the waiting read and every later one (the first failure is kept).
    func fail(_ error: any Error) {
        if failure == nil { failure = error }
        if let waiter {
            self.waiter = nil
            waiter.fail(failure ?? error)
        }
    }

    private func deliver(_ result: Result<SMTPReply, any Error>) {
        if let waiter {
            self.waiter = nil
            waiter.completeWith(result)
        } else {
            replies.append(result)
        }
    }

    func next(on loop: any EventLoop) -> EventLoopFuture<SMTPReply> {
        if !replies.isEmpty { return loop.makeCompletedFuture(replies.removeFirst()) }
        if let failure { return loop.makeFailedFuture(failure) }
        let promise = loop.makePromise(of: SMTPReply.self)
        waiter = promise
        return promise.futureResult
    }
}
