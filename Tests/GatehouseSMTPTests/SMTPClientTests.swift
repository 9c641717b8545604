import Foundation
import GatehouseCore
import NIOCore
import NIOEmbedded
import Testing

@testable import GatehouseSMTP

@Suite struct SMTPSettingsTests {
    @Test func urlsChooseTLSAndPlainOnlyToLoopback() throws {
        let submission = try SMTPSettings(url: "smtp://mailer:p%40ss@mail.example.com", from: "Gatehouse <id@example.com>")
        #expect(submission.security == .requireSTARTTLS && submission.port == 587 && submission.host == "mail.example.com")
        #expect(submission.username == "mailer" && submission.password == "p@ss")
        #expect(submission.envelopeFrom == "id@example.com")
        #expect(submission.description == "smtp://mailer@mail.example.com:587")
        #expect(!submission.description.contains("p@ss"))
        let implicit = try SMTPSettings(url: "smtps://mail.example.com", from: "id@example.com")
        #expect(implicit.security == .implicitTLS && implicit.port == 465)
        for loopback in ["smtp://localhost:2525", "smtp://127.0.0.1:25", "smtp://[::1]:25"] {
            #expect(try SMTPSettings(url: loopback, from: "id@example.com").security == .startTLSIfOffered)
        }
        // 127.0.0.1.example.com is a name like any other.
        #expect(try SMTPSettings(url: "smtp://127.0.0.1.example.com", from: "id@example.com").security == .requireSTARTTLS)
    }

    @Test func theGreetingNamesTheServersHost() {
        #expect(SMTPSettings.helloName(forHost: "login.example.com") == "login.example.com")
        #expect(SMTPSettings.helloName(forHost: "127.0.0.1") == "[127.0.0.1]")
        #expect(SMTPSettings.helloName(forHost: "::1") == "[IPv6:::1]")
        #expect(SMTPSettings.helloName(forHost: "[::1]") == "[IPv6:::1]")
        #expect(SMTPSettings.helloName(forHost: nil) == "localhost")
    }

    @Test func badSettingsAreRefusedWithTheKeyNamed() {
        for (url, from) in [
            ("http://mail.example.com", "id@example.com"), ("smtp://", "id@example.com"),
            ("smtp://user@mail.example.com", "id@example.com"),
            ("smtp://mail.example.com", "not an address"), ("smtp://mail.example.com", "A <a@b>\r\nBcc: x@y"),
            ("smtp://mail.example.com:0", "id@example.com"),
        ] {
            #expect(throws: SMTPSettingsError.self) { try SMTPSettings(url: url, from: from) }
        }
        #expect(throws: SMTPSettingsError.self) {
            try SMTPSettings(url: "smtps://mail.example.com", from: "id@example.com", extraCAFile: "/nonexistent/ca.pem")
        }
    }
}

@Suite struct MIMEMessageTests {
    let date = Date(timeIntervalSince1970: 1_800_000_000)

    func decode(_ message: String, part type: String) -> String? {
        guard let start = message.range(of: "Content-Type: \(type); charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n") else {
            return nil
        }
        let rest = message[start.upperBound...]
        let encoded = rest.prefix { $0 != "-" }.replacingOccurrences(of: "\r\n", with: "")
        return Data(base64Encoded: encoded).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func aMailIsMultipartWithBase64BodiesAndEncodedSubject() throws {
        let mail = MailMessage(
            to: "an@example.com", subject: "Đặt lại mật khẩu cho Công ty Cổ phần Thương mại Dịch vụ", text: "Xin chào\n.\nbye",
            html: "<p>Xin chào</p>")
        let text = try MIMEMessage.render(
            mail, from: "Gatehouse Đăng nhập <id@example.com>", envelopeFrom: "id@example.com", id: "0193-abc", date: date)
        #expect(text.contains("Date: Fri, 15 Jan 2027 08:00:00 +0000\r\n"))
        #expect(text.contains("To: <an@example.com>\r\n"))
        #expect(text.contains("Message-ID: <0193-abc@example.com>\r\n"))
        #expect(text.contains("Content-Type: multipart/alternative;"))
        #expect(text.contains("From: =?UTF-8?B?"))
        #expect(text.contains(" <id@example.com>\r\n"))
        // The subject in encoded words of at most 75 characters, folded.
        let subjectLines = text.components(separatedBy: "\r\n").drop { !$0.hasPrefix("Subject: ") }.prefix {
            $0.hasPrefix("Subject: ") || $0.hasPrefix(" ")
        }
        #expect(subjectLines.count > 1)
        #expect(subjectLines.allSatisfy { $0.count <= 78 })
        #expect(decode(text, part: "text/plain") == mail.text)
        #expect(decode(text, part: "text/html") == mail.html)
        // No line of the message is longer than RFC 5322's 78 characters, none starts with a dot.
        #expect(text.components(separatedBy: "\r\n").allSatisfy { $0.count <= 78 && !$0.hasPrefix(".") })
    }

    @Test func aRecipientThatIsNoAddressIsRefusedForGood() {
        for to in ["a@b\r\nBcc: c@d", "no-at-sign", "a b@example.com", "<a@b>"] {
            #expect {
                try MIMEMessage.render(
                    MailMessage(to: to, subject: "s", text: "t", html: "h"), from: "id@example.com", envelopeFrom: "id@example.com",
                    id: "1",
                    date: date)
            } throws: { error in
                (error as? MailDeliveryError)?.permanent == true
            }
        }
    }

    @Test func headersCannotBeInjected() {
        #expect(MIMEMessage.header("Hello\r\nBcc: x@example.com") == "Hello  Bcc: x@example.com")
    }
}

/// The reply reader on an embedded channel: what a server sends, byte by byte.
@Suite struct SMTPReplyReaderTests {
    func reader() throws -> (EmbeddedChannel, SMTPReplyReader) {
        let reader = SMTPReplyReader()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(reader)
        return (channel, reader)
    }

    func next(_ channel: EmbeddedChannel, _ reader: SMTPReplyReader) throws -> Result<SMTPReply, any Error> {
        let future = reader.next(on: channel.eventLoop)
        channel.embeddedEventLoop.run()
        var result: Result<SMTPReply, any Error>?
        future.whenComplete { result = $0 }
        channel.embeddedEventLoop.run()
        return try #require(result)
    }

    @Test func multiLineRepliesSplitAcrossReadsAreOneReply() throws {
        let (channel, reader) = try reader()
        try channel.writeInbound(ByteBuffer(string: "250-mail.example.test\r\n250-STARTTLS\r\n25"))
        try channel.writeInbound(ByteBuffer(string: "0 AUTH PLAIN LOGIN\r\n"))
        let reply = try next(channel, reader).get()
        #expect(reply.code == 250 && reply.lines == ["mail.example.test", "STARTTLS", "AUTH PLAIN LOGIN"])
        #expect(reader.isEmpty)
    }

    /// What was sent after a reply and not asked for is seen (the STARTTLS injection check).
    @Test func bytesAfterAReplyAreNoticed() throws {
        let (channel, reader) = try reader()
        try channel.writeInbound(ByteBuffer(string: "220 go ahead\r\n250 injected\r\n"))
        #expect(try next(channel, reader).get().code == 220)
        #expect(!reader.isEmpty)
        let (other, partial) = try self.reader()
        try other.writeInbound(ByteBuffer(string: "220 go ahead\r\n250-half"))
        #expect(try next(other, partial).get().code == 220)
        #expect(!partial.isEmpty)
    }

    @Test func anEndlessLineOrReplyIsCutOff() throws {
        let (channel, reader) = try reader()
        try channel.writeInbound(ByteBuffer(string: String(repeating: "x", count: 9000)))
        #expect(throws: MailDeliveryError.self) { try next(channel, reader).get() }
        #expect(!channel.isActive)

        let (other, endless) = try self.reader()
        try other.writeInbound(ByteBuffer(string: String(repeating: "250-more\r\n", count: 200)))
        #expect(throws: MailDeliveryError.self) { try next(other, endless).get() }
    }

    @Test func somethingThatIsNoReplyFailsTheRead() throws {
        let (channel, reader) = try reader()
        try channel.writeInbound(ByteBuffer(string: "HTTP/1.1 400 Bad Request\r\n"))
        #expect(throws: MailDeliveryError.self) { try next(channel, reader).get() }
    }
}
