/// One sampled frame of a video, as vPDQ describes it: the frame's PDQ hash, its PDQ quality (0–100) and its
/// presentation time in seconds.
public struct VideoFrame: Sendable, Hashable {
    public var hash: Hash256
    public var quality: Int
    public var timestamp: Double

    public init(hash: Hash256, quality: Int, timestamp: Double) {
        self.hash = hash
        self.quality = quality
        self.timestamp = timestamp
    }
}

/// When two videos match, as Meta's vPDQ reference decides (python-threatexchange's brute-force matcher, whose
/// defaults these are): each video's frames are deduplicated (the first frame of each distinct hash is kept), frames
/// below `minimumQuality` are set aside, a frame matches when a frame of the other video is within `radius` bits
/// (inclusive), and the videos match when the share of the query's frames that match reaches `queryShare` percent
/// and the share of the target's reaches `targetShare` percent.
public struct VideoMatchRule: Sendable, Equatable, Hashable {
    public var radius: Int
    public var minimumQuality: Int
    public var queryShare: Double
    public var targetShare: Double

    public init(radius: Int = 31, minimumQuality: Int = 50, queryShare: Double = 80, targetShare: Double = 0) {
        self.radius = radius
        self.minimumQuality = minimumQuality
        self.queryShare = queryShare
        self.targetShare = targetShare
    }
}

/// How much of two videos matched: counts of distinct usable frames, and the shares in percent.
public struct VideoComparison: Sendable, Equatable, Hashable, Codable {
    /// Distinct query frames of sufficient quality, and how many of them matched a target frame.
    public var queryFrames: Int
    public var matchedQueryFrames: Int
    /// The same for the target.
    public var targetFrames: Int
    public var matchedTargetFrames: Int

    public init(queryFrames: Int, matchedQueryFrames: Int, targetFrames: Int, matchedTargetFrames: Int) {
        self.queryFrames = queryFrames
        self.matchedQueryFrames = matchedQueryFrames
        self.targetFrames = targetFrames
        self.matchedTargetFrames = matchedTargetFrames
    }

    /// Percent of the query's frames that matched (0 when it has none).
    public var queryShare: Double {
        queryFrames == 0 ? 0 : Double(matchedQueryFrames) * 100 / Double(queryFrames)
    }
    /// Percent of the target's frames that matched (0 when it has none).
    public var targetShare: Double {
        targetFrames == 0 ? 0 : Double(matchedTargetFrames) * 100 / Double(targetFrames)
    }

    /// The order answers are given in: the larger query share first, then the larger target share, then the
    /// smaller video id.
    public static func ranks(_ a: (VideoComparison, Int64), before b: (VideoComparison, Int64)) -> Bool {
        if a.0.queryShare != b.0.queryShare { return a.0.queryShare > b.0.queryShare }
        if a.0.targetShare != b.0.targetShare { return a.0.targetShare > b.0.targetShare }
        return a.1 < b.1
    }

    /// Whether both shares pass the rule's thresholds (and something matched at all).
    public func isMatch(_ rule: VideoMatchRule) -> Bool {
        matchedQueryFrames > 0 && queryShare >= rule.queryShare && targetShare >= rule.targetShare
    }
}

/// A stretch of the query that shows a stretch of the target: "0:42–1:17 of the query is 3:05–3:40 of the target".
/// Times are the first and last matched frames' presentation times, in seconds.
public struct MatchedRange: Sendable, Equatable, Hashable, Codable {
    public var queryStart: Double
    public var queryEnd: Double
    public var targetStart: Double
    public var targetEnd: Double
    /// Query frames in the stretch.
    public var frames: Int

    public init(queryStart: Double, queryEnd: Double, targetStart: Double, targetEnd: Double, frames: Int) {
        self.queryStart = queryStart
        self.queryEnd = queryEnd
        self.targetStart = targetStart
        self.targetEnd = targetEnd
        self.frames = frames
    }

    /// Seconds as m:ss (h:mm:ss from an hour); with `tenths`, to the tenth when the time is not whole. Held to
    /// plausible times: a crafted frame list may say anything.
    public static func clock(_ seconds: Double, tenths: Bool = false) -> String {
        let scale = tenths ? 10.0 : 1.0
        let units = Int((max(0, min(seconds.isFinite ? seconds : 0, 1e9)) * scale).rounded())
        let whole = tenths ? units / 10 : units
        let fraction = tenths && units % 10 != 0 ? ".\(units % 10)" : ""
        let (h, m, s) = (whole / 3600, whole / 60 % 60, whole % 60)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return (h > 0 ? "\(h):\(two(m)):\(two(s))" : "\(m):\(two(s))") + fraction
    }
}

public enum VideoMatching {
    /// The reference's comparison of two videos by brute force: every distinct usable query frame against every
    /// distinct usable target frame. The frame index answers the same, faster; this is its yardstick.
    public static func compare(_ query: [VideoFrame], _ target: [VideoFrame], rule: VideoMatchRule = VideoMatchRule())
        -> VideoComparison
    {
        let q = usable(query, rule: rule)
        let t = usable(target, rule: rule)
        func matched(_ a: [Hash256], in b: [Hash256]) -> Int {
            a.reduce(0) { n, x in n + (b.contains { x.distance(to: $0) <= rule.radius } ? 1 : 0) }
        }
        return VideoComparison(
            queryFrames: q.count, matchedQueryFrames: matched(q, in: t), targetFrames: t.count,
            matchedTargetFrames: matched(t, in: q))
    }

    /// The distinct hashes the reference compares: the first frame of each hash, kept when its quality suffices.
    public static func usable(_ frames: [VideoFrame], rule: VideoMatchRule) -> [Hash256] {
        var seen: Set<Hash256> = []
        var out: [Hash256] = []
        for f in frames where seen.insert(f.hash).inserted && f.quality >= rule.minimumQuality { out.append(f.hash) }
        return out
    }

    /// The sampling interval of a frame list: the median gap between consecutive distinct timestamps (1 s, vPDQ's
    /// default, when there are too few frames to tell).
    public static func samplingInterval(_ frames: [VideoFrame]) -> Double {
        let times = Set(frames.map(\.timestamp)).sorted()
        guard times.count >= 2 else { return 1 }
        let gaps = zip(times.dropFirst(), times).map { $0 - $1 }.filter { $0 > 0 }.sorted()
        guard !gaps.isEmpty else { return 1 }
        return gaps[gaps.count / 2]
    }
}
