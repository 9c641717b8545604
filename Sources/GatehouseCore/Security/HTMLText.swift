import Foundation

/// Text placed into HTML or SVG that Gatehouse writes by hand (mails, the QR code, the console's
/// chart): the five characters that could end a text node or an attribute value are escaped.
/// Pages rendered with Mustache escape their values themselves.
public enum HTMLText {
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
