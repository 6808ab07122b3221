import Dispatch
import Foundation

/// An exact Hamming-distance index over 256-bit hashes (PDQ), built for millions of entries.
///
/// - Exact: ``search(_:radius:)`` returns every indexed hash within the radius, and nothing beyond it.
/// - Fast: multi-index hashing with the pigeonhole guarantee touches a small fraction of the set for the
///   radii PDQ uses (31 by default); for radii where that would cost more than a scan, it scans.
/// - Compact: the hashes are stored contiguously (32 bytes each); postings are sorted arrays of `UInt32`
///   ids packed with a few low bits per block: at most 96 bytes per hash in all when built in bulk or loaded
///   (94.5 at 10 million); one-by-one growth can add up to 16 bytes of spare hash capacity.
/// - Incremental: inserts go to a small unindexed tail; full tails become immutable segments that are merged
///   like a binary counter, so no insert rebuilds the whole index (``compact(jobs:)`` merges on demand).
/// - Persistent: ``save(to:)`` writes a snapshot that ``load(from:)`` memory-maps.
///
/// Ids are given in insertion order: 0, 1, 2, …
///
/// Thread safety: every method may be called from any thread. Reads (search, nearest, hash, count) run
/// concurrently and never wait for a writer's work; writes (insert, compact) are serialised among
/// themselves and publish their result atomically, so a reader sees the index before or after a write.
public final class HammingIndex: @unchecked Sendable {
    /// An immutable view of the index: readers capture one and work on it without locks.
    final class State: @unchecked Sendable {
        let storage: HashStorage
        let count: Int
        let segments: [Segment]
        /// Ids below this are in `segments`; ids from here to `count` are the unindexed tail.
        let indexedCount: Int

        init(storage: HashStorage, count: Int, segments: [Segment], indexedCount: Int) {
            self.storage = storage
            self.count = count
            self.segments = segments
            self.indexedCount = indexedCount
        }
    }

    /// Hashes beyond the last segment are scanned; at this many they become a segment.
    static let tailLimit = 4096

    private let stateLock = NSLock()
    private let writeLock = NSLock()
    private var current: State
    let policy: ProbePolicy

    /// Creates an empty index.
    public convenience init() {
        self.init(policy: .automatic)
    }

    init(policy: ProbePolicy) {
        self.policy = policy
        current = State(storage: HashStorage(capacity: 1024), count: 0, segments: [], indexedCount: 0)
    }

    /// Creates an index of `hashes` (ids 0, 1, … in sequence order), building it with `jobs` threads.
    public convenience init(_ hashes: some Sequence<Hash256>, jobs: Int = 1) {
        self.init()
        insert(contentsOf: hashes, jobs: jobs)
    }

    init(state: State) {
        current = state
        policy = .automatic
    }

    var state: State {
        stateLock.lock()
        defer { stateLock.unlock() }
        return current
    }

    private func publish(_ state: State) {
        stateLock.lock()
        current = state
        stateLock.unlock()
    }

    /// The number of hashes in the index.
    public var count: Int { state.count }

    /// The number of immutable segments (the unindexed tail not counted); 1 after ``compact(jobs:)``.
    public var segmentCount: Int { state.segments.count }

    /// Bytes held by the index: hash storage capacity plus every segment's postings and tables.
    public var memoryFootprint: Int {
        let s = state
        return s.storage.capacity * 32 + s.segments.reduce(0) { $0 + $1.region.byteCount }
    }

    /// The hash with id `id`.
    ///
    /// - Precondition: `id < count`.
    public func hash(at id: UInt32) -> Hash256 {
        let s = state
        precondition(Int(id) < s.count, "HammingIndex: id \(id) out of range 0..<\(s.count)")
        return s.storage.hash(at: Int(id))
    }

    // MARK: writing

    /// Adds one hash and returns its id. Amortised O(log n) work per insert; no full rebuild.
    @discardableResult
    public func insert(_ hash: Hash256) -> UInt32 {
        insert(contentsOf: CollectionOfOne(hash), jobs: 1).lowerBound
    }

    /// Adds hashes in sequence order and returns their ids; a large batch is indexed as one segment.
    ///
    /// - Parameter jobs: threads used to build segments.
    @discardableResult
    public func insert(contentsOf hashes: some Sequence<Hash256>, jobs: Int = 1) -> Range<UInt32> {
        writeLock.lock()
        defer { writeLock.unlock() }
        let s = state
        var storage = s.storage
        var count = s.count
        let expected = hashes.underestimatedCount
        for hash in hashes {
            if !storage.writable || count == storage.capacity {
                let needed = max(count + 1, s.count + expected)
                storage = storage.copy(count: count, capacity: max(1024, needed, count + count / 2))
            }
            precondition(count < Int(UInt32.max), "HammingIndex: more than 2^32 - 1 hashes")
            storage.store(hash, at: count)
            count += 1
        }
        var segments = s.segments
        var indexed = s.indexedCount
        if count - indexed >= Self.tailLimit {
            segments.append(
                Segment.build(
                    hashes: storage.words, start: indexed, count: count - indexed, jobs: jobs, policy: policy))
            indexed = count
            while segments.count >= 2, segments[segments.count - 2].count <= segments[segments.count - 1].count {
                let last = segments.removeLast()
                let previous = segments.removeLast()
                segments.append(
                    Segment.build(
                        hashes: storage.words, start: previous.start, count: previous.count + last.count, jobs: jobs,
                        policy: policy))
            }
        }
        publish(State(storage: storage, count: count, segments: segments, indexedCount: indexed))
        return UInt32(s.count)..<UInt32(count)
    }

    /// Merges every segment and the tail into one segment: the fastest layout for queries.
    public func compact(jobs: Int = 1) {
        writeLock.lock()
        defer { writeLock.unlock() }
        let s = state
        guard s.segments.count > 1 || s.count > s.indexedCount else { return }
        let segment = Segment.build(hashes: s.storage.words, start: 0, count: s.count, jobs: jobs, policy: policy)
        publish(State(storage: s.storage, count: s.count, segments: [segment], indexedCount: s.count))
    }

    // MARK: reading

    /// Every indexed hash within Hamming distance `radius` of `query`, sorted by distance then id.
    ///
    /// - Parameter radius: 0...256 (PDQ uses 31); a negative radius finds nothing.
    public func search(_ query: Hash256, radius: Int = 31) -> [Match] {
        Self.search(query, radius: radius, in: state, scratch: SearchScratch())
    }

    /// The `k` indexed hashes nearest to `query` within `maxRadius`, sorted by distance then id.
    ///
    /// Ties at the k-th distance are broken by the lower id. Fewer than `k` come back when fewer lie within
    /// `maxRadius`.
    public func nearest(_ query: Hash256, k: Int, maxRadius: Int = 63) -> [Match] {
        Self.nearest(query, k: k, maxRadius: maxRadius, in: state, scratch: SearchScratch())
    }

    /// ``search(_:radius:)`` for each query, spread over `jobs` threads; results in query order.
    public func searchBatch(_ queries: [Hash256], radius: Int = 31, jobs: Int) -> [[Match]] {
        let s = state
        return Self.batch(queries, jobs: jobs) { query, scratch in
            Self.search(query, radius: radius, in: s, scratch: scratch)
        }
    }

    /// ``nearest(_:k:maxRadius:)`` for each query, spread over `jobs` threads; results in query order.
    public func nearestBatch(_ queries: [Hash256], k: Int, maxRadius: Int = 63, jobs: Int) -> [[Match]] {
        let s = state
        return Self.batch(queries, jobs: jobs) { query, scratch in
            Self.nearest(query, k: k, maxRadius: maxRadius, in: s, scratch: scratch)
        }
    }

    private static func batch(
        _ queries: [Hash256], jobs: Int, _ body: @escaping @Sendable (Hash256, SearchScratch) -> [Match]
    ) -> [[Match]] {
        let results = UnsafeMutableBufferPointer<[Match]>.allocate(capacity: queries.count)
        results.initialize(repeating: [])
        defer { results.deallocate() }
        let workers = max(1, min(jobs, queries.count))
        let box = UncheckedSendable(results)
        queries.withUnsafeBufferPointer { buffer in
            let input = UncheckedSendable(buffer)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let scratch = SearchScratch()
                for i in stride(from: worker, to: input.value.count, by: workers) {
                    box.value[i] = body(input.value[i], scratch)
                }
            }
        }
        let out = Array(results)
        _ = results.deinitialize()
        return out
    }

    static func search(_ query: Hash256, radius: Int, in s: State, scratch: SearchScratch) -> [Match] {
        guard radius >= 0, s.count > 0 else { return [] }
        scratch.set(query)
        var out: [Match] = []
        let hashes = UnsafePointer(s.storage.words)
        for segment in s.segments {
            segment.search(radius: radius, hashes: hashes, hashCount: s.count, scratch: scratch, into: &out)
        }
        Segment.scan(query: scratch.query, range: s.indexedCount..<s.count, radius: radius, hashes: hashes, into: &out)
        out.sort { $0.distance != $1.distance ? $0.distance < $1.distance : $0.id < $1.id }
        return out
    }

    static func nearest(_ query: Hash256, k: Int, maxRadius: Int, in s: State, scratch: SearchScratch) -> [Match] {
        guard k > 0, maxRadius >= 0 else { return [] }
        // Every search is exact, so once a radius holds k hashes the k nearest are among them.
        var radius = min(maxRadius, 15)
        while true {
            let found = search(query, radius: radius, in: s, scratch: scratch)
            if found.count >= k || radius >= maxRadius { return Array(found.prefix(k)) }
            radius = min(maxRadius, radius + 16)
        }
    }
}
