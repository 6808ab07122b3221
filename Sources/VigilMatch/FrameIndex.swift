import Foundation

/// An index of videos by their frames' PDQ hashes, which answers "which known videos does this video (or a clip of
/// it) show, how much of each, and where": for a query video, each indexed video it matches under a
/// ``VideoMatchRule``, with the shares of frames matched both ways and the matched time ranges in both.
///
/// Answers are exact: every share equals ``VideoMatching/compare(_:_:rule:)``, the reference's brute-force
/// comparison, because every distinct frame hash of a video is an entry of a ``HammingIndex`` (exact within the
/// radius) and the shares are counted over distinct hashes, as the reference counts them.
///
/// Storage: a video's frames are reduced to its distinct hashes, each stored once with its quality and the runs of
/// consecutive sampled frames that showed it (a still scene of a hundred frames is one entry and one run). Per entry:
/// the hash and its postings in the Hamming index, one quality byte, a run offset and, per run, two 32-bit times.
/// Adding a video appends (no rebuild); ``save(to:)`` and ``load(from:)`` keep it on disk.
public final class FrameIndex: @unchecked Sendable {
    /// One indexed video.
    public struct Video: Sendable, Equatable {
        /// The caller's identifier.
        public var id: Int64
        /// Sampled frames given when it was added, before deduplication.
        public var frames: Int
        /// The last sampled frame's time, in seconds.
        public var lastTimestamp: Double
        /// Its entries: `entryStart..<entryEnd`.
        var entryStart: UInt32
        var entryEnd: UInt32
    }

    /// A video the query matched.
    public struct Hit: Sendable, Equatable {
        public var video: Int64
        public var comparison: VideoComparison
        /// The query's stretches that show the video, in query order.
        public var ranges: [MatchedRange]
    }

    /// Everything but the Hamming index, copied on write: a query captures it and reads without a lock.
    struct Tables: Sendable {
        var videos: [Video] = []
        var quality: [UInt8] = []
        /// Entry `e`'s runs are `runs[2 * runStart[e] ..< 2 * runStart[e + 1]]` (start, end pairs); the last
        /// entry's end is the run count.
        var runStart: [UInt32] = []
        var runs: [Float] = []
        var byID: [Int64: Int] = [:]

        func runRange(_ e: Int) -> Range<Int> {
            let end = e + 1 < runStart.count ? Int(runStart[e + 1]) : runs.count / 2
            return Int(runStart[e])..<end
        }

        /// The video holding entry `e` (videos' entries are contiguous and in order).
        func video(ofEntry e: UInt32) -> Int {
            var lo = 0
            var hi = videos.count - 1
            while lo < hi {
                let mid = (lo + hi + 1) / 2
                if videos[mid].entryStart <= e { lo = mid } else { hi = mid - 1 }
            }
            return lo
        }
    }

    let hashes: HammingIndex
    private var tables: Tables
    private let lock = NSLock()

    public init() {
        hashes = HammingIndex()
        tables = Tables()
    }

    init(hashes: HammingIndex, tables: Tables) {
        self.hashes = hashes
        self.tables = tables
    }

    /// Videos indexed.
    public var videoCount: Int { lock.withLock { tables.videos.count } }
    /// Distinct frame hashes stored (entries), over all videos.
    public var entryCount: Int { hashes.count }
    /// Sampled frames added, before deduplication.
    public var frameCount: Int { lock.withLock { tables.videos.reduce(0) { $0 + $1.frames } } }

    /// Bytes held: the Hamming index's, plus the per-entry and per-run tables.
    public var memoryFootprint: Int {
        lock.withLock {
            hashes.memoryFootprint + tables.quality.capacity + tables.runStart.capacity * 4 + tables.runs.capacity * 4
                + tables.videos.capacity * MemoryLayout<Video>.stride
        }
    }

    /// The hash of stored entry `entry` (0..<``entryCount``).
    public func entryHash(_ entry: Int) -> Hash256 { hashes.hash(at: UInt32(entry)) }

    /// The video with this identifier, if indexed.
    public func video(_ id: Int64) -> Video? {
        lock.withLock { tables.byID[id].map { tables.videos[$0] } }
    }

    public enum AddError: Error, Equatable, Sendable {
        /// A video with this identifier is indexed already.
        case duplicate(Int64)
        /// A frame's quality is outside vPDQ's 0–100.
        case quality(video: Int64, frame: Int)
        /// A frame's time is not a number of seconds a video has (negative, not finite, beyond a Float).
        case timestamp(video: Int64, frame: Int)
    }

    /// Adds a video's sampled frames (in presentation order, as vPDQ lists them). Frames of every quality are
    /// kept, so any rule's quality threshold can be applied at query time.
    public func add(video id: Int64, frames: [VideoFrame]) throws(AddError) {
        try add(contentsOf: [(id, frames)])
    }

    /// Adds several videos at once: the tables a running search holds are copied once for the batch, not once per
    /// video. Nothing is added when one of them is refused.
    public func add(contentsOf videos: [(id: Int64, frames: [VideoFrame])]) throws(AddError) {
        lock.lock()
        defer { lock.unlock() }
        var ids: Set<Int64> = []
        for (id, frames) in videos {
            guard tables.byID[id] == nil, ids.insert(id).inserted else { throw .duplicate(id) }
            if let bad = frames.firstIndex(where: { !(0...100).contains($0.quality) }) {
                throw .quality(video: id, frame: bad)
            }
            if let bad = frames.firstIndex(where: { !($0.timestamp >= 0 && Float($0.timestamp).isFinite) }) {
                throw .timestamp(video: id, frame: bad)
            }
        }
        var hashesToInsert: [Hash256] = []
        for (id, frames) in videos {
            // Distinct hashes in first-seen order, each with the runs of consecutive frames that showed it.
            var order: [Hash256] = []
            var slot: [Hash256: Int] = [:]
            var firstQuality: [UInt8] = []
            var runs: [[Float]] = []
            var previous: Hash256?
            for f in frames {
                let t = Float(f.timestamp)
                if let s = slot[f.hash] {
                    if f.hash == previous {
                        runs[s][runs[s].count - 1] = t
                    } else {
                        runs[s].append(contentsOf: [t, t])
                    }
                } else {
                    slot[f.hash] = order.count
                    order.append(f.hash)
                    firstQuality.append(UInt8(f.quality))
                    runs.append([t, t])
                }
                previous = f.hash
            }
            let start = UInt32(hashes.count + hashesToInsert.count)
            for r in runs {
                tables.runStart.append(UInt32(tables.runs.count / 2))
                tables.runs.append(contentsOf: r)
            }
            tables.quality.append(contentsOf: firstQuality)
            hashesToInsert.append(contentsOf: order)
            tables.byID[id] = tables.videos.count
            tables.videos.append(
                Video(
                    id: id, frames: frames.count, lastTimestamp: frames.last?.timestamp ?? 0, entryStart: start,
                    entryEnd: start + UInt32(order.count)))
        }
        hashes.insert(contentsOf: hashesToInsert)
    }

    /// Merges the index's segments into one: the fastest layout for queries, after a bulk load.
    public func compact(jobs: Int = 1) { hashes.compact(jobs: jobs) }

    /// The indexed videos `query` matches under `rule`, best first (query share, then target share, then id).
    /// With `all`, every video sharing at least one frame is returned, whether or not it passes the thresholds.
    public func search(_ query: [VideoFrame], rule: VideoMatchRule = VideoMatchRule(), all: Bool = false) -> [Hit] {
        let t = lock.withLock { tables }
        let minimum = UInt8(clamping: max(0, rule.minimumQuality))
        // The query's distinct usable hashes (first occurrence decides quality, as the reference's dedupe does),
        // and every time each was shown.
        var qHashes: [Hash256] = []
        var qTimes: [[Double]] = []
        var qSlot: [Hash256: Int] = [:]
        var dropped: Set<Hash256> = []
        for f in query {
            if let s = qSlot[f.hash] {
                qTimes[s].append(f.timestamp)
            } else if !dropped.contains(f.hash) {
                if f.quality >= rule.minimumQuality {
                    qSlot[f.hash] = qHashes.count
                    qHashes.append(f.hash)
                    qTimes.append([f.timestamp])
                } else {
                    dropped.insert(f.hash)
                }
            }
        }
        guard !qHashes.isEmpty, rule.radius >= 0 else { return [] }
        // Pairs (query frame, entry) by video.
        var pairs: [Int: [(Int32, UInt32, Int)]] = [:]
        let found = hashes.searchBatch(qHashes, radius: rule.radius, jobs: 1)
        for (i, matches) in found.enumerated() {
            for m in matches where Int(m.id) < t.quality.count && t.quality[Int(m.id)] >= minimum {
                pairs[t.video(ofEntry: m.id), default: []].append((Int32(i), m.id, m.distance))
            }
        }
        let step = VideoMatching.samplingInterval(query)
        var hits: [Hit] = []
        for (v, list) in pairs {
            let video = t.videos[v]
            let targetFrames = (Int(video.entryStart)..<Int(video.entryEnd)).reduce(0) {
                $0 + (t.quality[$1] >= minimum ? 1 : 0)
            }
            let comparison = VideoComparison(
                queryFrames: qHashes.count, matchedQueryFrames: Set(list.map(\.0)).count, targetFrames: targetFrames,
                matchedTargetFrames: Set(list.map(\.1)).count)
            guard all || comparison.isMatch(rule) else { continue }
            hits.append(
                Hit(
                    video: video.id, comparison: comparison,
                    ranges: Self.ranges(list, queryTimes: qTimes, tables: t, step: step)))
        }
        return hits.sorted { VideoComparison.ranks(($0.comparison, $0.video), before: ($1.comparison, $1.video)) }
    }

    /// The matched stretches of one video. Every matched pair votes for the time offsets (target − query, in
    /// sampling intervals) it supports; the offset with most distinct query frames (counting its neighbours, so an
    /// offset between two intervals is not split) is taken, then the next among the frames left, each query frame
    /// joining the first offset that explains it; each offset's frames, in query order, are cut where the query
    /// skips more than 2.5 intervals. A frame shown at several times (a still scene, a repeated shot) votes at each,
    /// up to a bound.
    static func ranges(_ all: [(Int32, UInt32, Int)], queryTimes: [[Double]], tables t: Tables, step: Double)
        -> [MatchedRange]
    {
        let width = max(step, 1e-3)
        // Where a frame comes from is told by its nearest entries: each query frame votes through those within a
        // few bits of its nearest (at most four), so a still or repetitive video cannot make the votes explode.
        var nearest: [Int32: Int] = [:]
        for (i, _, d) in all { nearest[i] = min(nearest[i] ?? Int.max, d) }
        var taken: [Int32: Int] = [:]
        var pairs: [(Int32, UInt32)] = []
        for (i, e, d) in all.sorted(by: { ($0.2, $0.1) < ($1.2, $1.1) }) where d <= nearest[i]! + 6 {
            guard taken[i, default: 0] < 4 else { continue }
            taken[i, default: 0] += 1
            pairs.append((i, e))
        }
        let maxVotes = 20_000
        struct Vote {
            let frame: Int32
            let queryTime: Double
            let runStart: Double
            let runEnd: Double
            let bins: ClosedRange<Int>
        }
        var votes: [Vote] = []
        var byBin: [Int: Set<Int32>] = [:]
        let bound = 16
        for (i, e) in pairs {
            let times = queryTimes[Int(i)].prefix(bound)
            for r in t.runRange(Int(e)).prefix(bound) {
                let s = Double(t.runs[2 * r])
                let en = Double(t.runs[2 * r + 1])
                for qt in times {
                    // Times come from callers: one that is not a finite, plausible number of seconds casts no vote.
                    let from = ((s - qt) / width).rounded()
                    let to = ((en - qt) / width).rounded()
                    guard from.isFinite, to.isFinite, abs(from) < 1e12, abs(to) < 1e12 else { continue }
                    guard votes.count < maxVotes else { break }
                    let lo = Int(from)
                    let bins = lo...max(lo, min(lo + 16, Int(to)))
                    votes.append(Vote(frame: i, queryTime: qt, runStart: s, runEnd: en, bins: bins))
                    for b in bins { byBin[b, default: []].insert(i) }
                }
            }
        }
        var assigned: Set<Int32> = []
        var out: [MatchedRange] = []
        for _ in 0..<8 {
            // Most frames in the window, then most in the bin itself, then the smallest offset.
            var best: (bin: Int, frames: Set<Int32>, centre: Int)?
            for (b, own) in byBin {
                var frames = Set<Int32>()
                for n in (b - 1)...(b + 1) { if let f = byBin[n] { frames.formUnion(f) } }
                frames.subtract(assigned)
                let centre = own.subtracting(assigned).count
                if let x = best, (frames.count, centre, -b) <= (x.frames.count, x.centre, -x.bin) { continue }
                best = (b, frames, centre)
            }
            guard let (bin, frames, _) = best, !frames.isEmpty, frames.count >= 2 || assigned.isEmpty else { break }
            let window = (bin - 1)...(bin + 1)
            // This offset's frames: each with its query time and the target time the offset gives, kept in its run.
            var points: [(q: Double, t: Double, frame: Int32)] = []
            for v in votes where frames.contains(v.frame) && v.bins.overlaps(window) {
                let offset = Double(min(max(bin, v.bins.lowerBound), v.bins.upperBound)) * width
                points.append((v.queryTime, min(max(v.queryTime + offset, v.runStart), v.runEnd), v.frame))
            }
            assigned.formUnion(frames)
            points.sort { ($0.q, $0.t) < ($1.q, $1.t) }
            var current: MatchedRange?
            var counted: Set<Int32> = []
            for p in points {
                if var c = current, p.q - c.queryEnd <= 2.5 * width {
                    c.queryEnd = max(c.queryEnd, p.q)
                    c.targetStart = min(c.targetStart, p.t)
                    c.targetEnd = max(c.targetEnd, p.t)
                    if counted.insert(p.frame).inserted { c.frames += 1 }
                    current = c
                } else {
                    if let c = current { out.append(c) }
                    counted = [p.frame]
                    current = MatchedRange(queryStart: p.q, queryEnd: p.q, targetStart: p.t, targetEnd: p.t, frames: 1)
                }
            }
            if let c = current { out.append(c) }
        }
        return out.sorted { ($0.queryStart, $0.targetStart) < ($1.queryStart, $1.targetStart) }
    }
}

// MARK: snapshot

extension FrameIndex {
    static let magic = Array("VIGILFRX".utf8)
    static let version: UInt32 = 1

    public enum SnapshotError: Error, Equatable, Sendable {
        case io(String)
        /// Not a frame index, another version, or damaged; the reason says which.
        case invalid(String)
    }

    /// Writes the index: the Hamming index's own snapshot at `path`, the videos and tables at `path + ".frames"`
    /// (each through a temporary file and a rename).
    public func save(to path: String) throws(SnapshotError) {
        // Under the lock, so the hashes and the tables are of the same moment (an add waits).
        lock.lock()
        defer { lock.unlock() }
        let t = tables
        do { try hashes.save(to: path) } catch { throw .io(String(describing: error)) }
        var data = Data(capacity: 64 + t.videos.count * 32 + t.quality.count * 5 + t.runs.count * 4)
        data.append(contentsOf: Self.magic)
        Self.append(Self.version, to: &data)
        Self.append(UInt32(0), to: &data)
        for n in [t.videos.count, t.quality.count, t.runs.count / 2] { Self.append(UInt64(n), to: &data) }
        for v in t.videos {
            Self.append(UInt64(bitPattern: v.id), to: &data)
            Self.append(UInt64(v.frames), to: &data)
            Self.append(v.lastTimestamp.bitPattern, to: &data)
            Self.append(v.entryStart, to: &data)
            Self.append(v.entryEnd, to: &data)
        }
        data.append(contentsOf: t.quality)
        for r in t.runStart { Self.append(r, to: &data) }
        for x in t.runs { Self.append(x.bitPattern, to: &data) }
        do { try data.write(to: URL(fileURLWithPath: path + ".frames"), options: .atomic) } catch {
            throw .io("\(path).frames: \(error.localizedDescription)")
        }
    }

    /// Loads what ``save(to:)`` wrote, checking that the tables agree with each other and with the Hamming index.
    public static func load(from path: String) throws(SnapshotError) -> FrameIndex {
        let hashes: HammingIndex
        do { hashes = try HammingIndex.load(from: path) } catch { throw .invalid(String(describing: error)) }
        guard let data = FileManager.default.contents(atPath: path + ".frames") else {
            throw .io("cannot read \(path).frames")
        }
        var reader = ByteReader(data: [UInt8](data))
        guard reader.bytes(8) == magic else { throw .invalid("not a Vigil frame index") }
        guard reader.u32() == version, reader.u32() == 0 else { throw .invalid("another version of the frame index") }
        guard let videoCount = reader.u64().flatMap({ Int(exactly: $0) }),
            let entryCount = reader.u64().flatMap({ Int(exactly: $0) }),
            let runCount = reader.u64().flatMap({ Int(exactly: $0) }),
            entryCount == hashes.count, videoCount <= data.count, runCount <= data.count,
            reader.remaining == videoCount * 32 + entryCount * 5 + runCount * 8
        else { throw .invalid("the frame tables do not fit the index") }
        var t = Tables()
        var expectedStart: UInt32 = 0
        for _ in 0..<videoCount {
            let v = Video(
                id: Int64(bitPattern: reader.u64()!), frames: Int(clamping: reader.u64()!),
                lastTimestamp: Double(bitPattern: reader.u64()!), entryStart: reader.u32()!, entryEnd: reader.u32()!)
            guard v.entryStart == expectedStart, v.entryEnd >= v.entryStart, t.byID[v.id] == nil,
                v.frames >= Int(v.entryEnd - v.entryStart), v.frames <= Int(UInt32.max)
            else {
                throw .invalid("video \(v.id): entries out of order")
            }
            expectedStart = v.entryEnd
            t.byID[v.id] = t.videos.count
            t.videos.append(v)
        }
        guard Int(expectedStart) == entryCount else { throw .invalid("the videos do not cover the entries") }
        t.quality = reader.bytes(entryCount)
        t.runStart = (0..<entryCount).map { _ in reader.u32()! }
        t.runs = (0..<(runCount * 2)).map { _ in Float(bitPattern: reader.u32()!) }
        var last: UInt32 = 0
        for (e, r) in t.runStart.enumerated() {
            // Every entry has at least one run: offsets strictly increase and stay below the run count.
            guard e == 0 ? r == 0 : r > last, Int(r) < runCount else {
                throw .invalid("entry \(e): runs out of order")
            }
            last = r
        }
        return FrameIndex(hashes: hashes, tables: t)
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to data: inout Data) {
        withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
    }

    struct ByteReader {
        let data: [UInt8]
        var at = 0
        var remaining: Int { data.count - at }
        mutating func bytes(_ n: Int) -> [UInt8] {
            let end = min(data.count, at + n)
            defer { at = end }
            return Array(data[at..<end])
        }
        mutating func u32() -> UInt32? {
            guard remaining >= 4 else { return nil }
            defer { at += 4 }
            return (0..<4).reduce(UInt32(0)) { $0 | UInt32(data[at + $1]) << (8 * $1) }
        }
        mutating func u64() -> UInt64? {
            guard remaining >= 8 else { return nil }
            defer { at += 8 }
            return (0..<8).reduce(UInt64(0)) { $0 | UInt64(data[at + $1]) << (8 * $1) }
        }
    }
}
