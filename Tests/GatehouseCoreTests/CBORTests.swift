import Crypto
import CryptoExtras
import Foundation
import Testing

@testable import GatehouseCore

/// The strict CBOR decoder against RFC 8949 Appendix A, its refusals, and COSE keys.
@Suite struct CBORTests {
    static func hex(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }

    static func decode(_ text: String) throws -> CBOR { try CBORDecoder().decode(hex(text)) }

    /// RFC 8949 Appendix A: every example with definite lengths.
    static let appendixA: [(String, CBOR)] = [
        ("00", .unsigned(0)), ("01", .unsigned(1)), ("0a", .unsigned(10)), ("17", .unsigned(23)), ("1818", .unsigned(24)),
        ("1819", .unsigned(25)), ("1864", .unsigned(100)), ("1903e8", .unsigned(1000)), ("1a000f4240", .unsigned(1_000_000)),
        ("1b000000e8d4a51000", .unsigned(1_000_000_000_000)), ("1bffffffffffffffff", .unsigned(UInt64.max)),
        ("c249010000000000000000", .tagged(2, .bytes(hex("010000000000000000")))),
        ("3bffffffffffffffff", .negative(UInt64.max)),
        ("c349010000000000000000", .tagged(3, .bytes(hex("010000000000000000")))),
        ("20", .negative(0)), ("29", .negative(9)), ("3863", .negative(99)), ("3903e7", .negative(999)),
        ("f90000", .float(0.0)), ("f93c00", .float(1.0)), ("fb3ff199999999999a", .float(1.1)), ("f93e00", .float(1.5)),
        ("f97bff", .float(65504.0)), ("fa47c35000", .float(100000.0)), ("fa7f7fffff", .float(3.4028234663852886e+38)),
        ("fb7e37e43c8800759c", .float(1.0e+300)), ("f90001", .float(5.960464477539063e-8)), ("f90400", .float(0.00006103515625)),
        ("f9c400", .float(-4.0)), ("fbc010666666666666", .float(-4.1)), ("f97c00", .float(.infinity)),
        ("f9fc00", .float(-.infinity)), ("fa7f800000", .float(.infinity)), ("faff800000", .float(-.infinity)),
        ("fb7ff0000000000000", .float(.infinity)), ("fbfff0000000000000", .float(-.infinity)),
        ("f4", .bool(false)), ("f5", .bool(true)), ("f6", .null), ("f7", .undefined), ("f0", .simple(16)), ("f8ff", .simple(255)),
        ("c074323031332d30332d32315432303a30343a30305a", .tagged(0, .text("2013-03-21T20:04:00Z"))),
        ("c11a514b67b0", .tagged(1, .unsigned(1_363_896_240))), ("c1fb41d452d9ec200000", .tagged(1, .float(1363896240.5))),
        ("d74401020304", .tagged(23, .bytes([1, 2, 3, 4]))), ("d818456449455446", .tagged(24, .bytes(hex("6449455446")))),
        ("d82076687474703a2f2f7777772e6578616d706c652e636f6d", .tagged(32, .text("http://www.example.com"))),
        ("40", .bytes([])), ("4401020304", .bytes([1, 2, 3, 4])), ("60", .text("")), ("6161", .text("a")),
        ("6449455446", .text("IETF")), ("62225c", .text("\"\\")), ("62c3bc", .text("\u{00fc}")), ("63e6b0b4", .text("\u{6c34}")),
        ("64f0908591", .text("\u{10151}")), ("80", .array([])), ("83010203", .array([.unsigned(1), .unsigned(2), .unsigned(3)])),
        (
            "8301820203820405",
            .array([.unsigned(1), .array([.unsigned(2), .unsigned(3)]), .array([.unsigned(4), .unsigned(5)])])
        ),
        (
            "98190102030405060708090a0b0c0d0e0f101112131415161718181819",
            .array((1...25).map { .unsigned(UInt64($0)) })
        ),
        ("a0", .map([])), ("a201020304", .map([.init(.unsigned(1), .unsigned(2)), .init(.unsigned(3), .unsigned(4))])),
        (
            "a26161016162820203",
            .map([.init(.text("a"), .unsigned(1)), .init(.text("b"), .array([.unsigned(2), .unsigned(3)]))])
        ),
        ("826161a161626163", .array([.text("a"), .map([.init(.text("b"), .text("c"))])])),
        (
            "a56161614161626142616361436164614461656145",
            .map(
                [("a", "A"), ("b", "B"), ("c", "C"), ("d", "D"), ("e", "E")].map { CBOR.Pair(.text($0.0), .text($0.1)) })
        ),
    ]

    @Test func decodesEveryDefiniteLengthExampleOfAppendixA() throws {
        for (encoded, expected) in Self.appendixA {
            #expect(try Self.decode(encoded) == expected, "\(encoded)")
        }
        // NaN compares unequal to itself: checked apart.
        for encoded in ["f97e00", "fa7fc00000", "fb7ff8000000000000"] {
            guard case .float(let value) = try Self.decode(encoded) else {
                Issue.record("\(encoded) is no float")
                continue
            }
            #expect(value.isNaN, "\(encoded)")
        }
    }

    @Test func refusesWhatWebAuthnNeverSends() {
        let refused: [(String, CBORDecoder.Failure)] = [
            ("5f42010243030405ff", .indefiniteLength(at: 0)), ("7f657374726561646d696e67ff", .indefiniteLength(at: 0)),
            ("9fff", .indefiniteLength(at: 0)), ("bf61610161629f0203ffff", .indefiniteLength(at: 0)),
            ("a201020103", .duplicateKey(at: 3)), ("0001", .trailingBytes(at: 1)), ("18", .truncated(at: 1)),
            ("1a0000", .truncated(at: 1)), ("44010203", .tooLong(at: 0)), ("62c328", .invalidUTF8(at: 0)),
            ("1c", .reservedAdditionalInfo(at: 0)), ("f818", .invalidSimpleValue(at: 0)),
            // An array that claims more elements than there are bytes: refused before any work.
            ("9bffffffffffffffff00", .tooLong(at: 0)), ("bbffffffffffffffff00", .tooLong(at: 0)),
        ]
        for (encoded, failure) in refused {
            #expect(throws: failure, "\(encoded)") { _ = try CBORDecoder().decode(Self.hex(encoded)) }
        }
        // Nesting past the limit.
        let deep = [UInt8](repeating: 0x81, count: 40) + [0x00]
        #expect(throws: CBORDecoder.Failure.tooDeep(at: 17)) { _ = try CBORDecoder().decode(deep) }
        var few = CBORDecoder()
        few.maximumItems = 3
        #expect(throws: CBORDecoder.Failure.tooManyItems) { _ = try few.decode(Self.hex("83010203")) }
        // A prefix: the item and where it ends.
        let (item, end) = try! CBORDecoder().decodePrefix(Self.hex("a10102ffee"), from: 0)
        #expect(item[1] == .unsigned(2) && end == 3)
    }

    // MARK: COSE keys

    /// A minimal encoder for the tests' COSE maps (integer keys, byte and integer values).
    static func encode(_ item: CBOR) -> [UInt8] {
        func head(_ major: UInt8, _ value: UInt64) -> [UInt8] {
            switch value {
            case 0..<24: return [major << 5 | UInt8(value)]
            case 24..<256: return [major << 5 | 24, UInt8(value)]
            case 256..<65536: return [major << 5 | 25, UInt8(value >> 8), UInt8(value & 0xff)]
            default: return [major << 5 | 26] + [24, 16, 8, 0].map { UInt8((value >> UInt64($0)) & 0xff) }
            }
        }
        switch item {
        case .unsigned(let n): return head(0, n)
        case .negative(let n): return head(1, n)
        case .bytes(let bytes): return head(2, UInt64(bytes.count)) + bytes
        case .text(let text): return head(3, UInt64(text.utf8.count)) + Array(text.utf8)
        case .array(let items): return head(4, UInt64(items.count)) + items.flatMap(encode)
        case .map(let pairs): return head(5, UInt64(pairs.count)) + pairs.flatMap { encode($0.key) + encode($0.value) }
        default: return []
        }
    }

    static func int(_ value: Int) -> CBOR { value >= 0 ? .unsigned(UInt64(value)) : .negative(UInt64(-1 - value)) }

    static func coseMap(_ entries: [(Int, CBOR)]) -> CBOR { .map(entries.map { CBOR.Pair(int($0.0), $0.1) }) }

    @Test func coseKeysOfTheThreeAlgorithmsVerifyTheirSignaturesAfterARoundTripThroughCBOR() throws {
        let data = Array("authenticatorData || SHA-256(clientDataJSON)".utf8)

        let p256 = P256.Signing.PrivateKey()
        let point = Array(p256.publicKey.x963Representation)
        let ec2 = Self.coseMap([
            (1, .unsigned(2)), (3, Self.int(-7)), (-1, .unsigned(1)), (-2, .bytes(Array(point[1...32]))), (-3, .bytes(Array(point[33...]))),
        ])
        let es256 = try COSEKey(try CBORDecoder().decode(Self.encode(ec2)))
        let ecSignature = Array(try p256.signature(for: data).derRepresentation)
        #expect(es256.algorithm == .es256 && es256.verify(signature: ecSignature, over: data))
        #expect(!es256.verify(signature: ecSignature, over: data + [0]))

        let ed = Curve25519.Signing.PrivateKey()
        let okp = Self.coseMap([
            (1, .unsigned(1)), (3, Self.int(-8)), (-1, .unsigned(6)), (-2, .bytes(Array(ed.publicKey.rawRepresentation))),
        ])
        let edDSA = try COSEKey(try CBORDecoder().decode(Self.encode(okp)))
        #expect(edDSA.verify(signature: Array(try ed.signature(for: data)), over: data))
        #expect(!edDSA.verify(signature: [UInt8](repeating: 0, count: 64), over: data))

        let rsa = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let components = try rsa.publicKey.getKeyPrimitives()
        let rsaMap = Self.coseMap([
            (1, .unsigned(3)), (3, Self.int(-257)), (-1, .bytes(Array(components.modulus))), (-2, .bytes(Array(components.publicExponent))),
        ])
        let rs256 = try COSEKey(try CBORDecoder().decode(Self.encode(rsaMap)))
        let rsaSignature = try rsa.signature(for: data, padding: .insecurePKCS1v1_5)
        #expect(rs256.verify(signature: Array(rsaSignature.rawRepresentation), over: data))
        #expect(!rs256.verify(signature: Array(rsaSignature.rawRepresentation), over: data.reversed()))
    }

    @Test func coseKeysThatDoNotFitAreRefusedByName() {
        let x = CBOR.bytes([UInt8](repeating: 1, count: 32))
        #expect(throws: COSEKey.Failure.unsupportedAlgorithm(-35)) {
            try COSEKey(Self.coseMap([(1, .unsigned(2)), (3, Self.int(-35)), (-1, .unsigned(2)), (-2, x), (-3, x)]))
        }
        #expect(throws: COSEKey.Failure.wrongKeyType(expected: 2, found: 1)) {
            try COSEKey(Self.coseMap([(1, .unsigned(1)), (3, Self.int(-7)), (-1, .unsigned(1)), (-2, x), (-3, x)]))
        }
        #expect(throws: COSEKey.Failure.unsupportedCurve(2)) {
            try COSEKey(Self.coseMap([(1, .unsigned(2)), (3, Self.int(-7)), (-1, .unsigned(2)), (-2, x), (-3, x)]))
        }
        // A point not on the curve.
        #expect(throws: COSEKey.Failure.badParameter("x, y")) {
            try COSEKey(Self.coseMap([(1, .unsigned(2)), (3, Self.int(-7)), (-1, .unsigned(1)), (-2, x), (-3, x)]))
        }
        #expect(throws: COSEKey.Failure.badParameter("n")) {
            try COSEKey(Self.coseMap([(1, .unsigned(3)), (3, Self.int(-257)), (-1, .bytes([1, 2, 3])), (-2, .bytes([1, 0, 1]))]))
        }
        #expect(throws: COSEKey.Failure.notAMap) { try COSEKey(.array([])) }
    }
}
