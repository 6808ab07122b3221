/// A 256-bit hash such as PDQ, held as four 64-bit words.
///
/// The words are in big-endian hex order: `w0` holds the first 16 hex digits of ``hex`` (the most significant
/// bits), `w3` the last 16. The 32-byte layout of ``bytes`` is the one `bytes.fromhex()`, faiss and HMA use.
public struct Hash256: Hashable, Sendable {
    /// The most significant 64 bits (hex digits 0–15).
    public var w0: UInt64
    /// Hex digits 16–31.
    public var w1: UInt64
    /// Hex digits 32–47.
    public var w2: UInt64
    /// The least significant 64 bits (hex digits 48–63).
    public var w3: UInt64

    /// Creates a hash from its four words, most significant first.
    public init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        self.w0 = w0
        self.w1 = w1
        self.w2 = w2
        self.w3 = w3
    }

    /// Parses exactly 64 hex digits (either case, no prefix, no whitespace); `nil` for anything else.
    public init?(hex: some StringProtocol) {
        // Contiguous UTF-8 (every native String) is parsed in place; anything else through a copy.
        if let parsed = hex.utf8.withContiguousStorageIfAvailable({ Hash256(hexUTF8: $0) }) {
            guard let parsed else { return nil }
            self = parsed
            return
        }
        var copy = String(hex)
        guard let parsed = copy.withUTF8({ Hash256(hexUTF8: $0) }) else { return nil }
        self = parsed
    }

    /// Parses exactly 64 hex digits given as UTF-8 bytes (either case); `nil` for anything else.
    public init?(hexUTF8 bytes: UnsafeBufferPointer<UInt8>) {
        guard bytes.count == 64, let base = bytes.baseAddress else { return nil }
        func word(_ offset: Int) -> UInt64? {
            var value: UInt64 = 0
            for i in offset..<(offset + 16) {
                guard let nibble = hexNibble(base[i]) else { return nil }
                value = value << 4 | UInt64(nibble)
            }
            return value
        }
        guard let w0 = word(0), let w1 = word(16), let w2 = word(32), let w3 = word(48) else { return nil }
        self.init(w0: w0, w1: w1, w2: w2, w3: w3)
    }

    /// Reads exactly 32 bytes in big-endian order (the `bytes.fromhex()` layout); `nil` for any other length.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 32 else { return nil }
        var words: [UInt64] = [0, 0, 0, 0]
        for (offset, byte) in bytes.enumerated() {
            words[offset >> 3] = words[offset >> 3] << 8 | UInt64(byte)
        }
        self.init(w0: words[0], w1: words[1], w2: words[2], w3: words[3])
    }

    /// The 64 lowercase hex digits.
    public var hex: String {
        String(unsafeUninitializedCapacity: 64) { out in
            func write(_ word: UInt64, at offset: Int) {
                for j in 0..<16 {
                    let nibble = UInt8(truncatingIfNeeded: (word >> UInt64(60 - 4 * j)) & 0xF)
                    out[offset + j] = nibble < 10 ? nibble &+ 0x30 : nibble &+ 0x57
                }
            }
            write(w0, at: 0)
            write(w1, at: 16)
            write(w2, at: 32)
            write(w3, at: 48)
            return 64
        }
    }

    /// The 32 bytes in big-endian order (the `bytes.fromhex()` layout).
    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(32)
        for word in [w0, w1, w2, w3] {
            for shift in stride(from: 56, through: 0, by: -8) {
                out.append(UInt8(truncatingIfNeeded: word >> UInt64(shift)))
            }
        }
        return out
    }

    /// The Hamming distance to `other`: the number of bits in which the two hashes differ (0–256).
    @inlinable
    public func distance(to other: Hash256) -> Int {
        (w0 ^ other.w0).nonzeroBitCount + (w1 ^ other.w1).nonzeroBitCount
            + (w2 ^ other.w2).nonzeroBitCount + (w3 ^ other.w3).nonzeroBitCount
    }

    /// The number of set bits (the hash's distance to zero).
    public var popcount: Int {
        w0.nonzeroBitCount + w1.nonzeroBitCount + w2.nonzeroBitCount + w3.nonzeroBitCount
    }
}

/// The value of one ASCII hex digit (either case), or nil.
@inline(__always)
func hexNibble(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte &- UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte &- UInt8(ascii: "a") &+ 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte &- UInt8(ascii: "A") &+ 10
    default: nil
    }
}

extension Hash256: CustomStringConvertible {
    /// The 64 lowercase hex digits.
    public var description: String { hex }
}

/// One indexed hash found by a search: its id in the index and its Hamming distance to the query.
public struct Match: Hashable, Sendable {
    /// The id the index gave the hash when it was inserted (insertion order, from 0).
    public let id: UInt32
    /// The Hamming distance between the query and the indexed hash.
    public let distance: Int

    /// Creates a match.
    public init(id: UInt32, distance: Int) {
        self.id = id
        self.distance = distance
    }
}

/// Errors from ``HammingIndex`` snapshots and ``DigestSet``.
public enum MatchError: Error, Equatable, Sendable {
    /// A file could not be opened, read, written, renamed or mapped; `errno` is the C error number.
    case io(operation: String, path: String, errno: Int32)
    /// The snapshot file is not a VigilMatch snapshot, has another version, or is truncated or inconsistent.
    case invalidSnapshot(path: String, reason: String)
    /// A digest was not 16 (MD5), 20 (SHA-1) or 32 (SHA-256) bytes, or its hex was malformed.
    case invalidDigest
}
