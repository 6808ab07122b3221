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
        var last = seen
        var added = 0
        try await store.forEachVideo(afterRow: seen) { v in
            last = v.row
            // A damaged list is left out rather than stopping every other video (its lines are checked on import).
            guard let frames = try? VPDQLines.frames(v.frames), index.video(v.item) == nil else { return }
            try? index.add(video: v.item, frames: frames)
            added += 1
        }
        lock.withLock { if videoIndex === index { checkedVideoRow = max(checkedVideoRow, last) } }
        return added
    }

    /// Videos indexed.
    public var indexedVideoCount: Int { lock.withLock { videoIndex }.videoCount }

    /// The known videos `frames` shows under `rule`, best first: records of enabled match banks, confirmed (or
    /// pending, with `includePending`). Negative banks hold image hashes; they do not suppress video answers.
    public func matchVideo(
        _ frames: [VideoFrame], rule: VideoMatchRule = VideoMatchRule(), includePending: Bool = false
    )
        async throws -> [VideoHit]
    {
        guard let store else { return [] }
        let index = lock.withLock { videoIndex }
        let found = index.search(frames, rule: rule)
        guard !found.isEmpty else { return [] }
        let items = try await store.items(ids: found.map(\.video))
        let banks = Dictionary(uniqueKeysWithValues: try await store.banks().map { ($0.name, $0) })
        return found.compactMap { hit in
            guard let item = items[hit.video], let bank = banks[item.bank], bank.enabled, bank.kind == .match,
                item.review.matches(includePending: includePending)
            else { return nil }
            return VideoHit(
                item: item.id, record: item.record, bank: bank.name, review: item.review.state,
                category: item.review.category, version: item.version, firstSeen: item.firstSeen,
                comparison: hit.comparison, ranges: hit.ranges)
        }
    }
}

/// vPDQ's text, the reference's lines, read into frames for the frame index.
public enum VPDQLines {
    public struct Failure: Error, Equatable, CustomStringConvertible {
        public let line: Int
        public let text: String
        public var description: String {
            "line \(line): not a vPDQ line (frame number,quality,PDQ hex,seconds): \(text.prefix(80))"
        }
    }

    /// The frames of `lines`: the reference's (`frameNumber,quality,pdqHex,seconds`) or python-threatexchange's
    /// compact form (`pdqHex,quality,seconds`); blank lines and `#` comments are skipped.
    public static func frames(_ lines: some Sequence<some StringProtocol>) throws(Failure) -> [VideoFrame] {
        var out: [VideoFrame] = []
        for (n, line) in lines.enumerated() {
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty || text.hasPrefix("#") { continue }
            if let f = VPDQFrame(line: text) {
                out.append(f.videoFrame)
                continue
            }
            let f = text.split(separator: ",", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard f.count == 3, f[0].count == 64, let h = Hash256(hex: f[0]), let q = Int(f[1]), (0...100).contains(q),
                let t = Double(f[2]), t >= 0, t.isFinite
            else { throw Failure(line: n + 1, text: text) }
            out.append(VideoFrame(hash: h, quality: q, timestamp: t))
        }
        return out
    }
}

extension VPDQFrame {
    /// The frame as the frame index takes it.
    public var videoFrame: VideoFrame {
        VideoFrame(hash: Hash256(hex: hash.hex)!, quality: quality, timestamp: timestamp)
    }
}
