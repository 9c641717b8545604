import Foundation
import Testing

@testable import GatehouseCore

@Suite struct QRCodeTests {
    func hexRows(_ code: QRCode) -> [String] {
        code.modules.map { row in
            var bits = row.map { $0 ? "1" : "0" }.joined()
            bits += String(repeating: "0", count: (8 - bits.count % 8) % 8)
            return stride(from: 0, to: bits.count, by: 4).map { start in
                let nibble = bits.dropFirst(start).prefix(4)
                return String(Int(String(nibble), radix: 2) ?? 0, radix: 16)
            }.joined()
        }
    }

    /// Module for module what an independent encoder makes of the same bytes with the same mask:
    /// versions 1 to 13 (version information from 7 on), several blocks of two sizes, UTF-8.
    @Test(arguments: QRCodeVectors.all.indices)
    func matchesAnIndependentEncoder(index: Int) throws {
        let vector = QRCodeVectors.all[index]
        let code = try QRCode(vector.text, mask: vector.mask)
        #expect(code.version == vector.version)
        #expect(code.size == 17 + 4 * vector.version)
        let rows = hexRows(code)
        let differing = zip(rows, vector.rows).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
        if !differing.isEmpty {
            let pairs: [String] = zip(rows, vector.rows).map { mine, theirs in mine + " " + theirs }
            Issue.record(Comment(rawValue: "rows \(differing) differ:\n" + pairs.joined(separator: "\n")))
        }
        #expect(rows.count == vector.rows.count)
    }

    @Test func theMaskIsChosenAndTheSVGIsOnePathWithoutScript() throws {
        let code = try QRCode("otpauth://totp/Contoso:alice?secret=JBSWY3DPEHPK3PXP&issuer=Contoso")
        #expect((0..<8).contains(code.mask) && code.version == 5)
        let svg = code.svg(scale: 4, label: "Scan <me> & \"go\"")
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"180\" height=\"180\""))
        #expect(svg.contains("aria-label=\"Scan &lt;me&gt; &amp; &quot;go&quot;\""))
        #expect(!svg.contains("<script") && !svg.contains("href"))
        #expect(svg.components(separatedBy: "<path").count == 2)
    }

    @Test func tooMuchIsRefused() {
        #expect(throws: QRCode.Failure.tooLong(700)) { try QRCode([UInt8](repeating: 65, count: 700)) }
        #expect(QRCode.capacity(1) == 14 && QRCode.capacity(5) == 84 && QRCode.capacity(20) == 666)
    }
}
