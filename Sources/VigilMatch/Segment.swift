import Dispatch

/// How one block of bits is cut out of a hash and indexed.
///
/// A block is `width` consecutive bits of the 256-bit hash, counted from the most significant bit of `w0`.
/// Its top `high` bits address an offsets table (a CSR row per value). Each posting is one `UInt32`: the
/// segment-local id shifted left by `low`, and the block's remaining `low` bits, so a bucket is filtered
/// without touching the hashes and in one sequential read.
struct Block: Equatable, Sendable {
    var bitOffset: Int
    var width: Int
    var high: Int
    var low: Int { width - high }
}

/// Where one block's arrays lie inside a segment's region, and how to extract the block from a hash.
struct BlockGeometry {
    var word: Int
    var shift: UInt64
    var spans: Bool
    var rightShift: UInt64
    var high: Int
    var low: Int
    var lowMask: UInt32
    var offsets: UnsafeMutablePointer<UInt32>
    var postings: UnsafeMutablePointer<UInt32>

    @inline(__always)
    func extract(_ p: UnsafePointer<UInt64>) -> UInt32 {
        var v = p[word] &<< shift
        if spans { v |= p[word &+ 1] &>> (64 &- shift) }
        return UInt32(truncatingIfNeeded: v &>> rightShift)
    }
}

/// Whether a segment may answer a query by scanning when the cost model says scanning is cheaper.
enum ProbePolicy: Sendable {
    /// Probe or scan, whichever the cost model expects to be cheaper for the radius.
    case automatic
    /// Always probe (tests use it to exercise multi-index hashing at every radius).
    case alwaysProbe
}

/// Reusable per-thread buffers for one search at a time.
final class SearchScratch {
    var candidates: UnsafeMutablePointer<UInt32>
    var capacity: Int
    /// Per probed bucket: its value, then its [lo, hi) range and the low-bit slack left for it.
    var buckets: UnsafeMutablePointer<UInt32>
    var ranges: UnsafeMutablePointer<UInt32>
    var slacks: UnsafeMutablePointer<Int32>
    var bucketCapacity: Int
    let keys: UnsafeMutablePointer<UInt32>
    let query: UnsafeMutablePointer<UInt64>
    /// Receives the sums of prefetching loads so the compiler keeps them; never read.
    var sink: UInt64 = 0

    init() {
        capacity = 1024
        candidates = .allocate(capacity: capacity)
        bucketCapacity = 512
        buckets = .allocate(capacity: bucketCapacity)
        ranges = .allocate(capacity: bucketCapacity * 2)
        slacks = .allocate(capacity: bucketCapacity)
        keys = .allocate(capacity: 64)
        query = .allocate(capacity: 4)
    }

    func set(_ q: Hash256) {
        query[0] = q.w0
        query[1] = q.w1
        query[2] = q.w2
        query[3] = q.w3
    }

    @inline(never)
    func grow(toHold needed: Int) {
        var newCapacity = capacity
        while newCapacity < needed { newCapacity *= 2 }
        let fresh = UnsafeMutablePointer<UInt32>.allocate(capacity: newCapacity)
        fresh.update(from: candidates, count: capacity)
        candidates.deallocate()
        candidates = fresh
        capacity = newCapacity
    }

    /// Makes room for `needed` buckets (their contents need not survive).
    func reserveBuckets(_ needed: Int) {
        guard needed > bucketCapacity else { return }
        buckets.deallocate()
        ranges.deallocate()
        slacks.deallocate()
        bucketCapacity = needed
        buckets = .allocate(capacity: needed)
        ranges = .allocate(capacity: needed * 2)
        slacks = .allocate(capacity: needed)
    }

    deinit {
        candidates.deallocate()
        buckets.deallocate()
        ranges.deallocate()
        slacks.deallocate()
        keys.deallocate()
        query.deallocate()
    }
}

/// An immutable multi-index-hashing index over the contiguous id range `start ..< start + count`.
///
/// The 256 bits are cut into `m` disjoint blocks. For radius r, block j is probed with threshold
/// t_j where the t_j + 1 sum to r + 1 (so if every block differed by more than its threshold, the total
/// distance would exceed r — the pigeonhole guarantee). Probing block j enumerates every value of its high
/// bits within t_j of the query's and filters each bucket by the stored low bits, so it finds exactly the
/// postings whose block lies within t_j. A hash found in block j is reported only if no earlier probed
/// block also lies within its threshold, so each hash is verified and reported once, without a seen-set.
final class Segment: @unchecked Sendable {
    let start: Int
    let count: Int
    let blocks: [Block]
    let region: Region
    let geometry: UnsafeMutablePointer<BlockGeometry>
    /// For every radius 0...256: true when a linear scan is expected to be cheaper than probing.
    private let scanRadii: [Bool]

    static let maxBlocks = 11

    init(start: Int, count: Int, blocks: [Block], region: Region, policy: ProbePolicy = .automatic) {
        self.start = start
        self.count = count
        self.blocks = blocks
        self.region = region
        geometry = .allocate(capacity: blocks.count)
        var offset = 0
        for (j, block) in blocks.enumerated() {
            let word = block.bitOffset >> 6
            let bit = block.bitOffset & 63
            let offsets = (region.base + offset).assumingMemoryBound(to: UInt32.self)
            offset += Self.align((1 << block.high + 1) * 4)
            let postings = (region.base + offset).assumingMemoryBound(to: UInt32.self)
            offset += Self.align(count * 4)
            geometry[j] = BlockGeometry(
                word: word, shift: UInt64(bit), spans: bit + block.width > 64, rightShift: UInt64(64 - block.width),
                high: block.high, low: block.low, lowMask: UInt32((UInt64(1) << UInt64(block.low)) - 1),
                offsets: offsets, postings: postings)
        }
        scanRadii = (0...256).map { radius in
            switch policy {
            case .automatic: Self.probeCost(blocks: blocks, count: count, radius: radius) >= Self.scanCost(count: count)
            case .alwaysProbe: false
            }
        }
    }

    deinit { geometry.deallocate() }

    // MARK: layout

    static func align(_ bytes: Int) -> Int { (bytes + 63) & ~63 }

    /// The region size for `blocks` over `count` postings.
    static func regionByteCount(blocks: [Block], count: Int) -> Int {
        blocks.reduce(0) { total, block in
            total + align((1 << block.high + 1) * 4) + align(count * 4)
        }
    }

    /// The bits a segment-local id of a segment of `count` hashes needs.
    static func idBits(count: Int) -> Int { count > 1 ? Int.bitWidth - (count - 1).leadingZeroBitCount : 1 }

    /// Cuts 256 bits into `m` blocks (wider ones first) with at most `highBits` bits addressed per block,
    /// leaving at most `32 - idBits` low bits so a posting fits in a `UInt32`.
    static func blocks(m: Int, highBits: Int, count: Int) -> [Block] {
        var result: [Block] = []
        var offset = 0
        let maxLow = 32 - idBits(count: count)
        for j in 0..<m {
            let width = 256 / m + (j < 256 % m ? 1 : 0)
            var high = min(width, highBits)
            if width - high > maxLow { high = width - maxLow }
            result.append(Block(bitOffset: offset, width: width, high: high))
            offset += width
        }
        return result
    }

    /// Chooses the block layout that minimises the modelled cost of a radius-31 query over `count` hashes.
    static func layout(count: Int) -> [Block] {
        // As many addressed bits as keep the offsets tables within 20 bytes per hash at 11 blocks
        // (11 × 4 B × 2^h ≤ 20 B × n), so the whole index stays within 32 + 44 + 20 = 96 bytes per hash.
        let budget = count * 5 / 11
        let highBits = budget > 0 ? max(0, min(24, Int.bitWidth - 1 - budget.leadingZeroBitCount)) : 0
        var best: [Block] = blocks(m: maxBlocks, highBits: highBits, count: count)
        var bestCost = Double.infinity
        for m in 8...maxBlocks {
            let candidate = blocks(m: m, highBits: highBits, count: count)
            let cost = probeCost(blocks: candidate, count: count, radius: 31)
            if cost < bestCost {
                bestCost = cost
                best = candidate
            }
        }
        return best
    }

    /// The threshold of block `j` of `m` for radius `radius` (-1: the block is not probed).
    @inline(__always)
    static func threshold(block j: Int, of m: Int, radius: Int) -> Int {
        let s = radius + 1
        return s / m - 1 + (j < s % m ? 1 : 0)
    }

    /// The number of values within distance `k` of a `n`-bit value.
    static func ball(_ n: Int, _ k: Int) -> Double {
        guard k >= 0 else { return 0 }
        var total = 0.0
        var term = 1.0
        for i in 0...min(n, k) {
            total += term
            term = term * Double(n - i) / Double(i + 1)
        }
        return total
    }

    /// A cost model of one probed query, in units of a random memory access.
    static func probeCost(blocks: [Block], count: Int, radius: Int) -> Double {
        let n = Double(count)
        var cost = 20.0
        for (j, block) in blocks.enumerated() {
            let t = threshold(block: j, of: blocks.count, radius: radius)
            guard t >= 0 else { continue }
            let probes = ball(block.high, min(t, block.high))
            let scanned = probes * n / Double(1 << block.high)
            let candidates = n * ball(block.width, t) / Double(UInt64(1) << UInt64(block.width))
            cost += probes * 2 + scanned * 0.1 + candidates
        }
        return cost
    }

    static func scanCost(count: Int) -> Double { 20 + Double(count) * 0.15 }

    // MARK: build

    /// Builds a segment over `hashes[start ..< start + count]`, one block per job.
    static func build(
        hashes: UnsafePointer<UInt64>, start: Int, count: Int, jobs: Int, policy: ProbePolicy = .automatic
    ) -> Segment {
        let blocks = layout(count: count)
        let region = Region(uninitializedByteCount: regionByteCount(blocks: blocks, count: count))
        let segment = Segment(start: start, count: count, blocks: blocks, region: region, policy: policy)
        let work = UncheckedSendable(segment)
        let hashBox = UncheckedSendable(hashes)
        let m = blocks.count
        if jobs <= 1 || m == 1 {
            for j in 0..<m { segment.buildBlock(j, hashes: hashes) }
        } else {
            let workers = min(jobs, m)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                for j in stride(from: worker, to: m, by: workers) {
                    work.value.buildBlock(j, hashes: hashBox.value)
                }
            }
        }
        return segment
    }

    private func buildBlock(_ j: Int, hashes: UnsafePointer<UInt64>) {
        let g = geometry[j]
        let buckets = 1 << g.high
        g.offsets.initialize(repeating: 0, count: buckets + 1)
        let base = hashes + start &* 4
        for i in 0..<count {
            let key = g.extract(base + i &* 4)
            g.offsets[Int(key >> UInt32(g.low)) &+ 1] &+= 1
        }
        for b in 0..<buckets { g.offsets[b + 1] &+= g.offsets[b] }
        let cursor = UnsafeMutablePointer<UInt32>.allocate(capacity: buckets)
        defer { cursor.deallocate() }
        cursor.update(from: g.offsets, count: buckets)
        for i in 0..<count {
            let key = g.extract(base + i &* 4)
            let bucket = Int(key >> UInt32(g.low))
            let position = Int(cursor[bucket])
            cursor[bucket] = UInt32(position + 1)
            g.postings[position] = UInt32(truncatingIfNeeded: i) &<< UInt32(g.low) | (key & g.lowMask)
        }
    }

    // MARK: search

    /// Appends every hash of this segment within `radius` of the query in `scratch` to `out` (unsorted).
    func search(
        radius: Int, hashes: UnsafePointer<UInt64>, hashCount: Int, scratch: SearchScratch, into out: inout [Match]
    ) {
        let q = UnsafePointer(scratch.query)
        if scanRadii[min(max(radius, 0), 256)] {
            Self.scan(query: q, range: start..<(start + count), radius: radius, hashes: hashes, into: &out)
            return
        }
        let m = blocks.count
        let keys = scratch.keys
        for j in 0..<m { keys[j] = geometry[j].extract(q) }
        for j in 0..<m {
            let t = Self.threshold(block: j, of: m, radius: radius)
            if t < 0 { continue }
            let g = geometry[j]
            let key = keys[j]
            let qh = UInt64(key >> UInt32(g.low))
            let ql = key & g.lowMask
            let maxFlips = min(t, g.high)
            // 1. every bucket within the threshold, with the slack its low bits may use
            scratch.reserveBuckets(Int(Self.ball(g.high, maxFlips)))
            let buckets = scratch.buckets
            let slacks = scratch.slacks
            var nb = 0
            for flips in 0...maxFlips {
                let slack = Int32(t - flips)
                if flips == 0 {
                    buckets[0] = UInt32(truncatingIfNeeded: qh)
                    slacks[0] = slack
                    nb = 1
                    continue
                }
                let limit = UInt64(1) << UInt64(g.high)
                var mask = (UInt64(1) << UInt64(flips)) &- 1
                while mask < limit {
                    buckets[nb] = UInt32(truncatingIfNeeded: qh ^ mask)
                    slacks[nb] = slack
                    nb &+= 1
                    let lowest = mask & (0 &- mask)
                    let ripple = mask &+ lowest
                    mask = (((ripple ^ mask) &>> 2) &>> UInt64(lowest.trailingZeroBitCount)) | ripple
                }
            }
            // 2. their ranges (independent loads, so the memory system overlaps them)
            let ranges = scratch.ranges
            var total = 0
            var touch: UInt32 = 0
            for b in 0..<nb {
                let v = Int(buckets[b])
                let lo = g.offsets[v]
                let hi = g.offsets[v &+ 1]
                ranges[2 &* b] = lo
                ranges[2 &* b &+ 1] = hi
                total &+= Int(hi &- lo)
            }
            // 3. touch the first posting of every non-empty bucket, again overlapped
            for b in 0..<nb where ranges[2 &* b] != ranges[2 &* b &+ 1] {
                touch &+= g.postings[Int(ranges[2 &* b])]
            }
            if total > scratch.capacity { scratch.grow(toHold: total) }
            // 4. filter each bucket by its low bits
            var n = 0
            for b in 0..<nb {
                n = collect(
                    g, lo: Int(ranges[2 &* b]), hi: Int(ranges[2 &* b &+ 1]), lowKey: ql,
                    slack: Int(slacks[b]), out: scratch.candidates, filled: n)
            }
            scratch.sink = UInt64(touch)  // keeps the touching loads from being optimised away
            // 5. verify the candidates against the full hashes
            verify(
                block: j, candidates: n, radius: radius, hashes: hashes, hashCount: hashCount,
                scratch: scratch, into: &out)
        }
    }

    @inline(__always)
    private func collect(
        _ g: BlockGeometry, lo: Int, hi: Int, lowKey: UInt32, slack: Int, out: UnsafeMutablePointer<UInt32>,
        filled: Int
    ) -> Int {
        if lo == hi { return filled }
        var n = filled
        let base = UInt32(truncatingIfNeeded: start)
        let shift = UInt32(g.low)
        if slack >= g.low {
            for e in lo..<hi {
                out[n] = base &+ (g.postings[e] &>> shift)
                n &+= 1
            }
            return n
        }
        for e in lo..<hi {
            let posting = g.postings[e]
            if ((posting ^ lowKey) & g.lowMask).nonzeroBitCount <= slack {
                out[n] = base &+ (posting &>> shift)
                n &+= 1
            }
        }
        return n
    }

    @inline(__always)
    private func verify(
        block j: Int, candidates n: Int, radius: Int, hashes: UnsafePointer<UInt64>, hashCount: Int,
        scratch: SearchScratch, into out: inout [Match]
    ) {
        let q = scratch.query
        let q0 = q[0], q1 = q[1], q2 = q[2], q3 = q[3]
        let m = blocks.count
        let candidates = scratch.candidates
        // Touch every candidate's hash first: a tiny loop of independent loads keeps many cache misses in
        // flight, so the verifying loop below mostly hits the cache.
        var touch: UInt64 = 0
        for c in 0..<n {
            let id = Int(candidates[c])
            if id < hashCount { touch &+= hashes[id &* 4] }
        }
        scratch.sink = touch
        for c in 0..<n {
            let id = Int(candidates[c])
            if id >= hashCount { continue }  // only a corrupt snapshot can get here
            let p = hashes + id &* 4
            let d =
                (p[0] ^ q0).nonzeroBitCount &+ (p[1] ^ q1).nonzeroBitCount
                &+ (p[2] ^ q2).nonzeroBitCount &+ (p[3] ^ q3).nonzeroBitCount
            if d > radius { continue }
            var first = true
            var i = 0
            while i < j {
                let t = Self.threshold(block: i, of: m, radius: radius)
                if t >= 0 && (geometry[i].extract(p) ^ scratch.keys[i]).nonzeroBitCount <= t {
                    first = false
                    break
                }
                i &+= 1
            }
            if first { out.append(Match(id: UInt32(truncatingIfNeeded: id), distance: d)) }
        }
    }

    /// Appends every hash in `range` within `radius` of `q` to `out`.
    static func scan(
        query q: UnsafePointer<UInt64>, range: Range<Int>, radius: Int, hashes: UnsafePointer<UInt64>,
        into out: inout [Match]
    ) {
        let q0 = q[0], q1 = q[1], q2 = q[2], q3 = q[3]
        for id in range {
            let p = hashes + id &* 4
            let d =
                (p[0] ^ q0).nonzeroBitCount &+ (p[1] ^ q1).nonzeroBitCount
                &+ (p[2] ^ q2).nonzeroBitCount &+ (p[3] ^ q3).nonzeroBitCount
            if d <= radius { out.append(Match(id: UInt32(truncatingIfNeeded: id), distance: d)) }
        }
    }
}

/// Carries a value the caller knows is safe to share into a `@Sendable` closure.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
