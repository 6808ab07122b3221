#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Snapshot file layout (version 1, native little-endian, every section aligned to 64 bytes):
///
///     header   64 B   magic "VIGILMIH", version UInt32, 0 UInt32, hash count UInt64, segment count UInt64
///     hashes          hash count × 4 UInt64 (w0 w1 w2 w3)
///     per segment:
///       header 64 B   start UInt64, count UInt64, block count UInt64, region bytes UInt64
///       blocks        block count × (bit offset, width, high bits, 0) UInt32, padded to 64
///       region        per block: offsets (2^high + 1) UInt32, postings count UInt32 (local id << low | low bits)
///
/// Loading maps the file and checks the structure: the sizes, the block layout and every offsets table
/// (monotone, ending at the segment's count), so a damaged file is refused or, at worst, gives wrong matches;
/// it cannot make a search read outside the mapping.
extension HammingIndex {
    static let magicBytes: [UInt8] = Array("VIGILMIH".utf8)
    static let snapshotVersion: UInt32 = 1

    /// Writes a snapshot of the index to `path` (through a temporary file and a rename, so a reader of `path`
    /// sees the old or the new snapshot, never half of one).
    ///
    /// - Throws: ``MatchError/io(operation:path:errno:)`` when the file cannot be written.
    public func save(to path: String) throws(MatchError) {
        let s = state
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw .io(operation: "open", path: temporary, errno: errno) }
        var writer = SnapshotWriter(fd: fd)
        var header = [UInt8](repeating: 0, count: 64)
        header.replaceSubrange(0..<8, with: Self.magicBytes)
        Self.put(UInt32(Self.snapshotVersion), into: &header, at: 8)
        Self.put(UInt64(s.count), into: &header, at: 16)
        Self.put(UInt64(s.segments.count), into: &header, at: 24)
        writer.write(header)
        writer.write(UnsafeRawPointer(s.storage.words), count: s.count * 32)
        for segment in s.segments {
            var segmentHeader = [UInt8](repeating: 0, count: 64)
            Self.put(UInt64(segment.start), into: &segmentHeader, at: 0)
            Self.put(UInt64(segment.count), into: &segmentHeader, at: 8)
            Self.put(UInt64(segment.blocks.count), into: &segmentHeader, at: 16)
            Self.put(UInt64(segment.region.byteCount), into: &segmentHeader, at: 24)
            writer.write(segmentHeader)
            var table = [UInt8](repeating: 0, count: Segment.align(segment.blocks.count * 16))
            for (j, block) in segment.blocks.enumerated() {
                Self.put(UInt32(block.bitOffset), into: &table, at: j * 16)
                Self.put(UInt32(block.width), into: &table, at: j * 16 + 4)
                Self.put(UInt32(block.high), into: &table, at: j * 16 + 8)
            }
            writer.write(table)
            writer.write(UnsafeRawPointer(segment.region.base), count: segment.region.byteCount)
        }
        let failure = writer.failure
        if close(fd) != 0, failure == 0 {
            unlink(temporary)
            throw .io(operation: "close", path: temporary, errno: errno)
        }
        if failure != 0 {
            unlink(temporary)
            throw .io(operation: "write", path: temporary, errno: failure)
        }
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw .io(operation: "rename", path: path, errno: code)
        }
    }

    /// Memory-maps a snapshot written by ``save(to:)``. The hashes and postings stay in the mapping (paged in
    /// on use); the first insert copies the hashes to the heap.
    ///
    /// - Throws: ``MatchError/io(operation:path:errno:)`` when the file cannot be opened or mapped,
    ///   ``MatchError/invalidSnapshot(path:reason:)`` when it is not a valid version-1 snapshot.
    public static func load(from path: String) throws(MatchError) -> HammingIndex {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw .io(operation: "open", path: path, errno: errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .io(operation: "stat", path: path, errno: errno) }
        let size = Int(info.st_size)
        guard size >= 64 else { throw .invalidSnapshot(path: path, reason: "shorter than the header") }
        guard let mapping = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapping != MAP_FAILED else {
            throw .io(operation: "mmap", path: path, errno: errno)
        }
        let region = Region(mapping: mapping, byteCount: size)
        let base = UnsafeRawPointer(mapping)
        func fail(_ reason: String) -> MatchError { .invalidSnapshot(path: path, reason: reason) }
        guard (0..<8).allSatisfy({ base.load(fromByteOffset: $0, as: UInt8.self) == magicBytes[$0] }) else {
            throw fail("not a VigilMatch snapshot")
        }
        guard base.load(fromByteOffset: 8, as: UInt32.self) == snapshotVersion else {
            throw fail("unsupported version")
        }
        let hashCount = Int(truncatingIfNeeded: base.load(fromByteOffset: 16, as: UInt64.self))
        let segmentCount = Int(truncatingIfNeeded: base.load(fromByteOffset: 24, as: UInt64.self))
        guard hashCount >= 0, hashCount < Int(UInt32.max), segmentCount >= 0, segmentCount <= 64 else {
            throw fail("bad counts")
        }
        var offset = 64
        guard size - offset >= hashCount * 32 else { throw fail("truncated hashes") }
        let storage = HashStorage(mapped: region, offset: offset, count: hashCount)
        offset += Segment.align(hashCount * 32)
        var segments: [Segment] = []
        var covered = 0
        for _ in 0..<segmentCount {
            guard size - offset >= 64 else { throw fail("truncated segment header") }
            let start = Int(truncatingIfNeeded: base.load(fromByteOffset: offset, as: UInt64.self))
            let count = Int(truncatingIfNeeded: base.load(fromByteOffset: offset + 8, as: UInt64.self))
            let blockCount = Int(truncatingIfNeeded: base.load(fromByteOffset: offset + 16, as: UInt64.self))
            let regionBytes = Int(truncatingIfNeeded: base.load(fromByteOffset: offset + 24, as: UInt64.self))
            offset += 64
            guard start == covered, count > 0, count <= hashCount - start, (1...32).contains(blockCount) else {
                throw fail("bad segment header")
            }
            let tableBytes = Segment.align(blockCount * 16)
            guard size - offset >= tableBytes else { throw fail("truncated block table") }
            var blocks: [Block] = []
            var bit = 0
            for j in 0..<blockCount {
                let at = offset + j * 16
                let block = Block(
                    bitOffset: Int(base.load(fromByteOffset: at, as: UInt32.self)),
                    width: Int(base.load(fromByteOffset: at + 4, as: UInt32.self)),
                    high: Int(base.load(fromByteOffset: at + 8, as: UInt32.self)))
                guard block.bitOffset == bit, (1...32).contains(block.width), (0...24).contains(block.high),
                    block.high <= block.width, block.low <= 32 - Segment.idBits(count: count)
                else { throw fail("bad block layout") }
                bit += block.width
                blocks.append(block)
            }
            guard bit == 256 else { throw fail("blocks do not cover 256 bits") }
            offset += tableBytes
            guard regionBytes == Segment.regionByteCount(blocks: blocks, count: count), size - offset >= regionBytes
            else { throw fail("truncated or inconsistent segment") }
            let segmentRegion = Region(view: region, offset: offset, byteCount: regionBytes)
            let segment = Segment(start: start, count: count, blocks: blocks, region: segmentRegion)
            for j in 0..<blockCount {
                let g = segment.geometry[j]
                var previous: UInt32 = 0
                for b in 0...(1 << g.high) {
                    let value = g.offsets[b]
                    guard value >= previous else { throw fail("offsets not sorted") }
                    previous = value
                }
                guard g.offsets[0] == 0, Int(previous) == count else { throw fail("offsets do not end at count") }
            }
            segments.append(segment)
            offset += regionBytes
            covered += count
        }
        let state = State(storage: storage, count: hashCount, segments: segments, indexedCount: covered)
        return HammingIndex(state: state)
    }

    private static func put<T: FixedWidthInteger>(_ value: T, into bytes: inout [UInt8], at offset: Int) {
        withUnsafeBytes(of: value.littleEndian) { raw in
            for (i, byte) in raw.enumerated() { bytes[offset + i] = byte }
        }
    }
}

/// Writes sections aligned to 64 bytes and remembers the first error.
private struct SnapshotWriter {
    let fd: Int32
    var written = 0
    var failure: Int32 = 0

    mutating func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            if let base = raw.baseAddress { write(base, count: raw.count) }
        }
    }

    mutating func write(_ pointer: UnsafeRawPointer, count: Int) {
        var done = 0
        while done < count, failure == 0 {
            let chunk = min(count - done, 1 << 26)
            let n = systemWrite(fd, pointer + done, chunk)
            if n < 0 {
                if errno == EINTR { continue }
                failure = errno
                return
            }
            done += n
        }
        written += count
        let padding = Segment.align(written) - written
        if padding > 0, failure == 0 {
            let zeros = [UInt8](repeating: 0, count: padding)
            _ = zeros.withUnsafeBytes { systemWrite(fd, $0.baseAddress, padding) }
            written += padding
        }
    }
}

private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    #if canImport(Glibc)
        Glibc.write(fd, buffer, count)
    #else
        Darwin.write(fd, buffer, count)
    #endif
}
