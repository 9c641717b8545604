import Foundation
import GatehouseCore
import Testing

@Suite struct ScopeTests {
    @Test func parsesRFC6749Scopes() throws {
        #expect(try Scope(parsing: "a b c").tokens == ["a", "b", "c"])
        #expect(try Scope(parsing: "api://x/.default").tokens == ["api://x/.default"])
        #expect(try Scope(parsing: "a a b").tokens == ["a", "b"])
        #expect(try Scope(parsing: "!#[]~").tokens == ["!#[]~"])
    }

    @Test(arguments: ["", " ", "a  b", "a ", " a", "a\tb", "a\"b", "a\\b", "ä", "a\u{7F}"])
    func refusesMalformedScopes(raw: String) {
        #expect(throws: CatalogueError.self) { try Scope(parsing: raw) }
        do { _ = try Scope(parsing: raw) } catch { #expect(error.entry == Catalogue.invalidScope) }
    }

    @Test func subsetCheck() throws {
        let allowed = Scope(tokens: ["a", "b"])
        #expect(try Scope(parsing: "b a").notContained(in: allowed).isEmpty)
        #expect(try Scope(parsing: "a c d").notContained(in: allowed) == ["c", "d"])
    }
}

@Suite struct FormParametersTests {
    @Test func decodesPercentAndPlus() throws {
        let form = try FormParameters(parsing: Array("a=b+c&d=%41%62%2B&e=caf%C3%A9&f".utf8))
        #expect(form["a"] == "b c")
        #expect(form["d"] == "Ab+")
        #expect(form["e"] == "café")
        #expect(form["f"] == nil)
        #expect(form.names == ["a", "d", "e"])
    }

    @Test func resourceMayRepeatOthersMayNot() throws {
        let form = try FormParameters(parsing: Array("resource=x&resource=y".utf8))
        #expect(form.all("resource") == ["x", "y"])
        do {
            _ = try FormParameters(parsing: Array("scope=x&scope=y".utf8))
            Issue.record("no error")
        } catch { #expect(error.entry == Catalogue.duplicateParameter) }
    }

    @Test(arguments: ["a=%", "a=%4", "a=%G0", "=b", "a=%C3%28", "%FF=1"])
    func refusesMalformedBodies(body: String) {
        do {
            _ = try FormParameters(parsing: Array(body.utf8))
            Issue.record("no error for \(body)")
        } catch { #expect(error.entry == Catalogue.malformedRequestBody) }
    }

    /// Seeded property test: any set of distinct names and values, encoded by Foundation's form
    /// rules, parses back to itself.
    @Test func roundTripsEncodedPairs() throws {
        var seeded = LinearCongruential(seed: 42)
        let alphabet = Array("abcXYZ019 -._~!*'();:@&=+$,/?#[]%é€😀\"\\")
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        for _ in 0..<500 {
            var pairs: [String: String] = [:]
            for index in 0..<Int.random(in: 1...6, using: &seeded) {
                let value = String((0..<Int.random(in: 1...12, using: &seeded)).map { _ in alphabet.randomElement(using: &seeded)! })
                pairs["n\(index)\(alphabet.randomElement(using: &seeded)!)"] = value
            }
            let body = pairs.map {
                "\($0.key.addingPercentEncoding(withAllowedCharacters: allowed)!)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed)!)"
            }.joined(separator: "&")
            let form = try FormParameters(parsing: Array(body.utf8), repeatable: [])
            for (name, value) in pairs { #expect(form[name] == value, "\(body)") }
        }
    }
}

struct LinearCongruential: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state ^ (state >> 29)
    }
}

@Suite struct IdentifierTests {
    @Test func tenantNames() {
        for good in ["contoso", "a", "contoso.onmicrosoft.com", "t-1", String(repeating: "a", count: 63)] {
            #expect(TenantName.isValid(good), "\(good)")
        }
        for bad in ["", "Contoso", "-a", ".a", "a_b", "a/b", "a b", String(repeating: "a", count: 64), "ü"] {
            #expect(!TenantName.isValid(bad), "\(bad)")
        }
    }

    @Test func clientIDsAreVSCHAR() throws {
        #expect(try ClientID("my app:1").value == "my app:1")
        #expect(throws: CatalogueError.self) { try ClientID("") }
        #expect(throws: CatalogueError.self) { try ClientID("tab\there") }
        #expect(throws: CatalogueError.self) { try ClientID("é") }
    }

    @Test func resourceIndicators() throws {
        for good in ["https://api.example.com", "https://api.example.com/v1?x=1", "urn:example:resource", "api://guid/"] {
            #expect((try? ResourceIndicator(good)) != nil, "\(good)")
        }
        for bad in ["", "/relative", "https://api.example.com#f", "not a uri", "https://", "1http://x"] {
            #expect((try? ResourceIndicator(bad)) == nil, "\(bad)")
        }
    }
}

@Suite struct ClientCredentialParsingTests {
    @Test func basicIsFormDecodedPerRFC6749Section2_3_1() throws {
        // id "my app:1", secret "p+w%d" → form-encoded "my+app%3A1" and "p%2Bw%25d".
        let header = "Basic " + Data("my+app%3A1:p%2Bw%25d".utf8).base64EncodedString()
        let presented = try PresentedClientCredentials(authorization: header, form: FormParameters())
        #expect(presented == .basic(try ClientID("my app:1"), secret: "p+w%d"))
        #expect(presented.usedAuthorizationHeader)
    }

    @Test func exactlyOneMethod() throws {
        let post = try PresentedClientCredentials(authorization: nil, form: FormParameters(["client_id": ["a"], "client_secret": ["s"]]))
        #expect(post == .post(try ClientID("a"), secret: "s"))
        let none = try PresentedClientCredentials(authorization: nil, form: FormParameters(["client_id": ["a"]]))
        #expect(none == .none(try ClientID("a")))
        do {
            _ = try PresentedClientCredentials(
                authorization: "Basic " + Data("a:s".utf8).base64EncodedString(), form: FormParameters(["client_secret": ["s"]]))
            Issue.record("two methods accepted")
        } catch { #expect(error.entry == Catalogue.multipleClientAuthentication) }
        do {
            _ = try PresentedClientCredentials(authorization: nil, form: FormParameters())
            Issue.record("nothing accepted")
        } catch {
            #expect(error.entry == Catalogue.clientAuthenticationMissing)
        }
    }
}

@Suite struct SecurityTests {
    @Test func hmacSHA256MatchesRFC4231TestCase2() {
        let hasher = SecretHasher(key: Data("Jefe".utf8))
        #expect(hasher.hash("what do ya want for nothing?") == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(
            hasher.matches("what do ya want for nothing?", storedHash: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"))
        #expect(
            !hasher.matches("what do ya want for nothing!", storedHash: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"))
    }

    @Test func constantTimeEquality() {
        #expect(constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!constantTimeEquals([1, 2], [1, 2, 3]))
    }

    @Test func randomTokensCarry256Bits() {
        let token = RandomSource.system.token()
        #expect(Base64URL.decode(token)?.count == 32)
        #expect(RandomSource.system.token() != token)
    }

    @Test func guidStringsAreVersion4() {
        let guid = RandomSource.system.guidString()
        #expect(guid.range(of: "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", options: .regularExpression) != nil)
        #expect(UUID(uuidString: guid) != nil)
    }

    @Test func base64URLMatchesRFC4648Vectors() {
        // RFC 4648 §10, in the URL-safe alphabet without padding (RFC 7515 §2).
        let vectors = ["": "", "f": "Zg", "fo": "Zm8", "foo": "Zm9v", "foob": "Zm9vYg", "fooba": "Zm9vYmE", "foobar": "Zm9vYmFy"]
        for (input, output) in vectors { #expect(Base64URL.encode(Data(input.utf8)) == output) }
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8")
    }

    @Test func base64URLMatchesFoundation() {
        for length in 0..<40 {
            let bytes = Data((0..<length).map { UInt8(truncatingIfNeeded: $0 &* 91 &+ 7) })
            let foundation = bytes.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
            #expect(Base64URL.encode(bytes) == foundation)
        }
    }

    @Test func base64URLRoundTrip() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37) }
            #expect(Base64URL.decode(Base64URL.encode(bytes)) == Data(bytes))
        }
        #expect(Base64URL.decode("a=") == nil)
    }
}
