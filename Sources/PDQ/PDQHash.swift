/// A 256-bit PDQ hash. `hex` is the 64-character lowercase big-endian form the field exchanges.
///
/// Bit `k = 16 * row + column` of the 16x16 DCT is bit `k` of the 256-bit big-endian integer, so `words.0`
/// holds bits 255...192 (rows 15...12) and the first hex digit is row 15, columns 15...12.
public struct PDQHash: Hashable, Sendable, CustomStringConvertible {
    /// Words in big-endian order: `words.0` holds the first 16 hex digits.
    public var words: (UInt64, UInt64, UInt64, UInt64)

    /// Creates a hash from its four big-endian words.
    public init(words: (UInt64, UInt64, UInt64, UInt64)) { self.words = words }

    /// The all-zero hash (what PDQ returns for images under 5 pixels on a side).
    public static let zero = PDQHash(words: (0, 0, 0, 0))

    /// Parses 64 hex digits (either case); `nil` for anything else.
    public init?(hex: String) {
        var w: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var count = 0
        for c in hex.utf8 {
            let v: UInt64
            switch c {
            case 48...57: v = UInt64(c - 48)
            case 97...102: v = UInt64(c - 87)
            case 65...70: v = UInt64(c - 55)
            default: return nil
            }
            switch count >> 4 {
            case 0: w.0 = (w.0 << 4) | v
            case 1: w.1 = (w.1 << 4) | v
            case 2: w.2 = (w.2 << 4) | v
            case 3: w.3 = (w.3 << 4) | v
            default: return nil
            }
            count += 1
        }
        guard count == 64 else { return nil }
        words = w
    }

    /// The 64 lowercase hex digits, `words.0` first.
    public var hex: String {
        let w = words
        return String(unsafeUninitializedCapacity: 64) { out in
            @inline(__always) func put(_ word: UInt64, at start: Int) {
                for i in 0..<16 {
                    let nibble = UInt8(truncatingIfNeeded: word >> UInt64(60 - 4 * i)) & 0xF
                    out[start + i] = nibble < 10 ? 48 + nibble : 87 + nibble
                }
            }
            put(w.0, at: 0)
            put(w.1, at: 16)
            put(w.2, at: 32)
            put(w.3, at: 48)
            return 64
        }
    }

    /// The hex form.
    public var description: String { hex }

    /// Whether bit `k` (0...255, `k = 16 * row + column` of the DCT) is set.
    public func bit(_ k: Int) -> Bool {
        precondition((0..<256).contains(k), "PDQ bit index out of range")
        let word: UInt64
        switch k >> 6 {
        case 3: word = words.0
        case 2: word = words.1
        case 1: word = words.2
        default: word = words.3
        }
        return (word >> UInt64(k & 63)) & 1 == 1
    }

    /// Number of set bits (a PDQ hash of a non-degenerate image has 128).
    public var popcount: Int {
        words.0.nonzeroBitCount + words.1.nonzeroBitCount + words.2.nonzeroBitCount + words.3.nonzeroBitCount
    }

    /// Hamming distance, 0...256.
    public func distance(to other: PDQHash) -> Int {
        (words.0 ^ other.words.0).nonzeroBitCount + (words.1 ^ other.words.1).nonzeroBitCount
            + (words.2 ^ other.words.2).nonzeroBitCount + (words.3 ^ other.words.3).nonzeroBitCount
    }

    /// Equality of all 256 bits.
    public static func == (a: PDQHash, b: PDQHash) -> Bool {
        a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3
    }

    /// Feeds the four words to `h`.
    public func hash(into h: inout Hasher) {
        h.combine(words.0)
        h.combine(words.1)
        h.combine(words.2)
        h.combine(words.3)
    }
}

/// A hash with its quality (0...100; below 50 the hash should not be used for matching).
public struct PDQResult: Sendable, Equatable {
    /// The 256-bit hash.
    public var hash: PDQHash
    /// The reference's image-domain quality metric, 0...100. Reported as computed, also when under 50.
    public var quality: Int

    /// Creates a result.
    public init(hash: PDQHash, quality: Int) {
        self.hash = hash
        self.quality = quality
    }
}
