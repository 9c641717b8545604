import Foundation

/// A QR code (ISO/IEC 18004) of bytes, error correction level M, versions 1 to 20 (up to 666
/// bytes: an `otpauth://` URI needs about 100), for the TOTP enrolment page. Byte mode only;
/// the mask with the lowest penalty (§7.8.3), or a given one (tests compare with other encoders).
public struct QRCode: Sendable, Equatable {
    /// 1...20.
    public let version: Int
    public let mask: Int
    /// Modules by row, true for dark; `size` × `size`, without the quiet zone.
    public let modules: [[Bool]]
    public var size: Int { modules.count }

    public enum Failure: Error, Equatable { case tooLong(Int) }

    public init(_ data: [UInt8], mask forcedMask: Int? = nil) throws(Failure) {
        guard let version = (1...20).first(where: { Self.capacity($0) >= data.count }) else { throw .tooLong(data.count) }
        self.version = version
        let codewords = Self.codewords(data, version: version)
        let base = Matrix(version: version)
        var best: (mask: Int, matrix: Matrix, penalty: Int)?
        for mask in forcedMask.map({ [$0] }) ?? Array(0..<8) {
            var matrix = base
            matrix.place(codewords, mask: mask)
            matrix.drawFormat(mask: mask)
            let penalty = forcedMask == nil ? matrix.penalty() : 0
            if best == nil || penalty < best?.penalty ?? .max { best = (mask, matrix, penalty) }
        }
        self.mask = best?.mask ?? 0
        self.modules = best?.matrix.dark ?? []
    }

    public init(_ text: String, mask: Int? = nil) throws(Failure) { try self.init(Array(text.utf8), mask: mask) }

    /// An SVG of the code (a quiet zone of 4 modules, `scale` pixels a module): one path, no
    /// script, no external reference.
    public func svg(scale: Int = 4, label: String = "QR code") -> String {
        let side = (size + 8) * scale
        var path = ""
        for (y, row) in modules.enumerated() {
            var x = 0
            while x < row.count {
                guard row[x] else {
                    x += 1
                    continue
                }
                var run = 1
                while x + run < row.count && row[x + run] { run += 1 }
                path += "M\(x + 4) \(y + 4)h\(run)v1h-\(run)z"
                x += run
            }
        }
        let escaped = HTMLText.escape(label)
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(side)\" height=\"\(side)\" viewBox=\"0 0 \(size + 8) \(size + 8)\" "
            + "role=\"img\" aria-label=\"\(escaped)\" shape-rendering=\"crispEdges\"><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>"
            + "<path fill=\"#000\" d=\"\(path)\"/></svg>"
    }

    // MARK: Tables (level M)

    /// Per version: EC codewords per block, and the blocks as (count, data codewords each).
    static let blocks: [(ec: Int, groups: [(count: Int, data: Int)])] = [
        (10, [(1, 16)]), (16, [(1, 28)]), (26, [(1, 44)]), (18, [(2, 32)]), (24, [(2, 43)]),
        (16, [(4, 27)]), (18, [(4, 31)]), (22, [(2, 38), (2, 39)]), (22, [(3, 36), (2, 37)]), (26, [(4, 43), (1, 44)]),
        (30, [(1, 50), (4, 51)]), (22, [(6, 36), (2, 37)]), (22, [(8, 37), (1, 38)]), (24, [(4, 40), (5, 41)]),
        (24, [(5, 41), (5, 42)]), (28, [(7, 45), (3, 46)]), (28, [(10, 46), (1, 47)]), (26, [(9, 43), (4, 44)]),
        (26, [(3, 44), (11, 45)]), (26, [(3, 41), (13, 42)]),
    ]

    static let alignment: [[Int]] = [
        [], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34], [6, 22, 38], [6, 24, 42], [6, 26, 46], [6, 28, 50],
        [6, 30, 54], [6, 32, 58], [6, 34, 62], [6, 26, 46, 66], [6, 26, 48, 70], [6, 26, 50, 74], [6, 30, 54, 78],
        [6, 30, 56, 82], [6, 30, 58, 86], [6, 34, 62, 90],
    ]

    static func dataCodewords(_ version: Int) -> Int {
        blocks[version - 1].groups.reduce(0) { $0 + $1.count * $1.data }
    }

    /// Bytes that fit: mode (4 bits), count (8 bits to version 9, 16 after), the bytes.
    static func capacity(_ version: Int) -> Int {
        (dataCodewords(version) * 8 - 4 - (version < 10 ? 8 : 16)) / 8
    }

    // MARK: Codewords

    static func codewords(_ data: [UInt8], version: Int) -> [UInt8] {
        var bits = BitBuffer()
        bits.append(0b0100, count: 4)
        bits.append(data.count, count: version < 10 ? 8 : 16)
        for byte in data { bits.append(Int(byte), count: 8) }
        let capacity = dataCodewords(version) * 8
        bits.append(0, count: min(4, capacity - bits.count))
        bits.append(0, count: (8 - bits.count % 8) % 8)
        var bytes = bits.bytes
        var pad: UInt8 = 0xEC
        while bytes.count < dataCodewords(version) {
            bytes.append(pad)
            pad = pad == 0xEC ? 0x11 : 0xEC
        }
        // Blocks, their error correction, then interleaved.
        let layout = blocks[version - 1]
        var dataBlocks: [[UInt8]] = []
        var offset = 0
        for group in layout.groups {
            for _ in 0..<group.count {
                dataBlocks.append(Array(bytes[offset..<offset + group.data]))
                offset += group.data
            }
        }
        let ecBlocks = dataBlocks.map { ReedSolomon.remainder($0, degree: layout.ec) }
        var result: [UInt8] = []
        for index in 0..<(dataBlocks.map(\.count).max() ?? 0) {
            for block in dataBlocks where index < block.count { result.append(block[index]) }
        }
        for index in 0..<layout.ec {
            for block in ecBlocks { result.append(block[index]) }
        }
        return result
    }

    struct BitBuffer {
        var bits: [Bool] = []
        var count: Int { bits.count }
        mutating func append(_ value: Int, count: Int) {
            guard count > 0 else { return }
            for shift in stride(from: count - 1, through: 0, by: -1) { bits.append((value >> shift) & 1 == 1) }
        }
        var bytes: [UInt8] {
            stride(from: 0, to: bits.count, by: 8).map { start in
                (0..<8).reduce(UInt8(0)) { byte, index in
                    byte << 1 | (start + index < bits.count && bits[start + index] ? 1 : 0)
                }
            }
        }
    }

    enum ReedSolomon {
        static let (exp, log): ([UInt8], [Int]) = {
            var exp = [UInt8](repeating: 0, count: 512)
            var log = [Int](repeating: 0, count: 256)
            var value = 1
            for index in 0..<255 {
                exp[index] = UInt8(value)
                log[value] = index
                value <<= 1
                if value & 0x100 != 0 { value ^= 0x11D }
            }
            for index in 255..<512 { exp[index] = exp[index - 255] }
            return (exp, log)
        }()

        static func multiply(_ a: UInt8, _ b: UInt8) -> UInt8 {
            a == 0 || b == 0 ? 0 : exp[log[Int(a)] + log[Int(b)]]
        }

        /// The generator polynomial of `degree` (roots α^0 … α^(degree-1)), highest term first.
        static func generator(_ degree: Int) -> [UInt8] {
            var polynomial: [UInt8] = [1]
            for index in 0..<degree {
                var next = [UInt8](repeating: 0, count: polynomial.count + 1)
                for (position, coefficient) in polynomial.enumerated() {
                    next[position] ^= coefficient
                    next[position + 1] ^= multiply(coefficient, exp[index])
                }
                polynomial = next
            }
            return polynomial
        }

        static func remainder(_ data: [UInt8], degree: Int) -> [UInt8] {
            let generator = generator(degree)
            var remainder = [UInt8](repeating: 0, count: degree)
            for byte in data {
                let factor = byte ^ remainder[0]
                remainder.removeFirst()
                remainder.append(0)
                for index in 0..<degree { remainder[index] ^= multiply(generator[index + 1], factor) }
            }
            return remainder
        }
    }

    // MARK: The matrix

    struct Matrix {
        let version: Int
        var dark: [[Bool]]
        /// Function patterns and format areas: not data, never masked.
        var reserved: [[Bool]]
        var size: Int { dark.count }

        init(version: Int) {
            self.version = version
            let size = 17 + 4 * version
            dark = Array(repeating: Array(repeating: false, count: size), count: size)
            reserved = dark
            for (x, y) in [(0, 0), (size - 7, 0), (0, size - 7)] { finder(x, y) }
            for index in 8..<(size - 8) {
                set(index, 6, index % 2 == 0)
                set(6, index, index % 2 == 0)
            }
            let centres = QRCode.alignment[version - 1]
            for cy in centres {
                for cx in centres where !(cx == 6 && cy == 6) && !(cx == 6 && cy == size - 7) && !(cx == size - 7 && cy == 6) {
                    for dy in -2...2 {
                        for dx in -2...2 { set(cx + dx, cy + dy, max(abs(dx), abs(dy)) != 1) }
                    }
                }
            }
            // Format areas (written per mask) and the dark module.
            for index in 0..<9 {
                reserve(index, 8)
                reserve(8, index)
            }
            for index in 0..<8 {
                reserve(size - 1 - index, 8)
                reserve(8, size - 1 - index)
            }
            set(8, size - 8, true)
            if version >= 7 { drawVersion() }
        }

        mutating func set(_ x: Int, _ y: Int, _ value: Bool) {
            dark[y][x] = value
            reserved[y][x] = true
        }

        mutating func reserve(_ x: Int, _ y: Int) { reserved[y][x] = true }

        mutating func finder(_ left: Int, _ top: Int) {
            for dy in -1...7 {
                for dx in -1...7 {
                    let (x, y) = (left + dx, top + dy)
                    guard x >= 0, y >= 0, x < size, y < size else { continue }
                    let ring = max(abs(dx - 3), abs(dy - 3))
                    set(x, y, ring != 2 && ring != 4)
                }
            }
        }

        mutating func drawVersion() {
            var bits = version << 12
            for shift in stride(from: 17, through: 12, by: -1) where bits & (1 << shift) != 0 { bits ^= 0x1F25 << (shift - 12) }
            let code = version << 12 | bits
            for index in 0..<18 {
                let bit = (code >> index) & 1 == 1
                let (a, b) = (index / 3, size - 11 + index % 3)
                set(a, b, bit)
                set(b, a, bit)
            }
        }

        mutating func drawFormat(mask: Int) {
            // Level M is 00.
            let data = mask
            var bits = data << 10
            for shift in stride(from: 14, through: 10, by: -1) where bits & (1 << shift) != 0 { bits ^= 0x537 << (shift - 10) }
            let code = (data << 10 | bits) ^ 0x5412
            func bit(_ index: Int) -> Bool { (code >> index) & 1 == 1 }
            // Around the top-left finder: bits 0-5 down column 8, 6-7 skip the timing row, 8 at the corner, 9-14 along row 8.
            for index in 0..<6 { dark[index][8] = bit(index) }
            dark[7][8] = bit(6)
            dark[8][8] = bit(7)
            dark[8][7] = bit(8)
            for index in 9..<15 { dark[8][14 - index] = bit(index) }
            // The copy: bits 0-7 along row 8 from the right, 8-14 up column 8 from the bottom.
            for index in 0..<8 { dark[8][size - 1 - index] = bit(index) }
            for index in 8..<15 { dark[size - 15 + index][8] = bit(index) }
            dark[size - 8][8] = true
        }

        static func masked(_ mask: Int, _ x: Int, _ y: Int) -> Bool {
            switch mask {
            case 0: (x + y) % 2 == 0
            case 1: y % 2 == 0
            case 2: x % 3 == 0
            case 3: (x + y) % 3 == 0
            case 4: (y / 2 + x / 3) % 2 == 0
            case 5: (x * y) % 2 + (x * y) % 3 == 0
            case 6: ((x * y) % 2 + (x * y) % 3) % 2 == 0
            default: ((x + y) % 2 + (x * y) % 3) % 2 == 0
            }
        }

        /// The codewords in the zigzag of two-module columns from the bottom right, skipping the
        /// timing column; remainder bits are light.
        mutating func place(_ codewords: [UInt8], mask: Int) {
            var bitIndex = 0
            let total = codewords.count * 8
            var upward = true
            var right = size - 1
            while right > 0 {
                if right == 6 { right -= 1 }
                for step in 0..<size {
                    let y = upward ? size - 1 - step : step
                    for x in [right, right - 1] where !reserved[y][x] {
                        var bit = false
                        if bitIndex < total {
                            bit = (codewords[bitIndex / 8] >> (7 - bitIndex % 8)) & 1 == 1
                            bitIndex += 1
                        }
                        dark[y][x] = bit != Self.masked(mask, x, y)
                    }
                }
                upward.toggle()
                right -= 2
            }
        }

        /// §7.8.3: runs of five or more, 2×2 blocks, finder-like patterns, dark proportion.
        func penalty() -> Int {
            var score = 0
            let lines = dark + (0..<size).map { x in dark.map { $0[x] } }
            for line in lines {
                var run = 1
                for index in 1..<line.count {
                    if line[index] == line[index - 1] {
                        run += 1
                    } else {
                        if run >= 5 { score += run - 2 }
                        run = 1
                    }
                }
                if run >= 5 { score += run - 2 }
                let pattern = [true, false, true, true, true, false, true]
                for index in 0...(line.count - 7) where Array(line[index..<index + 7]) == pattern {
                    let before = index >= 4 && line[(index - 4)..<index].allSatisfy { !$0 }
                    let after = index + 11 <= line.count && line[(index + 7)..<(index + 11)].allSatisfy { !$0 }
                    if before || after { score += 40 }
                }
            }
            for y in 0..<(size - 1) {
                for x in 0..<(size - 1) {
                    let value = dark[y][x]
                    if dark[y][x + 1] == value && dark[y + 1][x] == value && dark[y + 1][x + 1] == value { score += 3 }
                }
            }
            let darkCount = dark.reduce(0) { $0 + $1.filter { $0 }.count }
            let percent = darkCount * 100 / (size * size)
            score += (abs(percent - 50) / 5) * 10
            return score
        }
    }
}
