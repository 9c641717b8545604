import Foundation
import Testing

@testable import GatehouseCore

/// What a tenant's branding and registration accept, and recovery codes' shape.
@Suite struct TenantProfileTests {
    static let pngHeader: [UInt8] = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13] + Array("IHDR".utf8)

    static func png(width: Int, height: Int) -> [UInt8] {
        func be(_ value: Int) -> [UInt8] { [24, 16, 8, 0].map { UInt8((value >> $0) & 0xff) } }
        return pngHeader + be(width) + be(height) + [8, 2, 0, 0, 0] + [UInt8](repeating: 0, count: 40)
    }

    @Test func aLogoIsPNGOrJPEGByItsBytes() throws {
        #expect(try TenantLogo(Self.png(width: 120, height: 40)).contentType == "image/png")
        // A JPEG: SOI, an APP0 segment, SOF0 of 64x32, EOI.
        let jpeg: [UInt8] = [0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0xff, 0xc0, 0, 11, 8, 0, 32, 0, 64, 1, 1, 0x11, 0, 0xff, 0xd9]
        #expect(try TenantLogo(jpeg).contentType == "image/jpeg")
        let bomb: [UInt8] = [0xff, 0xd8, 0xff, 0xc0, 0, 11, 8, 0xff, 0xff, 0xff, 0xff, 1, 1, 0x11, 0, 0xff, 0xd9]
        #expect(throws: TenantLogo.Refusal.tooManyPixels(width: 65535, height: 65535)) { try TenantLogo(bomb) }
        #expect(throws: TenantLogo.Refusal.notAnImage) { try TenantLogo([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9]) }
        let svg = Array(#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#.utf8)
        #expect(throws: TenantLogo.Refusal.notAnImage) { try TenantLogo(svg) }
        #expect(throws: TenantLogo.Refusal.notAnImage) { try TenantLogo(Array("<!DOCTYPE html><p>hi".utf8)) }
        // A PNG signature in front of something else is not a PNG.
        #expect(throws: TenantLogo.Refusal.notAnImage) { try TenantLogo(Array(Self.pngHeader.prefix(8)) + svg) }
        #expect(throws: TenantLogo.Refusal.tooManyPixels(width: 5000, height: 10)) { try TenantLogo(Self.png(width: 5000, height: 10)) }
        #expect(throws: TenantLogo.Refusal.tooLarge(TenantLogo.maximumBytes + 1)) {
            try TenantLogo(Self.png(width: 1, height: 1) + [UInt8](repeating: 0, count: TenantLogo.maximumBytes + 1 - 69))
        }
    }

    @Test func coloursContactsAndDomainsAreStrict() {
        #expect(TenantBranding.color("#7A1FA2") == "#7a1fa2")
        #expect(TenantBranding.color("#abc") == "#aabbcc")
        for bad in ["red", "#12345", "#1234567", "#12345g", "url(x)", "#fff;}body{", ""] {
            #expect(TenantBranding.color(bad) == nil, "\(bad)")
        }
        #expect(TenantBranding.supportContact("help@example.com") == "help@example.com")
        #expect(TenantBranding.supportContact("https://help.example.com/x") == "https://help.example.com/x")
        for bad in ["javascript:alert(1)", "http://help.example.com", "a b@example.com", "https://x\"><script>", "nobody"] {
            #expect(TenantBranding.supportContact(bad) == nil, "\(bad)")
        }
        #expect(TenantBranding(primaryColor: "#ffff00").textOnPrimary == "#000000")
        #expect(TenantBranding(primaryColor: "#003366").textOnPrimary == "#ffffff")
        #expect(EmailDomain("Example.COM")?.value == "example.com")
        for bad in ["example", "-x.com", "x..com", "ex ample.com", "exa_mple.com", ""] { #expect(EmailDomain(bad) == nil, "\(bad)") }
        #expect(EmailDomain.of(address: "a@Mail.Example.com")?.value == "mail.example.com")
    }

    @Test func recoveryCodesAreTenBase32CharactersAndNormalise() {
        let codes = RecoveryCodes.generate(.system)
        #expect(codes.count == 10 && Set(codes).count == 10)
        for code in codes { #expect(code.count == 11 && RecoveryCodes.normalize(code)?.count == 10) }
        #expect(RecoveryCodes.normalize(" abcde-fgh23 ") == "ABCDEFGH23")
        #expect(RecoveryCodes.normalize("123456") == nil, "a TOTP code is not a recovery code")
        #expect(RecoveryCodes.normalize("ABCDEFGH18") == nil, "1 and 8 are not base32")
    }

    @Test func userAgentsAreSummarisedWithoutTheirText() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
        #expect(DeviceSummary.parse(chrome) == ("Chrome", "Linux"))
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36 Edg/131.0"
        #expect(DeviceSummary.parse(edge) == ("Edge", "Windows"))
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1"
        #expect(DeviceSummary.parse(iphone) == ("Safari", "iOS"))
        #expect(DeviceSummary.parse("<script>") == (nil, nil))
    }
}
