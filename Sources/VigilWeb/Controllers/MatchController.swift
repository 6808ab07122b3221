import Fluent
import ServiceLifecycle
import Vapor
import VigilApp
import VigilCore
import VigilFormats
import VigilMatch
import VigilStore

/// The match API for platforms: "have you seen these hashes?" against the national hash set.
enum MatchController {
    static let maxHashes = 1000

    struct Query: Content {
        struct Hash: Content {
            let algorithm: String
            let value: String
        }
        let hashes: [Hash]?
        let radius: Int?
        /// `["pending"]` also matches records still in review (they never count as known).
        let include: [String]?
        /// Videos by their vPDQ frames.
        let videos: [VideoQuery]?
        /// How videos are compared (vPDQ's defaults when absent).
        let video: VideoOptions?

        init(
            hashes: [Hash]?, radius: Int?, include: [String]?, videos: [VideoQuery]? = nil, video: VideoOptions? = nil
        ) {
            self.hashes = hashes
            self.radius = radius
            self.include = include
            self.videos = videos
            self.video = video
        }
    }

    /// A video to match: its vPDQ frames, one string per frame, as the reference writes them
    /// (`frameNumber,quality,pdqHex,seconds`) or as python-threatexchange serialises them (`pdqHex,quality,seconds`).
    struct VideoQuery: Content {
        let vpdq: [String]
        /// The caller's own name for the video, echoed in the answer.
        let label: String?
    }

    struct VideoOptions: Content {
        /// Percent of the query's distinct frames that must match (80).
        let queryShare: Double?
        /// Percent of the known video's distinct frames that must match (0).
        let videoShare: Double?
        /// Frames of lower PDQ quality are not compared (50).
        let minQuality: Int?
    }

    struct RangeDTO: Content {
        let queryStart: Double
        let queryEnd: Double
        let videoStart: Double
        let videoEnd: Double
        let frames: Int
    }

    struct VideoMatchDTO: Content {
        let item: String
        let bank: String
        let category: String?
        let review: String
        let version: Int64
        let provenance: MatchDTO.Provenance
        let categories: [MatchDTO.Category]
        let baseline: Bool
        let knownBenign: Bool
        let series: String?
        /// Percent of the query's distinct frames found in the known video, and the other way round.
        let queryShare: Double
        let videoShare: Double
        let queryFrames: Int
        let matchedQueryFrames: Int
        let videoFrames: Int
        let matchedVideoFrames: Int
        /// Where: stretches of the query (seconds) that show stretches of the known video.
        let ranges: [RangeDTO]
    }

    struct VideoResultDTO: Content {
        let label: String?
        /// Frames read from the query's vPDQ.
        let frames: Int
        let matched: Bool
        let matches: [VideoMatchDTO]
        let error: String?
    }

    static let maxVideos = 16
    static let maxVideoFrames = 20_000

    struct MatchDTO: Content {
        struct Category: Content {
            let scheme: String
            let code: String
            let national: String?
            let source: String?
        }
        struct Matched: Content {
            let algorithm: String
            let value: String
        }
        struct Provenance: Content {
            let contributor: String?
            /// ISO 8601.
            let firstSeen: String?
            /// The contributor's case: only for callers allowed to see cases (staff), never for partners' keys.
            let `case`: String?
        }
        /// A reference to the known item, for feedback (`POST /api/v1/match/feedback`).
        let item: String
        let distance: Int
        /// The known hash that matched (a near match differs from the query).
        let matched: Matched
        let bank: String
        /// The category reviewers agreed, when confirmed.
        let category: String?
        /// `confirmed`, or `pending`/`escalated` when asked for with `include: ["pending"]`.
        let review: String
        let version: Int64
        let provenance: Provenance
        let categories: [Category]
        let baseline: Bool
        let knownBenign: Bool
        let series: String?
    }

    struct ResultDTO: Content {
        let algorithm: String
        let value: String
        let matched: Bool
        let matches: [MatchDTO]
        let error: String?
    }

    struct Response: Content {
        let radius: Int
        let results: [ResultDTO]
        /// Only when videos were asked about.
        let videos: [VideoResultDTO]?
    }

    static func dto(_ hit: HashSetMatcher.Hit) -> MatchDTO {
        MatchDTO(
            item: "item-\(hit.item)", distance: hit.distance,
            matched: .init(algorithm: hit.matched.algorithm.rawValue, value: hit.matched.value), bank: hit.bank,
            category: hit.category, review: hit.review.rawValue, version: hit.version,
            provenance: .init(
                contributor: hit.record.provenance.contributor, firstSeen: hit.firstSeen.map { $0.formatted(.iso8601) },
                case: nil),
            categories: hit.record.categories.map {
                .init(scheme: $0.scheme.rawValue, code: $0.code, national: $0.nationalCategory, source: $0.source)
            },
            baseline: hit.record.baseline ?? false, knownBenign: hit.record.knownBenign, series: hit.record.seriesName)
    }

    /// The request body. A JSON body in the documented layout is read by hand (``JSONReader``): at a thousand
    /// hashes per request, `JSONDecoder` costs more than the rest of the request's own work. Anything else (another
    /// media type, an unknown member, a malformed body) goes through Vapor's decoding, with its errors.
    static func query(_ req: Request) throws -> Query {
        guard let length = req.body.data?.readableBytes, length > 0 else {
            throw Abort(.badRequest, reason: "The request body is empty: send a JSON object with a 'hashes' array.")
        }
        if req.headers.contentType == .json, let body = req.body.data,
            let q = body.withUnsafeReadableBytes({ raw -> Query? in
                var reader = JSONReader(bytes: raw.bindMemory(to: UInt8.self))
                var hashes: [Query.Hash]?
                var radius: Int?
                var include: [String]?
                var seen = JSONReader.KeysSeen()
                let ok = reader.object { key, reader in
                    guard seen.first(key) else { return false }
                    switch key {
                    case "hashes":
                        var list: [Query.Hash] = []
                        list.reserveCapacity(maxHashes)
                        guard
                            reader.array({ reader in
                                var algorithm: String?
                                var value: String?
                                guard
                                    reader.object({ key, reader in
                                        guard let text = reader.string() else { return false }
                                        switch key {
                                        case "algorithm" where algorithm == nil: algorithm = text
                                        case "value" where value == nil: value = text
                                        default: return false
                                        }
                                        return true
                                    }), let algorithm, let value
                                else { return false }
                                list.append(Query.Hash(algorithm: algorithm, value: value))
                                return true
                            })
                        else { return false }
                        hashes = list
                        return true
                    case "radius":
                        if reader.null() { return true }
                        guard let r = reader.integer(), let n = Int(exactly: r) else { return false }
                        radius = n
                        return true
                    case "include":
                        if reader.null() { return true }
                        var list: [String] = []
                        guard
                            reader.array({ reader in
                                guard let s = reader.string() else { return false }
                                list.append(s)
                                return true
                            })
                        else { return false }
                        include = list
                        return true
                    default: return false
                    }
                }
                guard ok, reader.atEnd(), let hashes else { return nil }
                return Query(hashes: hashes, radius: radius, include: include)
            })
        {
            return q
        }
        return try req.content.decode(Query.self)
    }

    /// The answer written straight to bytes: the same JSON the `Content` encoding gives (keys in declaration order,
    /// nil fields left out), several times faster on batches of a thousand.
    static func json(_ r: Response) throws -> ByteBuffer {
        var w = JSONBytes()
        w.raw("{\"radius\":")
        w.int(r.radius)
        w.raw(",\"results\":[")
        for (i, result) in r.results.enumerated() {
            if i > 0 { w.raw(",") }
            w.field("{\"algorithm\":", result.algorithm)
            w.field(",\"value\":", result.value)
            w.raw(result.matched ? ",\"matched\":true,\"matches\":[" : ",\"matched\":false,\"matches\":[")
            for (k, m) in result.matches.enumerated() {
                if k > 0 { w.raw(",") }
                w.field("{\"item\":", m.item)
                w.raw(",\"distance\":")
                w.int(m.distance)
                w.field(",\"matched\":{\"algorithm\":", m.matched.algorithm)
                w.field(",\"value\":", m.matched.value)
                w.field("},\"bank\":", m.bank)
                w.optional("category", m.category)
                w.field(",\"review\":", m.review)
                w.raw(",\"version\":")
                w.int(m.version)
                w.raw(",\"provenance\":{")
                var first = true
                for (key, value) in [
                    ("contributor", m.provenance.contributor), ("firstSeen", m.provenance.firstSeen),
                    ("case", m.provenance.case),
                ] {
                    guard let value else { continue }
                    if !first { w.raw(",") }
                    first = false
                    w.string(key)
                    w.field(":", value)
                }
                w.raw("},\"categories\":[")
                for (c, category) in m.categories.enumerated() {
                    if c > 0 { w.raw(",") }
                    w.field("{\"scheme\":", category.scheme)
                    w.field(",\"code\":", category.code)
                    w.optional("national", category.national)
                    w.optional("source", category.source)
                    w.raw("}")
                }
                w.raw(m.baseline ? "],\"baseline\":true" : "],\"baseline\":false")
                w.raw(m.knownBenign ? ",\"knownBenign\":true" : ",\"knownBenign\":false")
                w.optional("series", m.series)
                w.raw("}")
            }
            w.raw("]")
            w.optional("error", result.error)
            w.raw("}")
        }
        w.raw("]")
        if let videos = r.videos {
            w.raw(",\"videos\":")
            w.bytes.append(contentsOf: try JSONEncoder().encode(videos))
        }
        w.raw("}")
        return ByteBuffer(bytes: w.bytes)
    }

    static func match(_ req: Request) async throws -> Vapor.Response {
        let answer = try await matchAnswer(req)
        var headers = HTTPHeaders()
        headers.contentType = .json
        return Vapor.Response(status: .ok, headers: headers, body: .init(buffer: try json(answer)))
    }

    static func matchAnswer(_ req: Request) async throws -> Response {
        try await req.vigil.rateLimit(req)
        let q = try query(req)
        let hashes = q.hashes ?? []
        guard !hashes.isEmpty || !(q.videos ?? []).isEmpty else {
            throw Abort(.badRequest, reason: "The field 'hashes' must hold at least one hash (or 'videos' one video).")
        }
        guard hashes.count <= maxHashes else {
            throw Abort(.badRequest, reason: "The field 'hashes' may hold at most \(maxHashes) hashes per request.")
        }
        let radius = q.radius ?? 31
        guard (0...63).contains(radius) else {
            throw Abort(.badRequest, reason: "The field 'radius' must be between 0 and 63.")
        }
        var parsed: [HashDigest?] = []
        var errors: [String?] = []
        for h in hashes {
            if let a = HashAlgorithm(rawValue: h.algorithm.lowercased()) {
                do {
                    parsed.append(try HashDigest(a, h.value))
                    errors.append(nil)
                } catch {
                    parsed.append(nil)
                    errors.append(error.description)
                }
            } else {
                parsed.append(nil)
                errors.append("unknown algorithm '\(h.algorithm)'; use md5, sha1, sha256, pdq or photodna")
            }
        }
        let includes = Set((q.include ?? []) + (req.query[String.self, at: "include"].map { [$0] } ?? []))
        guard includes.isSubset(of: ["pending"]) else {
            throw Abort(.badRequest, reason: "The field 'include' may only hold \"pending\".")
        }
        let valid = parsed.compactMap { $0 }
        let matcher = try await req.application.matchService.matcher(req.application)
        // Videos first: their options are checked before any work on the hashes.
        let videoAnswer = try await matchVideos(
            q, radius: radius, includePending: includes.contains("pending"), matcher)
        let videoResults = videoAnswer?.results
        let videosSuppressed = videoAnswer?.suppressed ?? []
        // A large batch is spread over the cores: a platform waiting on one request gets its answer sooner. (Giving
        // concurrent batches only the cores others leave free measured no faster at 1M: 13,000-13,500 queries/s
        // against 13,200-14,900 with every batch on every core.)
        let answer = try await matcher.answer(
            valid, radius: radius, includePending: includes.contains("pending"),
            jobs: valid.count >= 64 ? ProcessInfo.processInfo.activeProcessorCount : 1)
        let hits = answer.hits
        var k = 0
        var results: [ResultDTO] = []
        var matchedCount = 0
        for (i, h) in hashes.enumerated() {
            if let d = parsed[i] {
                let m = hits[k].map(dto)
                k += 1
                if !m.isEmpty { matchedCount += 1 }
                results.append(
                    ResultDTO(
                        algorithm: d.algorithm.rawValue, value: d.value, matched: !m.isEmpty, matches: m, error: nil))
            } else {
                results.append(
                    ResultDTO(algorithm: h.algorithm, value: h.value, matched: false, matches: [], error: errors[i]))
            }
        }
        let actor = req.auditActor
        let now = try req.vigil.clock.now()
        let total = hashes.count
        let mc = matchedCount
        // Why near queries got no match stays with staff: the audit names the negative banks, never to the caller.
        var details = ["hashes": String(total), "matched": String(mc), "radius": String(radius)]
        if !answer.suppressed.isEmpty {
            details["suppressed"] = String(answer.suppressed.count)
            details["suppressed_by"] = Set(answer.suppressed.values.map { "\($0.bank):item-\($0.item)" }).sorted()
                .prefix(20).joined(separator: ",")
        }
        if includes.contains("pending") { details["include"] = "pending" }
        if let videoResults {
            details["videos"] = String(videoResults.count)
            details["videos_matched"] = String(videoResults.filter(\.matched).count)
            if !videosSuppressed.isEmpty {
                details["videos_suppressed"] = String(videosSuppressed.count)
                details["videos_suppressed_by"] = Set(videosSuppressed.map { "\($0.bank):item-\($0.item)" }).sorted()
                    .prefix(20).joined(separator: ",")
            }
        }
        let audited = details
        try await req.db.transaction { tx in
            try await AuditLog.append(
                on: tx, at: now, actor: actor, action: "match.query", subject: "hashset", details: audited)
        }
        return Response(radius: radius, results: results, videos: videoResults)
    }

    /// The videos of a match request, each answered on its own: a video whose frames cannot be read gets its error
    /// and the others their answers. Videos a negative bank explained answer "no match"; why is returned for the
    /// audit, never to the caller.
    static func matchVideos(_ q: Query, radius: Int, includePending: Bool, _ matcher: HashSetMatcher) async throws
        -> (results: [VideoResultDTO], suppressed: [HashSetMatcher.VideoSuppression])?
    {
        // Frames are compared within at most vPDQ's 31 bits, and only frames of PDQ's useful quality (50 and up):
        // wider, a handful of near-black frames would pair with every frame of the set and tell a caller about
        // videos that do not match.
        let rule = VideoMatchRule(
            radius: min(radius, 31), minimumQuality: q.video?.minQuality ?? 50, queryShare: q.video?.queryShare ?? 80,
            targetShare: q.video?.videoShare ?? 0)
        guard (50...100).contains(rule.minimumQuality), (0...100).contains(rule.queryShare),
            (0...100).contains(rule.targetShare)
        else {
            throw Abort(
                .badRequest,
                reason:
                    "The fields of 'video' must be within their ranges: queryShare and videoShare 0 to 100, minQuality 50 to 100."
            )
        }
        guard let videos = q.videos, !videos.isEmpty else { return nil }
        guard videos.count <= maxVideos else {
            throw Abort(.badRequest, reason: "The field 'videos' may hold at most \(maxVideos) videos per request.")
        }
        var out: [VideoResultDTO] = []
        var suppressed: [HashSetMatcher.VideoSuppression] = []
        for v in videos {
            func failed(_ error: String) -> VideoResultDTO {
                VideoResultDTO(label: v.label, frames: v.vpdq.count, matched: false, matches: [], error: error)
            }
            guard v.vpdq.count <= maxVideoFrames else {
                out.append(failed("more than \(maxVideoFrames) frames; hash at a longer interval"))
                continue
            }
            let frames: [VideoFrame]
            do { frames = try VPDQLines.frames(v.vpdq) } catch {
                out.append(failed("vpdq \(error.description)"))
                continue
            }
            guard !frames.isEmpty else {
                out.append(failed("no vPDQ frames"))
                continue
            }
            let answer = try await matcher.answerVideo(frames, rule: rule, includePending: includePending)
            let hits = answer.hits
            if let s = answer.suppressed { suppressed.append(s) }
            out.append(
                VideoResultDTO(
                    label: v.label, frames: frames.count, matched: !hits.isEmpty, matches: hits.map(videoDTO),
                    error: nil))
        }
        return (out, suppressed)
    }

    static func videoDTO(_ hit: HashSetMatcher.VideoHit) -> VideoMatchDTO {
        let c = hit.comparison
        return VideoMatchDTO(
            item: "item-\(hit.item)", bank: hit.bank, category: hit.category, review: hit.review.rawValue,
            version: hit.version,
            provenance: .init(
                contributor: hit.record.provenance.contributor, firstSeen: hit.firstSeen.map { $0.formatted(.iso8601) },
                case: nil),
            categories: hit.record.categories.map {
                .init(scheme: $0.scheme.rawValue, code: $0.code, national: $0.nationalCategory, source: $0.source)
            },
            baseline: hit.record.baseline ?? false, knownBenign: hit.record.knownBenign, series: hit.record.seriesName,
            queryShare: c.queryShare, videoShare: c.targetShare, queryFrames: c.queryFrames,
            matchedQueryFrames: c.matchedQueryFrames, videoFrames: c.targetFrames,
            matchedVideoFrames: c.matchedTargetFrames,
            ranges: hit.ranges.map {
                RangeDTO(
                    queryStart: $0.queryStart, queryEnd: $0.queryEnd, videoStart: $0.targetStart,
                    videoEnd: $0.targetEnd,
                    frames: $0.frames)
            })
    }

    static func lookup(_ req: Request) async throws -> Vapor.Response {
        try await req.vigil.rateLimit(req)
        let alg = try req.parameters.require("algorithm").lowercased()
        let value = try req.parameters.require("value")
        guard let a = HashAlgorithm(rawValue: alg) else {
            throw Abort(.badRequest, reason: "Unknown algorithm '\(alg)'; use md5, sha1, sha256, pdq or photodna.")
        }
        let digest: HashDigest
        do { digest = try HashDigest(a, value) } catch {
            throw Abort(
                .badRequest, reason: sentence(error.description))
        }
        let radius = a == .pdq ? (req.query[Int.self, at: "radius"] ?? 31) : 0
        guard (0...63).contains(radius) else {
            throw Abort(.badRequest, reason: "The parameter 'radius' must be between 0 and 63.")
        }
        let matcher = try await req.application.matchService.matcher(req.application)
        let hits = try await matcher.match([digest], radius: radius)[0]
        let actor = req.auditActor
        let now = try req.vigil.clock.now()
        try await req.db.transaction { tx in
            try await AuditLog.append(
                on: tx, at: now, actor: actor, action: "match.lookup", subject: "hashset",
                details: ["hashes": "1", "matched": hits.isEmpty ? "0" : "1"])
        }
        guard !hits.isEmpty else { throw Abort(.notFound, reason: "This hash is not in the national hash set.") }
        let res = Vapor.Response(status: .ok)
        try res.content.encode(
            ResultDTO(
                algorithm: digest.algorithm.rawValue, value: digest.value, matched: true, matches: hits.map(dto),
                error: nil))
        return res
    }
}

extension MatchController {
    struct Feedback: Content {
        /// The `item` of a match answer.
        let item: String
        /// `confirm` (the match was right) or `dispute` (it was not).
        let verdict: String
    }

    struct FeedbackAnswer: Content {
        let item: String
        let verdict: String
        /// The record's review state after the feedback (`pending` when disputes sent it back to review).
        let review: String
        let version: Int64
    }

    /// A partner confirms or disputes a match. One vote per partner per record; disputes at
    /// `hash_dispute_threshold` put the record back into review (it stops matching as known).
    static func feedback(_ req: Request) async throws -> FeedbackAnswer {
        try await req.vigil.rateLimit(req)
        let f = try req.content.decode(Feedback.self)
        guard f.item.hasPrefix("item-"), let id = Int64(f.item.dropFirst(5)), id >= 0 else {
            throw Abort(.badRequest, reason: "The field 'item' must be an item reference from a match answer (item-N).")
        }
        guard case .partner(_, let partner, _) = req.caller else { throw Abort(.forbidden) }
        let event: HashReviewEvent
        switch f.verdict {
        case "confirm": event = .agree(partner: partner)
        case "dispute":
            let c = try req.vigil.configuration
            event = .dispute(
                partner: partner, threshold: c.hashDisputeThreshold, reviewsRequired: c.hashReviewsRequired)
        default: throw Abort(.badRequest, reason: "The field 'verdict' must be \"confirm\" or \"dispute\".")
        }
        let store = HashSetStore(db: req.db, clock: try req.vigil.clock)
        let (item, _) = try await store.review(item: id, event, actor: req.auditActor)
        return FeedbackAnswer(
            item: f.item, verdict: f.verdict, review: item.review.state.rawValue, version: item.version)
    }
}

/// Holds the server's matcher. `vigil serve` builds it at start-up in its service group (``MatchIndexService``),
/// from the snapshot in the data directory when it is current, else from the database; a lookup that arrives before
/// it is ready waits for that build. Without the service (tests, tools) the first lookup builds it, once, shared
/// by concurrent callers. No background task: every build runs in the task that asked for it.
final class MatchService: @unchecked Sendable {
    private let lock = NSLock()
    private var current: HashSetMatcher?
    private var building = false
    private var waiters: [CheckedContinuation<HashSetMatcher, any Error>] = []

    /// The matcher, building it when there is none yet (one build, however many callers wait for it).
    func matcher(_ app: Application) async throws -> HashSetMatcher {
        enum Step { case ready(HashSetMatcher), wait, build }
        let step = lock.withLock { () -> Step in
            if let current { return .ready(current) }
            if building { return .wait }
            building = true
            return .build
        }
        switch step {
        case .ready(let m): return m
        case .wait:
            return try await withCheckedThrowingContinuation { c in
                let now = lock.withLock { () -> HashSetMatcher? in
                    if current == nil { waiters.append(c) }
                    return current
                }
                if let now { c.resume(returning: now) }
            }
        case .build:
            return try await build(app)
        }
    }

    private func build(_ app: Application) async throws -> HashSetMatcher {
        let started = ContinuousClock.now
        do {
            let m = try await HashSetMatcher(
                store: HashSetStore(db: app.db, clock: app.vigil.clock),
                snapshotPath: Self.snapshotPath(app.vigil.configuration), jobs: System.coreCount)
            app.logger.notice(
                "match index ready: \(m.indexedPDQCount) PDQ hashes from the \(m.indexSource) in \(ContinuousClock.now - started)"
            )
            let waiting = lock.withLock {
                current = m
                building = false
                defer { waiters = [] }
                return waiters
            }
            for w in waiting { w.resume(returning: m) }
            return m
        } catch {
            app.logger.error("match index: could not be built: \(String(describing: error).prefix(200))")
            // A failed build is not kept: the next lookup tries again.
            let waiting = lock.withLock {
                building = false
                defer { waiters = [] }
                return waiters
            }
            for w in waiting { w.resume(throwing: error) }
            throw error
        }
    }

    /// Adds what was added to the set since the last call to the live index (a delta; lookups go on meanwhile).
    /// Every `verifyEvery` calls it also compares the PDQ count, which costs a full count at millions of records.
    func refreshIfChanged(_ app: Application) async {
        guard let m = lock.withLock({ current }) else { return }
        let verify = lock.withLock { () -> Bool in
            refreshes += 1
            return refreshes % Self.verifyEvery == 0
        }
        do {
            let outcome = try await m.refresh(verify: verify)
            if outcome != .current { app.logger.info("match index: \(outcome)") }
        } catch {
            app.logger.warning("match index: refresh failed: \(String(describing: error).prefix(200))")
        }
    }

    private var refreshes = 0
    static let verifyEvery = 150

    static func snapshotPath(_ configuration: VigilConfiguration) -> String {
        (configuration.dataDirectory as NSString).appendingPathComponent(HashSetMatcher.snapshotFileName)
    }
}

/// Builds the matcher when `vigil serve` starts, then keeps it current: every few seconds it rebuilds the index if
/// the set changed. Cancelled with the rest of the server's service group.
struct MatchIndexService: Service {
    let app: Application

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            _ = try? await app.matchService.matcher(app)
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(2))
                if Task.isCancelled { return }
                await app.matchService.refreshIfChanged(app)
            }
        }
    }
}

struct MatchServiceKey: StorageKey { typealias Value = MatchService }

extension Application {
    var matchService: MatchService {
        if let s = storage[MatchServiceKey.self] { return s }
        let s = MatchService()
        storage[MatchServiceKey.self] = s
        return s
    }
}

/// Per-key request budget, in memory.
actor KeyRateLimiter {
    private let perMinute: Int
    private let window: Double
    private var buckets: [String: (tokens: Double, at: Date)] = [:]

    /// `perMinute` requests per `windowSeconds` (a minute unless told otherwise), refilled continuously.
    init(perMinute: Int, windowSeconds: Double = 60) {
        self.perMinute = perMinute
        self.window = windowSeconds
    }

    func allow(_ key: String, now: Date) -> Bool {
        if buckets.count > 200_000 { buckets.removeAll() }  // bound memory under a flood
        var b = buckets[key] ?? (Double(perMinute), now)
        b.tokens = min(Double(perMinute), b.tokens + now.timeIntervalSince(b.at) * Double(perMinute) / window)
        b.at = now
        guard b.tokens >= 1 else {
            buckets[key] = b
            return false
        }
        b.tokens -= 1
        buckets[key] = b
        return true
    }
}

extension VigilServices {
    /// Refuses a partner over its budget with 429.
    func rateLimit(_ req: Request) async throws {
        guard case .partner(let id, _, _) = req.caller else { return }
        guard await keyLimiter.allow(id, now: clock.now()) else {
            throw Abort(
                .tooManyRequests, headers: ["Retry-After": "10"],
                reason: "Too many requests for this API key; slow down.")
        }
    }
}

/// A JSON text built byte by byte (strings escaped as RFC 8259 requires, by `TextFields`).
struct JSONBytes {
    var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(64 * 1024) }

    mutating func raw(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func int<T: BinaryInteger>(_ v: T) { bytes.append(contentsOf: String(v).utf8) }

    mutating func string(_ s: String) { TextFields.appendJSONString(s, to: &bytes) }

    /// `prefix` as it is, then `value` as a JSON string.
    mutating func field(_ prefix: StaticString, _ value: String) {
        raw(prefix)
        string(value)
    }

    /// `,"key":"value"`, or nothing for nil (as `Codable` leaves nil fields out).
    mutating func optional(_ key: StaticString, _ value: String?) {
        guard let value else { return }
        bytes.append(contentsOf: [0x2C, 0x22])
        key.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: [0x22, 0x3A])
        string(value)
    }
}
