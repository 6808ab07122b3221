/// The cryptographic digests a ``DigestSet`` holds, told apart by their length.
public enum DigestAlgorithm: String, Sendable, CaseIterable {
    /// MD5, 16 bytes.
    case md5
    /// SHA-1, 20 bytes.
    case sha1
    /// SHA-256, 32 bytes.
    case sha256

    /// The digest length in bytes.
    public var byteCount: Int {
        switch self {
        case .md5: 16
        case .sha1: 20
        case .sha256: 32
        }
    }

    /// The algorithm whose digests have `byteCount` bytes, if any.
    public init?(byteCount: Int) {
        switch byteCount {
        case 16: self = .md5
        case 20: self = .sha1
        case 32: self = .sha256
        default: return nil
        }
    }
}

/// Exact membership of MD5, SHA-1 and SHA-256 digests, compact enough for 100 million entries.
///
/// Each algorithm has its own open-addressing table: digests are packed into contiguous `UInt64` words
/// (2, 3 or 4 per digest) and a slot array holds a 32-bit tag and the digest's index, so a lookup usually
/// touches one slot and one record. About 16–32 bytes per digest plus 8–16 bytes of slots (at most 48 bytes
/// per MD5 and 64 per SHA-256 in the worst case just after the table doubles).
///
/// A value type: copies share storage until one is changed.
public struct DigestSet: Sendable {
    private var tables: [DigestTable] = [DigestTable(words: 2), DigestTable(words: 3), DigestTable(words: 4)]

    /// Creates an empty set.
    public init() {}

    /// The number of distinct digests of every algorithm.
    public var count: Int { tables.reduce(0) { $0 + $1.count } }

    /// The number of distinct digests of `algorithm`.
    public func count(of algorithm: DigestAlgorithm) -> Int { tables[Self.slot(algorithm)].count }

    /// Reserves room for `capacity` digests of `algorithm`, so a bulk load does not regrow the table.
    public mutating func reserveCapacity(_ capacity: Int, for algorithm: DigestAlgorithm) {
        tables[Self.slot(algorithm)].reserve(capacity)
    }

    /// Adds a digest given as its raw bytes; returns false if it was already present.
    ///
    /// - Throws: ``MatchError/invalidDigest`` unless it has 16, 20 or 32 bytes.
    @discardableResult
    public mutating func insert(_ digest: some Collection<UInt8>) throws(MatchError) -> Bool {
        guard let algorithm = DigestAlgorithm(byteCount: digest.count) else { throw .invalidDigest }
        let key = Self.pack(digest)
        return tables[Self.slot(algorithm)].insert(key)
    }

    /// Adds a digest given as 32, 40 or 64 hex digits (either case); returns false if it was already present.
    ///
    /// - Throws: ``MatchError/invalidDigest`` for any other text.
    @discardableResult
    public mutating func insert(hex: some StringProtocol) throws(MatchError) -> Bool {
        guard let bytes = Self.bytes(hex: hex) else { throw .invalidDigest }
        return try insert(bytes)
    }

    /// Whether the digest (raw bytes) is in the set; false for a length no algorithm has.
    public func contains(_ digest: some Collection<UInt8>) -> Bool {
        guard let algorithm = DigestAlgorithm(byteCount: digest.count) else { return false }
        return tables[Self.slot(algorithm)].contains(Self.pack(digest))
    }

    /// Whether the digest (hex, either case) is in the set; false for malformed hex.
    public func contains(hex: some StringProtocol) -> Bool {
        guard let bytes = Self.bytes(hex: hex) else { return false }
        return contains(bytes)
    }

    private static func slot(_ algorithm: DigestAlgorithm) -> Int {
        switch algorithm {
        case .md5: 0
        case .sha1: 1
        case .sha256: 2
        }
    }

    /// Big-endian words, the last one padded with zero bytes (one dynamic call, then concrete code).
    private static func pack(_ digest: some Collection<UInt8>) -> DigestKey {
        if let key = digest.withContiguousStorageIfAvailable({ pack(buffer: $0) }) { return key }
        return Array(digest).withUnsafeBufferPointer { pack(buffer: $0) }
    }

    private static func pack(buffer: UnsafeBufferPointer<UInt8>) -> DigestKey {
        var key = DigestKey()
        for i in 0..<buffer.count {
            key[i >> 3] |= UInt64(buffer[i]) << UInt64(56 - 8 * (i & 7))
        }
        return key
    }

    private static func bytes(hex: some StringProtocol) -> [UInt8]? {
        let utf8 = Array(hex.utf8)
        guard utf8.count % 2 == 0, DigestAlgorithm(byteCount: utf8.count / 2) != nil else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        var i = 0
        while i < utf8.count {
            guard let high = hexNibble(utf8[i]), let low = hexNibble(utf8[i + 1]) else { return nil }
            out.append(high << 4 | low)
            i += 2
        }
        return out
    }

}

/// Up to four big-endian words of a digest, without a heap allocation.
struct DigestKey {
    var w0: UInt64 = 0
    var w1: UInt64 = 0
    var w2: UInt64 = 0
    var w3: UInt64 = 0

    subscript(i: Int) -> UInt64 {
        get {
            switch i {
            case 0: w0
            case 1: w1
            case 2: w2
            default: w3
            }
        }
        set {
            switch i {
            case 0: w0 = newValue
            case 1: w1 = newValue
            case 2: w2 = newValue
            default: w3 = newValue
            }
        }
    }
}

/// An open-addressing (linear probing) set of fixed-width keys of `words` UInt64 each.
struct DigestTable: Sendable {
    let words: Int
    private(set) var count = 0
    private var records: [UInt64] = []
    /// 0 = empty; otherwise tag (high 32 bits) | record index + 1 (low 32 bits).
    private var slots: [UInt64] = []
    private var shift: UInt64 = 64

    init(words: Int) { self.words = words }

    private static let maxLoad = 0.8

    mutating func reserve(_ capacity: Int) {
        records.reserveCapacity(capacity * words)
        var size = 16
        while Double(capacity) > Double(size) * Self.maxLoad { size *= 2 }
        if size > slots.count { rehash(size: size) }
    }

    @inline(__always)
    private func hash(_ first: UInt64) -> (index: Int, tag: UInt64) {
        let mixed = first &* 0x9E37_79B9_7F4A_7C15
        return (Int(truncatingIfNeeded: mixed >> shift), (first ^ (first >> 29)) & 0xFFFF_FFFF)
    }

    func contains(_ key: DigestKey) -> Bool {
        guard count > 0 else { return false }
        return find(key).found
    }

    /// The slot holding `key`, or the empty slot where it would go.
    private func find(_ key: DigestKey) -> (found: Bool, slot: Int) {
        let (start, tag) = hash(key[0])
        let mask = slots.count - 1
        var i = start
        return records.withUnsafeBufferPointer { records in
            slots.withUnsafeBufferPointer { slots in
                while true {
                    let slot = slots[i]
                    if slot == 0 { return (false, i) }
                    if slot >> 32 == tag {
                        let base = Int(slot & 0xFFFF_FFFF - 1) * words
                        var equal = true
                        for w in 0..<words where records[base + w] != key[w] {
                            equal = false
                            break
                        }
                        if equal { return (true, i) }
                    }
                    i = (i + 1) & mask
                }
            }
        }
    }

    mutating func insert(_ key: DigestKey) -> Bool {
        if Double(count + 1) > Double(slots.count) * Self.maxLoad { rehash(size: max(16, slots.count * 2)) }
        let (found, slot) = find(key)
        if found { return false }
        precondition(count < Int(UInt32.max) - 1, "DigestTable: more than 2^32 - 2 digests of one algorithm")
        for w in 0..<words { records.append(key[w]) }
        count += 1
        slots[slot] = hash(key[0]).tag << 32 | UInt64(count)
        return true
    }

    private mutating func rehash(size: Int) {
        shift = UInt64(64 - (size.trailingZeroBitCount))
        slots = [UInt64](repeating: 0, count: size)
        let mask = size - 1
        for index in 0..<count {
            let (start, tag) = hash(records[index * words])
            var i = start
            while slots[i] != 0 { i = (i + 1) & mask }
            slots[i] = tag << 32 | UInt64(index + 1)
        }
    }
}
