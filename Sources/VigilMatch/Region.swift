#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A block of raw memory owned by one object: either allocated on the heap or a read-only file mapping.
///
/// Index parts keep a reference to the region their pointers point into, so the memory lives as long as
/// any reader that captured them.
final class Region: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let byteCount: Int
    private let mapped: Bool
    /// The whole mapping to unmap (it may start before `base`, which is aligned inside it).
    private var mappedBase: UnsafeMutableRawPointer?
    private var mappedLength = 0
    private let parent: Region?

    /// Allocates `byteCount` bytes aligned to 64, zero-filled.
    init(zeroedByteCount byteCount: Int) {
        let size = max(byteCount, 64)
        base = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        self.byteCount = byteCount
        mapped = false
        parent = nil
    }

    /// Allocates `byteCount` bytes aligned to 64 without initialising them (the caller writes every byte).
    ///
    /// Large blocks are mapped anonymously on 2 MiB boundaries and marked for transparent huge pages, which
    /// saves most TLB misses of the random accesses a search makes.
    init(uninitializedByteCount byteCount: Int) {
        self.byteCount = byteCount
        parent = nil
        if byteCount >= Self.hugeThreshold, let (mapping, length) = Self.mapHuge(byteCount) {
            mappedBase = mapping
            mappedLength = length
            mapped = true
            let aligned = (Int(bitPattern: mapping) + Self.hugePage - 1) & ~(Self.hugePage - 1)
            base = UnsafeMutableRawPointer(bitPattern: aligned) ?? mapping
            return
        }
        base = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 64), alignment: 64)
        mapped = false
    }

    private static let hugePage = 2 << 20
    private static let hugeThreshold = 4 << 20

    private static func mapHuge(_ byteCount: Int) -> (UnsafeMutableRawPointer, Int)? {
        let length = byteCount + hugePage
        let mapping = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let mapping, mapping != MAP_FAILED else { return nil }
        #if canImport(Glibc)
            _ = madvise(mapping, length, MADV_HUGEPAGE)
        #endif
        return (mapping, length)
    }

    /// Adopts a mapping made by `mmap`; it is unmapped when the region is released.
    init(mapping: UnsafeMutableRawPointer, byteCount: Int) {
        base = mapping
        self.byteCount = byteCount
        mapped = true
        parent = nil
        mappedBase = mapping
        mappedLength = byteCount
    }

    /// A window into another region, which it keeps alive; it frees nothing itself.
    init(view parent: Region, offset: Int, byteCount: Int) {
        base = parent.base + offset
        self.byteCount = byteCount
        mapped = false
        self.parent = parent
    }

    deinit {
        if parent != nil { return }
        if mapped {
            munmap(mappedBase, mappedLength)
        } else {
            base.deallocate()
        }
    }
}

/// The hashes of an index: four `UInt64` words per id, contiguous, in id order.
///
/// Writers append past the `count` any reader has seen, so readers never see a word change. When the
/// capacity is used up (or the storage is a read-only mapping) the writer copies into a new storage object;
/// readers holding the old one keep it alive.
final class HashStorage: @unchecked Sendable {
    let words: UnsafeMutablePointer<UInt64>
    let capacity: Int
    let writable: Bool
    private let region: Region

    init(capacity: Int) {
        region = Region(uninitializedByteCount: max(capacity, 1) * 32)
        words = region.base.bindMemory(to: UInt64.self, capacity: max(capacity, 1) * 4)
        self.capacity = capacity
        writable = true
    }

    init(mapped region: Region, offset: Int, count: Int) {
        self.region = region
        words = (region.base + offset).assumingMemoryBound(to: UInt64.self)
        capacity = count
        writable = false
    }

    /// A writable copy of the first `count` hashes with room for `capacity`.
    func copy(count: Int, capacity: Int) -> HashStorage {
        let storage = HashStorage(capacity: capacity)
        storage.words.update(from: words, count: count * 4)
        return storage
    }

    @inline(__always)
    func hash(at id: Int) -> Hash256 {
        let p = words + id &* 4
        return Hash256(w0: p[0], w1: p[1], w2: p[2], w3: p[3])
    }

    @inline(__always)
    func store(_ hash: Hash256, at id: Int) {
        let p = words + id &* 4
        p[0] = hash.w0
        p[1] = hash.w1
        p[2] = hash.w2
        p[3] = hash.w3
    }
}
