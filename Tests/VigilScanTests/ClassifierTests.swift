import Testing
import VigilCore
import VigilMatch
import VigilMedia

@testable import VigilScan

/// A known item with the given digests, category and flags.
func item(_ digests: [HashDigest], category: String = "1", benign: Bool = false, series: String? = nil)
    -> HashSetRecord
{
    HashSetRecord(
        digests: digests, categories: [HashCategory(scheme: .projectVIC, code: category)], seriesName: series,
        knownBenign: benign)
}

func hit(_ name: String, _ record: HashSetRecord, _ digest: HashDigest, distance: Int = 0) -> KnownHit {
    KnownHit(item: name, record: record, distance: distance, matched: digest)
}

func md5(_ c: Character) -> HashDigest { try! HashDigest(.md5, String(repeating: c, count: 32)) }
func pdq(_ c: Character) -> HashDigest { try! HashDigest(.pdq, String(repeating: c, count: 64)) }

func image(_ path: String, sha: Character = "a") -> ScanFile {
    ScanFile(
        path: path, size: 100, type: "jpeg", md5: String(repeating: sha, count: 32),
        sha256: String(repeating: sha, count: 64), pdq: String(repeating: "f", count: 64), pdqQuality: 100)
}

@Suite("Classification and review order")
struct ClassifierTests {
    @Test("every file lands in its class: exact digest known, benign set aside, PDQ near, media new, rest other")
    func classes() {
        // given
        let known = item([md5("1")], series: "Series A")
        let benign = item([md5("2")], benign: true)
        let nearItem = item([pdq("3")])
        let files = [
            image("/e/known.jpg", sha: "1"), image("/e/benign.jpg", sha: "2"), image("/e/near.jpg", sha: "3"),
            image("/e/new.jpg", sha: "4"), ScanFile(path: "/e/notes.txt", size: 5, type: "other", md5: "x"),
            ScanFile(path: "/e/clip.mp4", size: 9, type: "other", video: "mp4"),
            image("/e/both.jpg", sha: "5"),
        ]
        let hits: [[KnownHit]] = [
            [hit("item-1", known, md5("1"))], [hit("nsrl", benign, md5("2"))],
            [hit("item-3", nearItem, pdq("3"), distance: 12)], [], [], [],
            // on the benign list and in the set: the set wins
            [hit("nsrl", benign, md5("5")), hit("item-1", known, md5("5"))],
        ]
        // when
        let results = Classifier.classify(files, hits: hits)
        // then
        #expect(results.map(\.fileClass) == [.known, .knownBenign, .nearMatch, .newMedia, .other, .newMedia, .known])
        #expect(results[0].hits.first?.record.seriesName == "Series A")
        #expect(results[2].hits.first?.distance == 12)
        #expect(results[6].hits.map(\.item) == ["item-1"])
        let summary = ScanSummary(results: results, problems: 0, seconds: 1)
        #expect(summary.count(.known) == 2 && summary.count(.newMedia) == 2 && summary.count(.knownBenign) == 1)
        #expect(summary.categories["projectvic-us:1 (Child abuse material (CAM))"] == 3)
    }

    @Test("a PDQ hit on a known-benign item does not make a near match")
    func benignPDQIgnored() {
        let benign = item([pdq("3")], benign: true)
        let results = Classifier.classify([image("/e/a.jpg")], hits: [[hit("nsrl", benign, pdq("3"), distance: 4)]])
        #expect(results[0].fileClass == .newMedia)
    }

    @Test("review order: near matches nearest first, then new media beside known items, then the rest")
    func priority() {
        // given
        let known = item([md5("1")])
        let near = item([pdq("3")])
        let files = [
            image("/a/new-alone.jpg", sha: "6"), image("/b/known.jpg", sha: "1"), image("/b/new-beside.jpg", sha: "7"),
            image("/c/near-far.jpg", sha: "8"), image("/c/near-close.jpg", sha: "9"),
        ]
        let hits: [[KnownHit]] = [
            [], [hit("item-1", known, md5("1"))], [], [hit("item-3", near, pdq("3"), distance: 20)],
            [hit("item-3", near, pdq("3"), distance: 2)],
        ]
        // when
        let order = Classifier.reviewOrder(Classifier.classify(files, hits: hits))
        // then
        #expect(order.map(\.file.name) == ["near-close.jpg", "near-far.jpg", "new-beside.jpg", "new-alone.jpg"])
        #expect(order.map(\.priority) == [1, 1, 2, 3])
        #expect(order.map(\.reviewRank) == [1, 2, 3, 4])
    }

    @Test("the same SHA-256 under several names forms one duplicate group; empty files do not")
    func duplicates() {
        let files = [
            image("/x/a.jpg", sha: "a"), image("/y/b.jpg", sha: "b"), image("/z/copy-of-a.jpg", sha: "a"),
            ScanFile(path: "/e1", size: 0, sha256: "e"), ScanFile(path: "/e2", size: 0, sha256: "e"),
        ]
        let results = Classifier.classify(files, hits: Array(repeating: [], count: files.count))
        #expect(results.map(\.duplicateGroup) == [1, nil, 1, nil, nil])
        #expect(ScanSummary(results: results, problems: 0, seconds: 0).duplicateGroups == 1)
    }

    @Test("new pictures a few PDQ bits apart form a similar-picture group; a different picture does not join it")
    func similarPictures() {
        // given: two files of one picture (3 bits apart, different bytes) and an unrelated picture
        var a = image("/x/a.jpg", sha: "a")
        var b = image("/y/a-resized.png", sha: "b")
        var c = image("/z/other.jpg", sha: "c")
        a.pdq = "f" + String(repeating: "0", count: 63)
        b.pdq = "8" + String(repeating: "0", count: 63)
        c.pdq = String(repeating: "f", count: 64)
        // when
        let results = Classifier.classify([a, b, c], hits: [[], [], []])
        // then
        #expect(results.map(\.similarGroup) == [1, 1, nil])
        #expect(ScanSummary(results: results, problems: 0, seconds: 0).similarGroups == 1)
    }

    @Test("low-quality PDQ hashes are not used for matching")
    func lowQuality() {
        var f = image("/flat.png")
        f.pdqQuality = 10
        #expect(!f.queries.contains { $0.algorithm == .pdq })
        f.pdqQuality = 80
        #expect(f.queries.contains { $0.algorithm == .pdq })
    }

    @Test(
        "a video that shows a known video is a near match with where; an exact digest still wins; benign videos do not count"
    )
    func videos() {
        let knownVideo = item([md5("7")], series: "Series V")
        let benignVideo = item([md5("8")], benign: true)
        let showing = KnownVideoHit(
            item: "item-7", record: knownVideo,
            comparison: VideoComparison(
                queryFrames: 15, matchedQueryFrames: 15, targetFrames: 40, matchedTargetFrames: 15),
            ranges: [MatchedRange(queryStart: 0, queryEnd: 14, targetStart: 12, targetEnd: 26, frames: 15)])
        let benign = KnownVideoHit(
            item: "nsrl", record: benignVideo,
            comparison: VideoComparison(queryFrames: 5, matchedQueryFrames: 5, targetFrames: 5, matchedTargetFrames: 5),
            ranges: [])
        let files = [
            ScanFile(path: "/e/clip.mp4", size: 9, type: "other", video: "mp4", md5: String(repeating: "9", count: 32)),
            ScanFile(path: "/e/copy.mp4", size: 9, type: "other", video: "mp4", md5: String(repeating: "7", count: 32)),
            ScanFile(
                path: "/e/intro.mp4", size: 9, type: "other", video: "mp4", md5: String(repeating: "6", count: 32)),
        ]
        let results = Classifier.classify(
            files, hits: [[], [hit("item-7", knownVideo, md5("7"))], []], videoHits: [[showing], [showing], [benign]])
        #expect(results.map(\.fileClass) == [.nearMatch, .known, .newMedia])
        #expect(results[0].videoHits == [showing] && results[0].priority == 1)
        #expect(
            showing.summary
                == "100% of the file's frames, 38% of the known video's; 0:00–0:14 of the file = 0:12–0:26 of the known video"
        )
    }
}
