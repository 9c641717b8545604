import Crypto
import Foundation

/// Whether people may create their own accounts in a tenant (`/{tenant}/register`).
public enum RegistrationPolicy: String, Sendable, CaseIterable {
    /// Only administrators create users (the default).
    case off
    /// Anyone may register; the address must be verified before the first sign-in.
    case open
}

/// An email domain a tenant's registration accepts (`example.com`): lowercased, letters, digits,
/// hyphens and dots, at most 253 characters. Matched exactly (a subdomain is another domain).
public struct EmailDomain: Sendable, Hashable, CustomStringConvertible {
    public let value: String

    public init?(_ raw: String) {
        let domain = raw.trimmingCharacters(in: .whitespaces).lowercased()
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...253).contains(domain.count), labels.count >= 2,
            labels.allSatisfy({ label in
                (1...63).contains(label.count) && label.first != "-" && label.last != "-"
                    && label.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
            })
        else { return nil }
        value = domain
    }

    public var description: String { value }

    /// The domain of an address (`User.signInEmail` shape), if it is one.
    public static func of(address: String) -> EmailDomain? {
        guard let at = address.lastIndex(of: "@") else { return nil }
        return EmailDomain(String(address[address.index(after: at)...]))
    }
}

/// How a tenant's pages and mails look: its primary colour and support contact (the display name
/// is the tenant's own); the logo is kept apart (`TenantLogo`) and only its digest is here.
public struct TenantBranding: Sendable, Hashable {
    /// `#rrggbb`, lowercased; nil: Gatehouse's blue.
    public var primaryColor: String?
    /// An address or an `https` URL shown on error pages; nil: none.
    public var supportContact: String?
    /// The SHA-256 (hex) of the logo, if the tenant has one: part of the logo's URL, so that a
    /// new logo is a new URL and caches can keep one for a long time.
    public var logoDigest: String?

    public init(primaryColor: String? = nil, supportContact: String? = nil, logoDigest: String? = nil) {
        self.primaryColor = primaryColor
        self.supportContact = supportContact
        self.logoDigest = logoDigest
    }

    /// A colour as `#rrggbb` (or `#rgb`, widened), lowercased; nil for anything else (no names,
    /// no `url(...)`, nothing that could leave a CSS value).
    public static func color(_ raw: String) -> String? {
        let text = raw.trimmingCharacters(in: .whitespaces).lowercased()
        guard text.first == "#", text.dropFirst().allSatisfy(\.isHexDigit) else { return nil }
        switch text.count {
        case 7: return text
        case 4: return "#" + text.dropFirst().map { "\($0)\($0)" }.joined()
        default: return nil
        }
    }

    /// A support contact: an email address or an `https` URL, at most 200 characters, no
    /// control characters or spaces.
    public static func supportContact(_ raw: String) -> String? {
        let text = raw.trimmingCharacters(in: .whitespaces)
        guard (1...200).contains(text.count),
            !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0 == " " || $0 == "\"" || $0 == "<" })
        else { return nil }
        if text.lowercased().hasPrefix("https://") {
            guard let url = URLComponents(string: text), url.host?.isEmpty == false else { return nil }
            return text
        }
        return User.signInEmail(text) == nil ? nil : text
    }

    /// The contact as a link target: `mailto:` for an address.
    public var supportLink: String? {
        supportContact.map { $0.lowercased().hasPrefix("https://") ? $0 : "mailto:\($0)" }
    }

    /// Black or white, whichever reads better on the primary colour (WCAG relative luminance).
    public var textOnPrimary: String {
        guard let color = primaryColor, let value = Int(color.dropFirst(), radix: 16) else { return "#ffffff" }
        func channel(_ shift: Int) -> Double {
            let c = Double((value >> shift) & 0xff) / 255
            return c <= 0.03928 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4)
        }
        let luminance = 0.2126 * channel(16) + 0.7152 * channel(8) + 0.0722 * channel(0)
        return luminance > 0.179 ? "#000000" : "#ffffff"
    }
}

/// A tenant's logo: PNG or JPEG only, recognised by its bytes (not its name or a declared type),
/// at most `maximumBytes`, at most 1024 pixels a side. SVG (which can carry script) and
/// anything else are refused.
public struct TenantLogo: Sendable, Hashable {
    public static let maximumBytes = 100 * 1024
    public let contentType: String
    public let data: [UInt8]

    public enum Refusal: Error, Equatable, CustomStringConvertible {
        case tooLarge(Int)
        case notAnImage
        case tooManyPixels(width: Int, height: Int)

        public var description: String {
            switch self {
            case .tooLarge(let size): "the logo has \(size) bytes; at most \(TenantLogo.maximumBytes) are accepted"
            case .notAnImage: "the logo is not a PNG or JPEG image (SVG and other formats are refused, whatever the file is called)"
            case .tooManyPixels(let width, let height): "the logo is \(width)x\(height) pixels; at most 1024 a side"
            }
        }
    }

    /// Reads uploaded bytes.
    public init(_ bytes: [UInt8]) throws(Refusal) {
        guard bytes.count <= Self.maximumBytes else { throw .tooLarge(bytes.count) }
        let png: [UInt8] = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]
        if bytes.count > 33, Array(bytes.prefix(8)) == png, Array(bytes[12..<16]) == Array("IHDR".utf8) {
            let width = bytes[16..<20].reduce(0) { $0 << 8 | Int($1) }
            let height = bytes[20..<24].reduce(0) { $0 << 8 | Int($1) }
            guard (1...1024).contains(width), (1...1024).contains(height) else { throw .tooManyPixels(width: width, height: height) }
            contentType = "image/png"
        } else if bytes.count > 4, bytes[0] == 0xff, bytes[1] == 0xd8, bytes[2] == 0xff, bytes[bytes.count - 2] == 0xff,
            bytes[bytes.count - 1] == 0xd9
        {
            guard let (width, height) = Self.jpegSize(bytes) else { throw .notAnImage }
            guard (1...1024).contains(width), (1...1024).contains(height) else { throw .tooManyPixels(width: width, height: height) }
            contentType = "image/jpeg"
        } else {
            throw .notAnImage
        }
        data = bytes
    }

    /// A JPEG's size from its first start-of-frame segment (SOF0–SOF15 but DHT, JPG and DAC),
    /// walking the segments from the start; nil if there is none.
    static func jpegSize(_ bytes: [UInt8]) -> (width: Int, height: Int)? {
        var offset = 2
        while offset + 9 < bytes.count {
            guard bytes[offset] == 0xff else { return nil }
            let marker = bytes[offset + 1]
            if marker == 0xff {
                offset += 1
                continue
            }
            let length = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            if (0xc0...0xcf).contains(marker), ![0xc4, 0xc8, 0xcc].contains(marker) {
                let height = Int(bytes[offset + 5]) << 8 | Int(bytes[offset + 6])
                let width = Int(bytes[offset + 7]) << 8 | Int(bytes[offset + 8])
                return (width, height)
            }
            guard length >= 2 else { return nil }
            offset += 2 + length
        }
        return nil
    }

    /// Stored bytes of a known type.
    public init(stored contentType: String, data: [UInt8]) {
        self.contentType = contentType
        self.data = data
    }

    public var digest: String { SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() }
}
