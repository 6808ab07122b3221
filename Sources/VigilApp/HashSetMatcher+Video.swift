import Foundation
import VigilCore
import VigilMatch
import VigilMedia
import VigilStore

/// Video records through the frame index: "which known videos does this video show, how much and where", with the
/// same banks and review as images.
extension HashSetMatcher {
    /// A known video a query video matched.
    public struct VideoHit: Sendable {
        public let item: Int64
        public let record: HashSetRecord
        public let bank: String
        public let review: HashReviewState
        public let category: String?
        public let version: Int64
        public let firstSeen: Date?
        /// Frames matched both ways, under the rule asked for.
        public let comparison: VideoComparison
        /// Where: stretches of the query and of the known video.
        public let ranges: [MatchedRange]
    }

    /// Adds the video records stored after the last one indexed; returns how many.
    @discardableResult
    func refreshVideos() async throws -> Int {
        guard let store else { return 0 }
        let (seen, index) = lock.withLock { (checkedVideoRow, videoIndex) }
        // From a little behind the last row seen, ids and items only: on PostgreSQL a transaction can commit a lower
        // id after a higher one. The frames are read for the videos not indexed yet.
        let rows = try await store.videoRows(afterRow: max(0, seen - 64))
        let missing = rows.filter { index.video($0.item) == nil }.map(\.item)
        var added = 0
        for chunk in stride(from: 0, to: missing.count, by: 500) {
            let stored = try await store.videos(items: Array(missing[chunk..<min(chunk + 500, missing.count)]))
            let batch = stored.values.sorted { $0.row < $1.row }.compactMap { v -> (id: Int64, frames: [VideoFrame])? in
                (try? VPDQLines.frames(v.frames)).map { (v.item, $0) }
            }
            added += Self.add(batch, to: index)
        }
        let last = rows.last?.row ?? seen
        lock.withLock { if videoIndex === index { checkedVideoRow = max(checkedVideoRow, last) } }
        return added
    }

    /// Adds a batch in one go, or one by one when one of them is refused; returns how many were added.
    static func add(_ batch: [(id: Int64, frames: [VideoFrame])], to index: FrameIndex) -> Int {
        do {
            try index.add(contentsOf: batch)
            return batch.count
        } catch {
            return batch.reduce(0) { $0 + ((try? index.add(video: $1.id, frames: $1.frames)) != nil ? 1 : 0) }
        }
    }

    /// Adds the stored videos after `row` to `index`, a few hundred at a time; returns how many were added and the
    /// last row read. A damaged frame list is left out rather than stopping every other video (lines are checked
    /// on import).
    func loadVideos(into index: FrameIndex, after row: Int64) async throws -> (added: Int, last: Int64) {
        guard let store else { return (0, row) }
        var last = row
        var added = 0
        var batch: [(id: Int64, frames: [VideoFrame])] = []
        func flush() {
            added += Self.add(batch, to: index)
            batch.removeAll(keepingCapacity: true)
        }
        try await store.forEachVideo(afterRow: row) { v in
            last = v.row
            guard let frames = try? VPDQLines.frames(v.frames), index.video(v.item) == nil else { return }
            batch.append((v.item, frames))
            if batch.count >= 500 { flush() }
        }
        flush()
        return (added, last)
    }

    /// Videos indexed.
    public var indexedVideoCount: Int { lock.withLock { videoIndex }.videoCount }

    /// The known videos `frames` shows under `rule`, best first, less those a negative bank's video explains (see
    /// ``answerVideo(_:rule:includePending:)``).
    public func matchVideo(
        _ frames: [VideoFrame], rule: VideoMatchRule = VideoMatchRule(), includePending: Bool = false
    ) async throws -> [VideoHit] {
        try await answerVideo(frames, rule: rule, includePending: includePending).hits
    }

    /// A video query's answer: the known videos it shows, and the negative bank's video that explained away others.
    public struct VideoAnswer: Sendable {
        public var hits: [VideoHit]
        /// Set when a known-benign or false-positive video explained the query and so removed at least one known
        /// video from ``hits``: the reason, for staff (a caller is told only what remains).
        public var suppressed: VideoSuppression?
    }

    /// The negative bank's video that suppressed known videos, and how much of the query it explained.
    public struct VideoSuppression: Sendable, Equatable {
        public let bank: String
        public let item: Int64
        public let comparison: VideoComparison
    }

    /// Share of the query's frames (percent) a negative bank's video must explain before it suppresses anything,
    /// whatever shares the caller asked for: the upload must be mostly the benign video.
    public static let suppressingShare = 80.0

    /// The known videos `frames` shows under `rule`, best first. From hash-list files, every video record they hold
    /// answers. From the database: records of enabled match banks, confirmed (or pending, with `includePending`),
    /// each bank within the smaller of the rule's radius and its own, and banks that sample answering the videos they
    /// sample (keyed by the first frame).
    ///
    /// Video records of enabled negative banks (a broadcaster's intro, a test card, a clip moved to
    /// `false-positive`; in any review state, as negative image hashes) suppress, each bank compared as match banks
    /// are (within the smaller of the rule's radius and its own):
    /// a negative video that holds at least ``suppressingShare`` of the query's frames (and passes the rule's
    /// shares) removes each known video that also explains at least ``suppressingShare`` of the query, but no more
    /// than the negative does, and of whose own frames the query holds less than ``suppressingShare``: an intro that
    /// opens a known video, uploaded alone, is the intro. A query that holds most of a known video keeps it whatever
    /// else it holds (a compilation is not hidden by its benign parts), and so does a query in which the known video
    /// is a small part (a benign clip as padding hides nothing).
    public func answerVideo(
        _ frames: [VideoFrame], rule: VideoMatchRule = VideoMatchRule(), includePending: Bool = false
    ) async throws -> VideoAnswer {
        guard let first = frames.first else { return VideoAnswer(hits: []) }
        let index = lock.withLock { videoIndex }
        guard let store else {
            // Hash-list files: their video records, as confirmed records of the lists' one bank.
            let hits = index.search(frames, rule: rule).compactMap { hit -> VideoHit? in
                guard hit.video >= 1, hit.video <= fileRecords.count else { return nil }
                let item = Self.fileItem(hit.video, fileRecords[Int(hit.video - 1)])
                return VideoHit(
                    item: item.id, record: item.record, bank: item.bank, review: item.review.state, category: nil,
                    version: item.version, firstSeen: nil, comparison: hit.comparison, ranges: hit.ranges)
            }
            return VideoAnswer(hits: hits.sorted(by: Self.ranks))
        }
        let banks = try await currentBanks().0
        /// The radius a bank's videos are compared within: shares mean the same for every bank only at one radius.
        func radius(_ bank: HashBank) -> Int { min(rule.radius, bank.pdqRadius) }
        let enabled = banks.values.filter(\.enabled)
        let key = Self.samplingKey(HashDigest(pdqHex: first.hash.hex))
        var out: [VideoHit] = []
        var negative: VideoSuppression?
        // One search per distinct radius the banks allow (usually one, for match and negative banks alike).
        for r in Set(enabled.map(radius)).sorted(by: >) {
            var ruled = rule
            ruled.radius = r
            let found = index.search(frames, rule: ruled)
            guard !found.isEmpty else { continue }
            let items = try await store.items(ids: found.map(\.video))
            for hit in found {
                guard let item = items[hit.video], let bank = banks[item.bank], bank.enabled, radius(bank) == r
                else { continue }
                switch bank.kind {
                case .negative:
                    let c = hit.comparison
                    if c.queryShare >= Self.suppressingShare,
                        negative.map({ VideoComparison.ranks((c, item.id), before: ($0.comparison, $0.item)) }) ?? true
                    {
                        negative = VideoSuppression(bank: bank.name, item: item.id, comparison: c)
                    }
                case .match:
                    guard bank.sampling >= 1 || bank.samples(key), item.review.matches(includePending: includePending)
                    else { continue }
                    out.append(
                        VideoHit(
                            item: item.id, record: item.record, bank: bank.name, review: item.review.state,
                            category: item.review.category, version: item.version, firstSeen: item.firstSeen,
                            comparison: hit.comparison, ranges: hit.ranges))
                }
            }
        }
        out.sort(by: Self.ranks)
        guard let negative else { return VideoAnswer(hits: out) }
        // Removed: a known video that explains most of the query too (so the two share most of its frames), no more
        // of it than the negative does, and of which the query holds little. A query padded with a benign clip
        // around a short stretch of a long known video keeps it: that stretch is not what the negative explains.
        let kept = out.filter {
            $0.comparison.queryShare < Self.suppressingShare
                || $0.comparison.queryShare > negative.comparison.queryShare
                || $0.comparison.targetShare >= Self.suppressingShare
        }
        return VideoAnswer(hits: kept, suppressed: kept.count < out.count ? negative : nil)
    }

    static func ranks(_ a: VideoHit, _ b: VideoHit) -> Bool {
        VideoComparison.ranks((a.comparison, a.item), before: (b.comparison, b.item))
    }
}

/// vPDQ's text, the reference's lines, read into frames for the frame index.
public enum VPDQLines {
    public typealias Failure = VideoFingerprint.LineFailure

    /// The frames of `lines`: the reference's (`frameNumber,quality,pdqHex,seconds`) or python-threatexchange's
    /// compact form (`pdqHex,quality,seconds`), read by ``VideoFingerprint/lines(_:limit:)``.
    public static func frames(_ lines: some Sequence<some StringProtocol>) throws(Failure) -> [VideoFrame] {
        // Every line read holds 64 hexadecimal digits, which always make a hash.
        try VideoFingerprint.lines(lines).get().compactMap { f in
            Hash256(hex: f.hex).map { VideoFrame(hash: $0, quality: f.quality, timestamp: f.seconds) }
        }
    }
}

/// The frame index on disk beside the PDQ snapshot: `FrameIndex`'s own files at `path + ".videos"` (and
/// `.videos.frames`), and `path + ".videos.head"`: a header with the last video row the index holds and a checksum
/// of every (row, item) pair up to it. The index is used only while the database still has exactly those rows
/// (frames never change once stored, so rows after it are a delta); anything else reads the frames again.
///
///     magic "VIGILVIH", version UInt32, 0 UInt32, last row, row count, rows checksum (each 8 bytes)
enum VideoIndexSnapshot {
    static let magic: [UInt8] = Array("VIGILVIH".utf8)
    static let version: UInt32 = 1

    static func indexPath(_ path: String) -> String { path + ".videos" }

    /// The rows up to `last` and their checksum, from the database (ids only, no frames).
    static func rows(_ store: HashSetStore, upTo last: Int64) async throws -> (
        count: Int, checksum: UInt64, rows: [(row: Int64, item: Int64)]
    ) {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        let rows = try await store.videoRows(afterRow: 0).filter { $0.row <= last }
        for (row, item) in rows {
            for w in [UInt64(bitPattern: row), UInt64(bitPattern: item)] {
                h = (h ^ w) &* 0x0000_0100_0000_01b3
                h ^= h >> 29
            }
        }
        return (rows.count, h, rows)
    }

    static func save(_ index: FrameIndex, lastRow: Int64, store: HashSetStore, to path: String) async throws {
        let (count, checksum, _) = try await rows(store, upTo: lastRow)
        try index.save(to: indexPath(path))
        var data = Data(magic)
        for v in [UInt32(version), 0] { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        for v in [UInt64(bitPattern: lastRow), UInt64(count), checksum] {
            withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) }
        }
        try data.write(to: URL(fileURLWithPath: indexPath(path) + ".head"), options: .atomic)
    }

    /// The saved index and its last row, when the database still holds exactly the rows it was made from.
    static func load(from path: String, store: HashSetStore) async throws -> (FrameIndex, Int64)? {
        guard let head = FileManager.default.contents(atPath: indexPath(path) + ".head"), head.count == 40,
            Array(head[0..<8]) == magic
        else { return nil }
        let bytes = [UInt8](head)
        func u64(_ at: Int) -> UInt64 { (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[at + $1]) << (8 * $1) } }
        guard UInt32(u64(8) & 0xFFFF_FFFF) == version else { return nil }
        let lastRow = Int64(bitPattern: u64(16))
        let (count, checksum, stored) = try await rows(store, upTo: lastRow)
        guard UInt64(count) == u64(24), checksum == u64(32) else { return nil }
        guard let index = try? FrameIndex.load(from: indexPath(path)), index.videoCount <= count else { return nil }
        // The index and its header are separate files, and two processes (a server, a scan) may save into one data
        // directory: a video the header covers but the index lacks is read again, from its row on.
        let firstMissing = stored.first { index.video($0.item) == nil }?.row
        return (index, firstMissing.map { $0 - 1 } ?? lastRow)
    }
}
