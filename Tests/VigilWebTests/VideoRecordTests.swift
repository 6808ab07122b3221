import Foundation
import Testing
import Vapor
import VigilApp
import VigilCore
import VigilMatch
import VigilStore
import VigilTestSupport

@testable import VigilWeb

/// Video records in the national set: stored with their vPDQ frames, indexed by frame, matched through banks and
/// review, and asked about through `POST /api/v1/match`.
@Suite("Video records: the set, the matcher and the match API")
struct VideoRecordTests {
    /// Deterministic frames.
    struct Rng {
        var g: SplitMix64
        init(state: UInt64) { g = SplitMix64(seed: state) }
        mutating func hash() -> Hash256 { Hash256(w0: g.next(), w1: g.next(), w2: g.next(), w3: g.next()) }
    }

    /// A video of `seconds` distinct frames, one a second, as the reference's lines.
    static func lines(_ hashes: [Hash256], from start: Int = 0, shift: Double = 0, flip: Bool = false) -> [String] {
        hashes.enumerated().map { k, h in
            // A re-encoding moves a few bits: the low bits of the first word.
            let moved = flip ? Hash256(w0: h.w0 ^ 0b1011, w1: h.w1, w2: h.w2, w3: h.w3) : h
            return "\((start + k) * 25),95,\(moved.hex),\(String(format: "%.3f", Double(start + k) + shift))"
        }
    }

    static func record(_ n: Int) throws -> HashSetRecord {
        HashSetRecord(
            digests: [try HashDigest(.sha256, String(format: "%064x", n))],
            categories: [HashCategory(scheme: .projectVIC, code: "1", source: "test")],
            provenance: HashProvenance(contributor: "Police unit"))
    }

    /// Stores ``record(_:)`` `n` as a video of `hashes` (the reference's lines, ``lines(_:flip:)``); its item ids.
    @discardableResult
    static func importVideo(
        _ store: HashSetStore, record n: Int, _ hashes: [Hash256], flip: Bool = false,
        intake: HashSetStore.Intake = .confirmed(bank: "national")
    ) async throws -> [Int64] {
        var summary = HashSetStore.ImportSummary()
        return try await store.importVideos(
            [HashSetStore.VideoImport(record: try record(n), frames: lines(hashes, flip: flip))], source: "t",
            actor: .system, intake: intake, into: &summary)
    }

    @Test("stored with its frames, once per item; a video without a file digest or frames is refused first")
    func store() async throws {
        try await withVigilApp { app, clock in
            let store = HashSetStore(db: app.db, clock: clock)
            var rng = Rng(state: 1)
            let frames = Self.lines((0..<30).map { _ in rng.hash() })
            var s = HashSetStore.ImportSummary()
            let ids = try await store.importVideos(
                [HashSetStore.VideoImport(record: try Self.record(1), frames: frames, duration: 30)], source: "t",
                actor: .system, intake: .confirmed(bank: "national"), into: &s)
            #expect(s.added == 1 && ids.count == 1)
            // Importing it again adds nothing and keeps the first frame list.
            var again = HashSetStore.ImportSummary()
            _ = try await store.importVideos(
                [HashSetStore.VideoImport(record: try Self.record(1), frames: Array(frames.prefix(3)))], source: "t",
                actor: .system, intake: .confirmed(bank: "national"), into: &again)
            #expect(again.added == 0)
            let stored = try await store.videos(items: ids)
            #expect(stored[ids[0]]?.frames == frames && stored[ids[0]]?.duration == 30)
            var rows: [HashSetStore.StoredVideo] = []
            try await store.forEachVideo { rows.append($0) }
            #expect(rows.count == 1)

            let pdqOnly = HashSetRecord(digests: [try HashDigest(.pdq, rng.hash().hex)])
            for bad in [
                HashSetStore.VideoImport(record: pdqOnly, frames: frames),
                HashSetStore.VideoImport(record: try Self.record(2), frames: []),
            ] {
                var x = HashSetStore.ImportSummary()
                await #expect(throws: StoreError.self) {
                    try await store.importVideos(
                        [HashSetStore.VideoImport(record: try Self.record(3), frames: frames), bad], source: "t",
                        actor: .system, intake: .confirmed(bank: "national"), into: &x)
                }
            }
            #expect(try await store.counts().items == 1, "nothing written by a refused import")
        }
    }

    @Test(
        "records that carry frames (a VICS file's vPDQ) import as videos beside images; a matcher of files finds them")
    func recordsCarryingFrames() async throws {
        var rng = Rng(state: 5)
        let hashes = (0..<40).map { _ in rng.hash() }
        var video = try Self.record(7)
        video.video = VideoFingerprint(frames: Self.lines(hashes), duration: 40)
        let image = try Self.record(8)
        try await withVigilApp { app, clock in
            let store = HashSetStore(db: app.db, clock: clock)
            var s = HashSetStore.ImportSummary()
            try await store.importBatch(
                [image, video], source: "vics", actor: .system, intake: .confirmed(bank: "national"), into: &s)
            #expect(s.added == 2)
            let counts = try await store.videoCounts()
            #expect(counts.videos == 1 && counts.frames == 40)
            let item = try #require(try await store.items(forExact: [video.digests[0]])[video.digests[0]])
            #expect(try await store.videos(items: [item.id])[item.id]?.frames == video.video?.frames)
            #expect(item.record.video == nil, "the frames live with the item, not in the record's JSON")
        }
        // A hash-list file's video records, matched without a database: seconds 10-24 of the video.
        let matcher = HashSetMatcher(records: [image, video])
        let clip = try VPDQLines.frames(Self.lines(Array(hashes[10..<25]), flip: true))
        let hits = try await matcher.matchVideo(clip)
        #expect(hits.map(\.item) == [2] && hits[0].comparison.queryShare == 100, "\(hits.map(\.comparison))")
        let range = try #require(hits[0].ranges.max { $0.frames < $1.frames })
        #expect(range.targetStart == 10 && range.targetEnd == 24, "\(range)")
    }

    func post(_ app: Application, key: String, _ json: String) async throws -> TestBrowser.Page {
        let h: HTTPHeaders = [
            "Content-Type": "application/json", "Accept": "application/json", "Authorization": "Bearer \(key)",
        ]
        return try await TestBrowser(app).send(.POST, "/api/v1/match", headers: h, body: json)
    }

    struct Answer: Decodable {
        struct Video: Decodable {
            struct Match: Decodable {
                struct Range: Decodable { let queryStart, queryEnd, videoStart, videoEnd: Double; let frames: Int }
                let item: String
                let bank: String
                let review: String
                let queryShare: Double
                let videoShare: Double
                let ranges: [Range]
            }
            let label: String?
            let matched: Bool
            let matches: [Match]
            let error: String?
        }
        let videos: [Video]?
    }

    @Test("a partner posts a clip's vPDQ and gets the known video and where the clip comes from")
    func matchAPI() async throws {
        try await withVigilApp { app, clock in
            let store = HashSetStore(db: app.db, clock: clock)
            var rng = Rng(state: 7)
            let known = (0..<120).map { _ in rng.hash() }
            let pendingVideo = (0..<40).map { _ in rng.hash() }
            let ids = try await Self.importVideo(store, record: 10, known)
            try await Self.importVideo(store, record: 11, pendingVideo, intake: .pending(reviewsRequired: 3))
            let key = try await APIKeys(db: app.db, clock: clock, tokens: SystemTokenSource()).create(
                partner: "Platform", scopes: [.matchRead], actor: .system
            ).secret

            // The clip: 1:05–1:35 of the known video, re-encoded (a few bits moved), its own time from 0.
            let clip = Self.lines(Array(known[65...95]), shift: -0, flip: true).enumerated().map { k, line in
                let f = line.split(separator: ",")
                return "\(k * 25),95,\(f[2]),\(String(format: "%.3f", Double(k)))"
            }
            func body(_ videos: [String], extra: String = "") -> String {
                #"{"videos":[\#(videos.joined(separator: ","))]\#(extra)}"#
            }
            func video(_ lines: [String], label: String) -> String {
                #"{"label":"\#(label)","vpdq":[\#(lines.map { "\"\($0)\"" }.joined(separator: ","))]}"#
            }
            let unrelated = Self.lines((0..<20).map { _ in rng.hash() })
            let res = try await post(
                app, key: key,
                body([
                    video(clip, label: "upload-1"), video(unrelated, label: "upload-2"),
                    video(["0,95,nothex,0.000"], label: "upload-3"),
                ]))
            #expect(res.status == .ok, "\(res.body)")
            let answer = try JSONDecoder().decode(Answer.self, from: Data(res.body.utf8))
            let videos = try #require(answer.videos)
            #expect(videos.map(\.label) == ["upload-1", "upload-2", "upload-3"])
            #expect(videos.map(\.matched) == [true, false, false])
            #expect(videos[2].error?.contains("line 1") == true, "one bad video fails alone")
            let m = try #require(videos[0].matches.first)
            #expect(m.item == "item-\(ids[0])" && m.bank == "national" && m.review == "confirmed")
            #expect(m.queryShare == 100 && abs(m.videoShare - 31.0 * 100 / 120) < 0.01)
            #expect(m.ranges.count == 1)
            #expect(
                m.ranges.first.map { [$0.queryStart, $0.queryEnd, $0.videoStart, $0.videoEnd] } == [0, 30, 65, 95])

            // The pending video matches only on request; the compact (python-threatexchange) form is read too.
            let compact = Self.lines(pendingVideo).map { line in
                let f = line.split(separator: ",")
                return "\(f[2]),\(f[1]),\(f[3])"
            }
            for (include, expected) in [("", false), (#","include":["pending"]"#, true)] {
                let r = try await post(app, key: key, body([video(compact, label: "p")], extra: include))
                let a = try JSONDecoder().decode(Answer.self, from: Data(r.body.utf8))
                #expect(a.videos?.first?.matched == expected, "\(r.body)")
            }
            // Hashes and videos in one request; the audit counts both.
            let both = try await post(
                app, key: key,
                #"{"hashes":[{"algorithm":"md5","value":"00000000000000000000000000000000"}],"videos":[\#(video(clip, label: "x"))]}"#
            )
            #expect(both.status == .ok && both.body.contains(#""results":[{"#))
            let audit = try await AuditLog.list(on: app.db, filter: .init(action: "match.query"), page: 1, per: 10)
            #expect(audit.events.contains { $0.detailsJSON.contains(#""videos_matched":"1""#) })
            // Bad requests: too many videos, shares out of range.
            let many = body(Array(repeating: video(clip, label: "v"), count: 17))
            #expect(try await post(app, key: key, many).status == .badRequest)
            let share = body([video(clip, label: "v")], extra: #","video":{"queryShare":120}"#)
            #expect(try await post(app, key: key, share).status == .badRequest)
            // Frames below PDQ's useful quality are never compared on request; a wide radius is held to 31 for frames.
            let quality = body([video(clip, label: "v")], extra: #","video":{"minQuality":10}"#)
            #expect(try await post(app, key: key, quality).status == .badRequest)
            let wide = try await post(app, key: key, body([video(clip, label: "v")], extra: #","radius":63"#))
            #expect(try JSONDecoder().decode(Answer.self, from: Data(wide.body.utf8)).videos?.first?.matched == true)
        }
    }

    @Test("a video added to the set reaches a running matcher as a delta, and a bank switched off stops it")
    func deltasAndBanks() async throws {
        try await withVigilApp { app, clock in
            let store = HashSetStore(db: app.db, clock: clock)
            var rng = Rng(state: 3)
            let hashes = (0..<20).map { _ in rng.hash() }
            let frames = try VPDQLines.frames(Self.lines(hashes))
            let matcher = try await HashSetMatcher(store: store)
            matcher.bankCacheLifetime = .zero
            #expect(try await matcher.matchVideo(frames).isEmpty)
            try await Self.importVideo(store, record: 20, hashes)
            #expect(try await matcher.matchVideo(frames).isEmpty, "not yet")
            #expect(try await matcher.refresh() == .delta(added: 1))
            #expect(try await matcher.matchVideo(frames).map(\.comparison.queryShare) == [100])
            #expect(matcher.indexedVideoCount == 1)
            // A bank's own radius holds for frames too: frames 3 bits away are outside a radius of 2.
            let moved = try VPDQLines.frames(Self.lines(hashes, flip: true))
            #expect(try await matcher.matchVideo(moved).count == 1)
            _ = try await store.updateBank("national", actor: .user("admin")) { $0.pdqRadius = 2 }
            #expect(try await matcher.matchVideo(moved).isEmpty)
            #expect(try await matcher.matchVideo(frames).count == 1)
            _ = try await store.updateBank("national", actor: .user("admin")) { $0.enabled = false }
            #expect(try await matcher.matchVideo(frames).isEmpty, "a bank switched off stops matching")
            // A new matcher reads the videos from the database.
            let fresh = try await HashSetMatcher(store: store)
            #expect(fresh.indexedVideoCount == 1)
        }
    }

    @Test("a known-benign video suppresses the videos it explains, not those it only touches; the audit says why")
    func negativeBanks() async throws {
        try await withVigilApp { app, clock in
            let store = HashSetStore(db: app.db, clock: clock)
            var rng = Rng(state: 11)
            // A known video that opens with a broadcaster's 10-second intro, and the intro, known benign.
            let intro = (0..<10).map { _ in rng.hash() }
            let known = intro + (0..<30).map { _ in rng.hash() }
            let ids = try await Self.importVideo(store, record: 30, known)
            let benign = try await Self.importVideo(
                store, record: 31, intro, flip: true, intake: .confirmed(bank: "false-positive"))
            let matcher = try await HashSetMatcher(store: store)
            matcher.bankCacheLifetime = .zero

            // An upload of only the intro, as the benign clip was encoded: the known video holds all of it, but the
            // benign clip explains it as well, and the upload is a quarter of the known video.
            let introOnly = try VPDQLines.frames(Self.lines(intro, flip: true))
            let answer = try await matcher.answerVideo(introOnly)
            #expect(answer.hits.isEmpty)
            #expect(answer.suppressed?.item == benign[0] && answer.suppressed?.bank == "false-positive")
            #expect(answer.suppressed?.comparison.queryShare == 100)
            // The whole known video: the intro is a quarter of it, under the rule's 80%, so it suppresses nothing.
            let whole = try await matcher.answerVideo(try VPDQLines.frames(Self.lines(known, flip: true)))
            #expect(whole.hits.map(\.item) == ids && whole.suppressed == nil)
            // A compilation of the intro and a short known video, asked as a scan asks (any share): the intro explains
            // most of it and hides the long video it opens, but the short one is there whole and stays.
            let short = (0..<2).map { _ in rng.hash() }
            let shortIDs = try await Self.importVideo(store, record: 32, short)
            #expect(try await matcher.refresh() == .delta(added: 1))
            let compilation = try VPDQLines.frames(Self.lines(intro + short, flip: true))
            let anyShare = VideoMatchRule(radius: 31, minimumQuality: 50, queryShare: 0, targetShare: 0)
            let mixed = try await matcher.answerVideo(compilation, rule: anyShare)
            #expect(mixed.hits.map(\.item) == shortIDs && mixed.suppressed?.item == benign[0])
            // Padding does not hide: a long benign clip around two seconds of the known video's second half, asked
            // with a low query share, still answers the known video (the benign clip is most of the upload, but not
            // the part the known video explains).
            let card = (0..<20).map { _ in rng.hash() }
            try await Self.importVideo(store, record: 33, card, intake: .confirmed(bank: "false-positive"))
            #expect(try await matcher.refresh() == .delta(added: 1))
            let padded = try VPDQLines.frames(Self.lines(card + Array(known[30..<32]), flip: true))
            let low = VideoMatchRule(radius: 31, minimumQuality: 50, queryShare: 5, targetShare: 0)
            #expect(try await matcher.answerVideo(padded, rule: low).hits.map(\.item) == ids)
            // At a smaller radius every bank is compared within it, the negative one too: the benign clip was stored
            // from another encoding (3 bits off), so within 2 bits it explains nothing and the known video stays.
            let exactIntro = try VPDQLines.frames(Self.lines(intro))
            let near = try await matcher.answerVideo(exactIntro, rule: VideoMatchRule(radius: 2))
            #expect(near.hits.map(\.item) == ids && near.suppressed == nil)
            // A negative bank switched off neither matches nor suppresses.
            _ = try await store.updateBank("false-positive", actor: .user("admin")) { $0.enabled = false }
            #expect(try await matcher.matchVideo(introOnly).map(\.item) == ids)
            _ = try await store.updateBank("false-positive", actor: .user("admin")) { $0.enabled = true }

            // Through the API the caller sees "no match"; the audit names the negative bank's record.
            let key = try await APIKeys(db: app.db, clock: clock, tokens: SystemTokenSource()).create(
                partner: "Platform", scopes: [.matchRead], actor: .system
            ).secret
            let lines = Self.lines(intro, flip: true).map { "\"\($0)\"" }.joined(separator: ",")
            let res = try await post(app, key: key, #"{"videos":[{"label":"intro","vpdq":[\#(lines)]}]}"#)
            let a = try JSONDecoder().decode(Answer.self, from: Data(res.body.utf8))
            #expect(a.videos?.first?.matched == false && a.videos?.first?.matches.isEmpty == true, "\(res.body)")
            #expect(!res.body.contains("false-positive"), "the reason stays with staff")
            let audit = try await AuditLog.list(on: app.db, filter: .init(action: "match.query"), page: 1, per: 10)
            #expect(
                audit.events.contains {
                    $0.detailsJSON.contains(#""videos_suppressed_by":"false-positive:item-\#(benign[0])""#)
                }, "\(audit.events.map(\.detailsJSON))")
        }
    }

    @Test("the frame index is saved beside the PDQ snapshot; a start loads it and reads only newer videos")
    func frameIndexSnapshot() async throws {
        try await withVigilApp { app, clock in
            let store = HashSetStore(db: app.db, clock: clock)
            let path = (try app.vigil.configuration.dataDirectory as NSString).appendingPathComponent(
                HashSetMatcher.snapshotFileName)
            var rng = Rng(state: 9)
            let videos = (0..<4).map { _ in (0..<25).map { _ in rng.hash() } }
            func add(_ n: Int) async throws {
                try await Self.importVideo(store, record: 30 + n, videos[n])
            }
            func finds(_ m: HashSetMatcher, _ n: Int) async throws -> Bool {
                try await m.matchVideo(try VPDQLines.frames(Self.lines(Array(videos[n][5..<20]), flip: true)))
                    .count == 1
            }
            for n in 0..<3 { try await add(n) }
            // given: the first start reads the frames and saves them
            let first = try await HashSetMatcher(store: store, snapshotPath: path)
            #expect(first.videoIndexSource == .database && first.indexedVideoCount == 3)
            #expect(FileManager.default.fileExists(atPath: path + ".videos.head"))
            let older = try [".videos", ".videos.frames"].map { try Data(contentsOf: URL(fileURLWithPath: path + $0)) }
            // when: a video and an image are added (the PDQ snapshot goes stale)
            try await add(3)
            var s = HashSetStore.ImportSummary()
            try await store.importBatch(
                [HashSetRecord(digests: [try HashDigest(.pdq, rng.hash().hex)])], source: "t", actor: .system,
                intake: .confirmed(bank: "national"), into: &s)
            // then: the next start reads the PDQ hashes again but loads the frame index, adding the new video
            let second = try await HashSetMatcher(store: store, snapshotPath: path)
            #expect(second.indexSource == .database && second.videoIndexSource == .snapshot)
            #expect(second.indexedVideoCount == 4)
            for n in 0..<4 { #expect(try await finds(second, n), "video \(n)") }
            let third = try await HashSetMatcher(store: store, snapshotPath: path)
            #expect(third.indexSource == .snapshot && third.videoIndexSource == .snapshot)
            #expect(try await finds(third, 3))
            // when: another process saved an older index under the newer header (a server and a scan share the data
            // directory); then: the video the header covers but the index lacks is read again
            for (suffix, data) in zip([".videos", ".videos.frames"], older) {
                try data.write(to: URL(fileURLWithPath: path + suffix))
            }
            let mixed = try await HashSetMatcher(store: store, snapshotPath: path)
            #expect(mixed.videoIndexSource == .snapshot && mixed.indexedVideoCount == 4)
            #expect(try await finds(mixed, 3))
            // when: the header no longer fits the database's rows (another database, a damaged file); then: ignored
            try Data(repeating: 7, count: 40).write(to: URL(fileURLWithPath: path + ".videos.head"))
            let fourth = try await HashSetMatcher(store: store, snapshotPath: path)
            #expect(fourth.videoIndexSource == .database && fourth.indexedVideoCount == 4)
            try Data("not an index".utf8).write(to: URL(fileURLWithPath: path + ".videos"))
            let fifth = try await HashSetMatcher(store: store, snapshotPath: path)
            #expect(fifth.videoIndexSource == .database && fifth.indexedVideoCount == 4)
            #expect(try await finds(fifth, 0))
        }
    }
}
