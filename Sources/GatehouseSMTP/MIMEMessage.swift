import Foundation
import GatehouseCore

/// The RFC 5322 text of a mail: `multipart/alternative` with a plain-text and an HTML part, each
/// UTF-8 in base64 (so no line of the body can start with a dot or exceed 76 characters), a
/// `Subject` in RFC 2047 encoded words when it is not ASCII, and a `Message-ID` made from the
/// outbox row's ID (a resend carries the same one).
enum MIMEMessage {
    static func render(_ mail: MailMessage, from: String, envelopeFrom: String, id: String, date: Date) throws(MailDeliveryError) -> String
    {
        guard let to = SMTPSettings.address(in: mail.to), to == mail.to else {
            throw MailDeliveryError("the recipient '\(mail.to.prefix(80))' is not an address", permanent: true)
        }
        let domain = envelopeFrom.split(separator: "@").last.map(String.init) ?? "gatehouse.invalid"
        let boundary = "=_gatehouse_" + String(id.filter { $0.isLetter || $0.isNumber }.prefix(32))
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        var lines = [
            "Date: \(formatter.string(from: date))",
            "From: \(fromHeader(from, address: envelopeFrom))",
            "To: <\(to)>",
            "Subject: \(header(mail.subject))",
            "Message-ID: <\(id.filter { $0.isLetter || $0.isNumber || $0 == "-" })@\(domain)>",
            "MIME-Version: 1.0",
            "Auto-Submitted: auto-generated",
            "Content-Type: multipart/alternative; boundary=\"\(boundary)\"",
            "",
        ]
        for (type, body) in [("text/plain", mail.text), ("text/html", mail.html)] {
            lines += ["--\(boundary)", "Content-Type: \(type); charset=utf-8", "Content-Transfer-Encoding: base64", ""]
            lines += base64Lines(Data(body.utf8))
        }
        lines.append("--\(boundary)--")
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// `Name <address>` with the name encoded where it needs to be; `<address>` without one.
    static func fromHeader(_ from: String, address: String) -> String {
        guard let open = from.lastIndex(of: "<") else { return "<\(address)>" }
        let name = from[..<open].trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { return "<\(address)>" }
        let ascii = name.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F }
        let shown =
            ascii ? "\"" + name.replacingOccurrences(of: "\\", with: "").replacingOccurrences(of: "\"", with: "") + "\"" : header(name)
        return "\(shown) <\(address)>"
    }

    /// A header value as it may be written: ASCII without controls as it is; anything else as
    /// RFC 2047 encoded words (of 39 bytes: each line stays under 78 characters), folded.
    static func header(_ value: String) -> String {
        let clean = value.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        if clean.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) && clean.count <= 900 { return clean }
        var words: [String] = []
        var chunk = ""
        for character in clean {
            if chunk.utf8.count + String(character).utf8.count > 39 {
                words.append(chunk)
                chunk = ""
            }
            chunk.append(character)
        }
        if !chunk.isEmpty { words.append(chunk) }
        return words.map { "=?UTF-8?B?\(Data($0.utf8).base64EncodedString())?=" }.joined(separator: "\r\n ")
    }

    static func base64Lines(_ data: Data) -> [String] {
        let encoded = data.base64EncodedString()
        var lines: [String] = []
        var index = encoded.startIndex
        while index < encoded.endIndex {
            let end = encoded.index(index, offsetBy: 76, limitedBy: encoded.endIndex) ?? encoded.endIndex
            lines.append(String(encoded[index..<end]))
            index = end
        }
        return lines
    }
}
