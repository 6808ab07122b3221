import Foundation
import Testing

@testable import VigilMatch

@Suite("Frame index: videos by their frames, exact against the reference's brute-force comparison")
struct FrameIndexTests {
    @Test("matched times read as a clock: m:ss, h:mm:ss from an hour, tenths on request, crafted times held")
    func clock() {
        #expect(MatchedRange.clock(0) == "0:00" && MatchedRange.clock(77.4) == "1:17")
        #expect(MatchedRange.clock(3 * 3600 + 5 * 60 + 9) == "3:05:09")
        #expect(MatchedRange.clock(12.25, tenths: true) == "0:12.3" && MatchedRange.clock(12, tenths: true) == "0:12")
        #expect(MatchedRange.clock(-5) == "0:00" && MatchedRange.clock(.nan) == "0:00")
        #expect(MatchedRange.clock(.infinity) == "0:00" && MatchedRange.clock(1e300) == "277777:46:40")
    }

    /// A synthetic video: `scenes` shots, each a base hash held for a few sampled frames with small changes, a few
    /// frames of low quality, one second apart from `start`.
    static func video(_ rng: inout SplitMix64, scenes: Int, start: Double = 0) -> [VideoFrame] {
        var frames: [VideoFrame] = []
        var t = start
        for _ in 0..<scenes {
            let base = Hash256.random(using: &rng)
            for k in 0..<Int(1 + rng.next() % 6) {
                // Still frames repeat the hash exactly; moving ones drift a few bits.
                let hash = k == 0 || rng.next() % 3 == 0 ? base : base.flipping(Int(rng.next() % 12), using: &rng)
                let quality = rng.next() % 10 == 0 ? Int(rng.next() % 50) : 50 + Int(rng.next() % 51)
                frames.append(VideoFrame(hash: hash, quality: quality, timestamp: t))
                t += 1
            }
        }
        return frames
    }

    /// `frames` re-encoded: every hash moved by up to `noise` bits.
    static func noisy(_ frames: [VideoFrame], _ noise: Int, _ rng: inout SplitMix64, shift: Double = 0)
        -> [VideoFrame]
    {
        frames.map {
            VideoFrame(
                hash: $0.hash.flipping(Int(rng.next() % UInt64(noise + 1)), using: &rng), quality: $0.quality,
                timestamp: $0.timestamp + shift)
        }
    }

    @Test(
        "the reference's rules: first frame of each hash decides, quality below the minimum is set aside, radius is inclusive"
    )
    func referenceRules() {
        var rng = SplitMix64(seed: 1)
        let a = Hash256.random(using: &rng)
        let b = Hash256.random(using: &rng)
        let c = Hash256.random(using: &rng)
        // a appears twice (counted once); b's first frame has quality 40, so b is set aside though it recurs at 90.
        let query = [
            VideoFrame(hash: a, quality: 80, timestamp: 0), VideoFrame(hash: a, quality: 80, timestamp: 1),
            VideoFrame(hash: b, quality: 40, timestamp: 2), VideoFrame(hash: b, quality: 90, timestamp: 3),
            VideoFrame(hash: c, quality: 60, timestamp: 4),
        ]
        let target = [
            VideoFrame(hash: a.flipping(31, using: &rng), quality: 70, timestamp: 0),
            VideoFrame(hash: c.flipping(32, using: &rng), quality: 70, timestamp: 1),
        ]
        let r = VideoMatching.compare(query, target)
        #expect(r == VideoComparison(queryFrames: 2, matchedQueryFrames: 1, targetFrames: 2, matchedTargetFrames: 1))
        #expect(r.queryShare == 50 && !r.isMatch(VideoMatchRule()))
        #expect(r.isMatch(VideoMatchRule(queryShare: 50)))
        #expect(!r.isMatch(VideoMatchRule(queryShare: 50, targetShare: 51)))

        let index = FrameIndex()
        try? index.add(video: 7, frames: target)
        let hits = index.search(query, rule: VideoMatchRule(queryShare: 50))
        #expect(hits.map(\.video) == [7])
        #expect(hits.first?.comparison == r)
    }

    @Test("every share the index gives equals the brute-force comparison, for every video and several rules")
    func exactAgainstBruteForce() throws {
        var rng = SplitMix64(seed: 16)
        var videos: [Int64: [VideoFrame]] = [:]
        let index = FrameIndex()
        for id in Int64(1)...60 {
            let v = Self.video(&rng, scenes: 3 + Int(rng.next() % 40))
            videos[id] = v
            try index.add(video: id, frames: v)
        }
        #expect(index.videoCount == 60)
        #expect(index.entryCount < index.frameCount, "repeated frames are stored once")
        // Queries: clips of known videos, re-encoded; whole videos; unrelated ones; a query mixing two videos.
        var queries: [[VideoFrame]] = []
        for id in Int64(1)...20 {
            let v = videos[id]!
            let from = Int(rng.next() % UInt64(v.count))
            let to = min(v.count, from + 1 + Int(rng.next() % 30))
            queries.append(Self.noisy(Array(v[from..<to]), 10, &rng, shift: -Double(from)))
        }
        queries.append(videos[21]!)
        queries.append(Self.video(&rng, scenes: 20))
        queries.append(Array(videos[22]!.prefix(10)) + Array(videos[23]!.suffix(10)))
        for rule in [
            VideoMatchRule(), VideoMatchRule(radius: 8, minimumQuality: 70),
            VideoMatchRule(queryShare: 0, targetShare: 30),
            VideoMatchRule(radius: 0, minimumQuality: 0, queryShare: 0),
        ] {
            for q in queries {
                let found = Dictionary(
                    uniqueKeysWithValues: index.search(q, rule: rule, all: true).map { ($0.video, $0.comparison) })
                let passing = Set(index.search(q, rule: rule).map(\.video))
                for (id, target) in videos {
                    let expected = VideoMatching.compare(q, target, rule: rule)
                    if expected.matchedQueryFrames > 0 {
                        #expect(found[id] == expected, "video \(id), rule \(rule)")
                    } else {
                        #expect(found[id] == nil)
                    }
                    #expect(passing.contains(id) == expected.isMatch(rule))
                }
            }
        }
    }

    @Test("a clip cut from a longer video, re-encoded and shifted, is answered with the range it came from")
    func clipRanges() throws {
        var rng = SplitMix64(seed: 42)
        // Three minutes of distinct frames, one a second; the clip is 3:05–3:40 of it... of a 4-minute video.
        let long = (0..<240).map { VideoFrame(hash: .random(using: &rng), quality: 90, timestamp: Double($0)) }
        let index = FrameIndex()
        try index.add(video: 8812, frames: long)
        try index.add(
            video: 1,
            frames: (0..<50).map { VideoFrame(hash: .random(using: &rng), quality: 90, timestamp: Double($0)) })
        // The query: 42 s of other material, then 3:05–3:40 of item 8812 (re-encoded), then other material again.
        var query = (0..<42).map { VideoFrame(hash: .random(using: &rng), quality: 90, timestamp: Double($0)) }
        query += Self.noisy(Array(long[185...220]), 12, &rng, shift: 42 - 185)
        query += (78..<90).map { VideoFrame(hash: .random(using: &rng), quality: 90, timestamp: Double($0)) }
        let hits = index.search(query, rule: VideoMatchRule(queryShare: 30))
        #expect(hits.map(\.video) == [8812])
        let hit = try #require(hits.first)
        #expect(hit.comparison.matchedQueryFrames == 36 && hit.comparison.matchedTargetFrames == 36)
        #expect(
            hit.ranges == [MatchedRange(queryStart: 42, queryEnd: 77, targetStart: 185, targetEnd: 220, frames: 36)])
        // Below the rule's 80% of the query, the default finds it only when asked for every candidate.
        #expect(index.search(query).isEmpty)
        #expect(index.search(query, all: true).map(\.video) == [8812])
    }

    @Test("a still scene is one entry and one run, and its range spans the scene")
    func stillScene() throws {
        var rng = SplitMix64(seed: 5)
        let still = Hash256.random(using: &rng)
        var target = (0..<10).map { VideoFrame(hash: .random(using: &rng), quality: 90, timestamp: Double($0)) }
        target += (10..<40).map { VideoFrame(hash: still, quality: 90, timestamp: Double($0)) }
        let index = FrameIndex()
        try index.add(video: 3, frames: target)
        #expect(index.entryCount == 11)
        let query = Array(target[5..<20]).map { VideoFrame(hash: $0.hash, quality: 90, timestamp: $0.timestamp - 5) }
        let hit = try #require(index.search(query).first)
        #expect(hit.comparison.queryShare == 100)
        #expect(hit.ranges == [MatchedRange(queryStart: 0, queryEnd: 14, targetStart: 5, targetEnd: 19, frames: 6)])
    }

    @Test("saved and loaded, the index answers the same and takes more videos; damaged files are refused")
    func snapshot() throws {
        var rng = SplitMix64(seed: 9)
        let index = FrameIndex()
        var videos: [[VideoFrame]] = []
        for id in Int64(0)..<30 {
            videos.append(Self.video(&rng, scenes: 10))
            try index.add(video: id, frames: videos.last!)
        }
        #expect(throws: FrameIndex.AddError.duplicate(3)) { try index.add(video: 3, frames: videos[0]) }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("frame-index-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("frames.index").path
        try index.save(to: path)
        let loaded = try FrameIndex.load(from: path)
        #expect(loaded.videoCount == 30 && loaded.entryCount == index.entryCount)
        for v in videos.prefix(10) {
            let q = Self.noisy(v, 6, &rng, shift: 3)
            #expect(loaded.search(q, all: true) == index.search(q, all: true))
        }
        let extra = Self.video(&rng, scenes: 8)
        try loaded.add(video: 99, frames: extra)
        #expect(loaded.search(extra).first?.video == 99)

        var bytes = try Data(contentsOf: URL(fileURLWithPath: path + ".frames"))
        bytes[bytes.count - 1] ^= 0xFF
        try bytes.dropLast(4).write(to: URL(fileURLWithPath: path + ".frames"))
        #expect(throws: FrameIndex.SnapshotError.self) { try FrameIndex.load(from: path) }
        try Data("VIGILFRXgarbage".utf8).write(to: URL(fileURLWithPath: path + ".frames"))
        #expect(throws: FrameIndex.SnapshotError.self) { try FrameIndex.load(from: path) }
    }
}

extension FrameIndexTests {
    @Test("times no video has (huge, infinite, not a number) never crash a search; the shares stand")
    func absurdTimes() throws {
        var rng = SplitMix64(seed: 77)
        let hashes = (0..<10).map { _ in Hash256.random(using: &rng) }
        let index = FrameIndex()
        try index.add(
            video: 1,
            frames: hashes.enumerated().map { VideoFrame(hash: $1, quality: 90, timestamp: Double($0) * 1e30) })
        // Times beyond what the index stores are refused on the way in.
        #expect(throws: FrameIndex.AddError.timestamp(video: 2, frame: 1)) {
            try index.add(
                video: 2,
                frames: hashes.enumerated().map { VideoFrame(hash: $1, quality: 90, timestamp: Double($0) * 1e300) })
        }
        #expect(throws: FrameIndex.AddError.timestamp(video: 3, frame: 0)) {
            try index.add(video: 3, frames: [VideoFrame(hash: hashes[0], quality: 90, timestamp: -1)])
        }
        for t in [1e300, -1e300, .infinity, .nan, 0] {
            let q = hashes.map { VideoFrame(hash: $0, quality: 90, timestamp: t) }
            #expect(index.search(q).first?.comparison.queryShare == 100)
        }
    }
}

extension FrameIndexTests {
    @Test("refused adds change nothing: a duplicate id, a quality outside 0–100; any id sorts, Int64.min included")
    func refusedAdds() throws {
        var rng = SplitMix64(seed: 12)
        let frames = (0..<5).map { VideoFrame(hash: .random(using: &rng), quality: 90, timestamp: Double($0)) }
        let index = FrameIndex()
        try index.add(contentsOf: [(Int64.min, frames), (Int64.max, frames)])
        #expect(throws: FrameIndex.AddError.duplicate(7)) { try index.add(contentsOf: [(7, frames), (7, frames)]) }
        var bad = frames
        bad[2].quality = 101
        #expect(throws: FrameIndex.AddError.quality(video: 8, frame: 2)) { try index.add(video: 8, frames: bad) }
        #expect(index.videoCount == 2 && index.entryCount == 10)
        #expect(index.search(frames).map(\.video) == [Int64.min, Int64.max])
    }

    @Test("a still query against a long still video is answered at once: votes are bounded")
    func stillAgainstStill() throws {
        var rng = SplitMix64(seed: 13)
        let base = Hash256.random(using: &rng)
        // A thousand near-identical frames alternating between a few hashes: thousands of runs per entry.
        let variants = (0..<4).map { base.flipping($0 * 2, using: &rng) }
        let long = (0..<4000).map { VideoFrame(hash: variants[$0 % 4], quality: 90, timestamp: Double($0)) }
        let index = FrameIndex()
        try index.add(video: 1, frames: long)
        let query = (0..<2000).map { VideoFrame(hash: variants[($0 / 3) % 4], quality: 90, timestamp: Double($0)) }
        let hit = try #require(index.search(query).first)
        #expect(hit.comparison.queryShare == 100)
        #expect(hit.ranges.count <= 8, "at most eight offsets are taken")
    }
}
