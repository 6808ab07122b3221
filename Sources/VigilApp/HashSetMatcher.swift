import Foundation
import VigilCore
import VigilMatch
import VigilStore

/// Answers "seen before?" for digests: exact digests by lookup, PDQ hashes within a Hamming radius through
/// `VigilMatch`'s index. Works on the national set in the database (the server, `vigil match`) or on hash-list
/// files with no database at all (`vigil match --against`).
public final class HashSetMatcher: @unchecked Sendable {
    /// One known item a query matched.
    public struct Hit: Sendable {
        public let item: Int64
        public let record: HashSetRecord
        /// 0 for exact digests.
        public let distance: Int
        /// The known digest that matched (a PDQ near match differs from the query).
        public let matched: HashDigest
        /// The bank the record belongs to (`file` for hash-list files).
        public let bank: String
        /// Where the record stands in review, and the category reviewers agreed.
        public let review: HashReviewState
        public let category: String?
        /// The record's version (grows with every change to it).
        public let version: Int64
        /// When the record entered the set (nil for hash-list files).
        public let firstSeen: Date?
    }

    /// Why a query was answered "no match" although it is near a record: a negative bank's hash is within that
    /// bank's radius (for staff; the caller only sees no match).
    public struct Suppression: Sendable, Equatable {
        public let bank: String
        public let item: Int64
        public let distance: Int

        public init(bank: String, item: Int64, distance: Int) {
            self.bank = bank
            self.item = item
            self.distance = distance
        }
    }

    /// The answer to a batch: each query's hits, and the queries a negative bank suppressed.
    public struct Answer: Sendable {
        public var hits: [[Hit]]
        public var suppressed: [Int: Suppression]
    }

    let lock = NSLock()
    private var index = HammingIndex()
    private var owners: [Int64] = []
    private var exact: [HashDigest: Int64] = [:]
    /// The records of hash-list files; item `i` is `fileRecords[i - 1]`.
    private(set) var fileRecords: [HashSetRecord] = []
    let store: HashSetStore?
    /// PDQ digests indexed, for deciding when to rebuild from the database; guarded by `lock`.
    private var pdqCount = 0
    /// PDQ digests indexed.
    public var indexedPDQCount: Int { lock.withLock { pdqCount } }
    /// The newest item whose digests the index holds (deltas add the items after it).
    private var checkedItem: Int64 = 0
    /// Video records by their frames (item ids as video ids), and the newest video row it holds; guarded by `lock`
    /// (the frame index itself is safe to search while it grows).
    var videoIndex = FrameIndex()
    var checkedVideoRow: Int64 = 0
    /// Where the frame index came from (guarded by `lock`).
    var videoSource: IndexSource = .memory
    /// Where the frame index came from when the matcher was made (a snapshot saves reading every frame line).
    public var videoIndexSource: IndexSource { lock.withLock { videoSource } }

    /// A matcher over records held in memory (hash-list files). The PDQ index is built in one piece with `jobs`
    /// threads (one segment: the fastest layout to search).
    public init(records list: [HashSetRecord], jobs: Int = 1) {
        store = nil
        snapshotPath = nil
        self.jobs = max(1, jobs)
        fileRecords = list
        var hashes: [Hash256] = []
        hashes.reserveCapacity(list.count)
        owners.reserveCapacity(list.count)
        for (i, r) in list.enumerated() {
            let id = Int64(i + 1)
            for d in r.digests {
                if d.algorithm == .pdq, let h = Hash256(hex: d.value) {
                    hashes.append(h)
                    owners.append(id)
                } else {
                    exact[d] = id
                }
            }
        }
        index = HammingIndex(hashes, jobs: self.jobs)
        pdqCount = owners.count
        // Video records (a VICS file's vPDQ) go to the frame index; a damaged frame list is left out.
        let videos = list.enumerated().compactMap { i, r -> (id: Int64, frames: [VideoFrame])? in
            guard let v = r.video, let frames = try? VPDQLines.frames(v.frames), !frames.isEmpty else { return nil }
            return (Int64(i + 1), frames)
        }
        if !videos.isEmpty {
            _ = Self.add(videos, to: videoIndex)
            // Indexed: the records need not hold the frame lines a second time.
            for (id, _) in videos { fileRecords[Int(id - 1)].video = nil }
        }
    }

    /// Where the PDQ index came from when the matcher was made.
    public enum IndexSource: Sendable, Equatable {
        /// Built from hashes held in memory (hash-list files).
        case memory
        /// Read from the database.
        case database
        /// Loaded from a snapshot file that was current.
        case snapshot
    }

    /// The snapshot's file name in the data directory (`vigil serve` and `vigil match` share it).
    public static let snapshotFileName = "match-index.snapshot"

    /// Where the current PDQ index came from (guarded by `lock`).
    private var pdqSource: IndexSource = .memory
    /// Where the current PDQ index came from.
    public var indexSource: IndexSource { lock.withLock { pdqSource } }
    private let snapshotPath: String?
    private let jobs: Int

    /// A matcher over the national set in the database. The PDQ index is loaded now: from the snapshot at
    /// `snapshotPath` when its header matches the set's current ``HashSetStore/Fingerprint``, else from the
    /// database, after which the snapshot is rewritten (a snapshot that cannot be written is not an error: the
    /// next start reads the database again).
    /// - Parameters:
    ///   - store: The national set.
    ///   - snapshotPath: The snapshot file (`match-index.snapshot` in the data directory), or `nil` for none.
    ///   - jobs: Threads for building the index from the database.
    public init(store: HashSetStore, snapshotPath: String? = nil, jobs: Int = 1) async throws {
        self.store = store
        self.snapshotPath = snapshotPath
        self.jobs = max(1, jobs)
        if let snapshotPath {
            let fingerprint = try await store.fingerprint()
            if let (index, owners) = try? MatchIndexSnapshot.load(from: snapshotPath, expecting: fingerprint) {
                self.index = index
                self.owners = owners
                self.pdqCount = owners.count
                self.checkedItem = fingerprint.maxItemID
                self.pdqSource = .snapshot
                if let (videos, row) = try? await VideoIndexSnapshot.load(from: snapshotPath, store: store) {
                    videoIndex = videos
                    checkedVideoRow = row
                    videoSource = .snapshot
                }
                try await refreshVideos()
                videoIndex.compact(jobs: self.jobs)
                if videoSource != .snapshot {
                    videoSource = .database
                    try? await VideoIndexSnapshot.save(
                        videoIndex, lastRow: checkedVideoRow, store: store, to: snapshotPath)
                }
                return
            }
        }
        try await rebuild()
    }

    /// Reloads the PDQ index from the database and swaps it in; lookups carry on meanwhile. With a snapshot
    /// path, the snapshot is rewritten afterwards.
    public func rebuild() async throws {
        guard let store else { return }
        let fingerprint = try await store.fingerprint()
        let newest = try await store.newestItemID()
        var hashes: [Hash256] = []
        var freshOwners: [Int64] = []
        hashes.reserveCapacity(Int(fingerprint.pdqDigests))
        freshOwners.reserveCapacity(Int(fingerprint.pdqDigests))
        try await store.forEachPDQ { hex, item in
            // Items committed while reading are left to the next delta, which adds everything after `newest`.
            if item <= newest, let h = Hash256(hex: hex) {
                hashes.append(h)
                freshOwners.append(item)
            }
        }
        let fresh = HammingIndex(hashes, jobs: jobs)
        // The videos are read into a new frame index before it replaces the old one: queries meanwhile keep
        // their answers.
        // Frames never change once stored: a frame index snapshot that still fits the database's rows stands, and
        // only the videos stored after it are read (images change the PDQ fingerprint far more often).
        var freshVideos = FrameIndex()
        var after: Int64 = 0
        var videoSource = IndexSource.database
        if let snapshotPath, let (saved, row) = try? await VideoIndexSnapshot.load(from: snapshotPath, store: store) {
            (freshVideos, after, videoSource) = (saved, row, .snapshot)
        }
        let (addedVideos, lastVideo) = try await loadVideos(into: freshVideos, after: after)
        freshVideos.compact(jobs: jobs)
        if let snapshotPath, videoSource == .database || addedVideos > 0 {
            try? await VideoIndexSnapshot.save(freshVideos, lastRow: lastVideo, store: store, to: snapshotPath)
        }
        lock.withLock {
            index = fresh
            owners = freshOwners
            pdqCount = freshOwners.count
            checkedItem = newest
            pdqSource = .database
            videoIndex = freshVideos
            checkedVideoRow = lastVideo
            self.videoSource = videoSource
        }
        if let snapshotPath {
            // Recorded with the fingerprint taken before reading: rows added while reading make it stale, not wrong.
            try? MatchIndexSnapshot.save(fresh, owners: freshOwners, fingerprint: fingerprint, to: snapshotPath)
        }
    }

    /// How ``refresh()`` brought the index up to date.
    public enum Refresh: Sendable, Equatable {
        /// Nothing had changed.
        case current
        /// `added` new PDQ digests and video records were inserted into the live indexes.
        case delta(added: Int)
        /// A change a delta cannot express (a PDQ digest added to an older item): the index was read again.
        case rebuilt
    }

    /// Brings the live index up to date with the database, by delta: the PDQ digests of items newer than the index
    /// are inserted while lookups go on. Review and bank changes need nothing here: they are read at every query.
    ///
    /// Cheap enough to run every second or two at millions of records: one lookup of the newest item id, and the
    /// new items' digests by index. With `verify`, the PDQ count is compared too (a full count), and a difference a
    /// delta cannot explain (a PDQ digest merged into an older item) makes it read the index again.
    @discardableResult
    public func refresh(verify: Bool = false) async throws -> Refresh {
        guard let store else { return .current }
        let newest = try await store.newestItemID()
        let seen = lock.withLock { checkedItem }
        var added = 0
        if newest > seen {
            var fresh: [(Hash256, Int64)] = []
            try await store.forEachPDQ(afterItem: seen) { hex, item in
                if item <= newest, let h = Hash256(hex: hex) { fresh.append((h, item)) }
            }
            lock.withLock {
                for (h, item) in fresh {
                    index.insert(h)
                    owners.append(item)
                }
                pdqCount = owners.count
                checkedItem = max(checkedItem, newest)
            }
            added = fresh.count
        }
        added += try await refreshVideos()
        if verify, try await store.fingerprint().pdqDigests != Int64(lock.withLock({ pdqCount })) {
            try await rebuild()
            return .rebuilt
        }
        return added > 0 ? .delta(added: added) : .current
    }

    /// All known items matching each query: exact digests exactly, PDQ within `radius` (0…63), nearest first.
    /// Known-benign items are returned too (flagged in their record) so callers can set them aside.
    public func match(_ queries: [HashDigest], radius: Int = 31, includePending: Bool = false, jobs: Int = 1)
        async throws -> [[Hit]]
    {
        try await answer(queries, radius: radius, includePending: includePending, jobs: jobs).hits
    }

    /// Matches each query through the banks: a hit counts when its bank is an enabled `match` bank that samples
    /// the query, within the smaller of `radius` and the bank's own radius, and its record is confirmed (or pending,
    /// with `includePending`). A query within an enabled negative bank's radius of one of its hashes gets no hits,
    /// and the reason is in ``Answer/suppressed``. Banks are read on every call, so a bank switched off or a record
    /// moved to `false-positive` changes the next answer.
    public func answer(_ queries: [HashDigest], radius: Int = 31, includePending: Bool = false, jobs: Int = 1)
        async throws -> Answer
    {
        let r = max(0, min(63, radius))
        let (banks, negativeRadius) = try await currentBanks()
        let searchRadius = max(r, negativeRadius)
        let (idx, own) = lock.withLock { (index, owners) }
        // Candidates per query: (item, distance, matched digest).
        var candidates = [[(Int64, Int, HashDigest)]](repeating: [], count: queries.count)
        var itemIDs: Set<Int64> = []
        // PDQ through the index, batched across cores.
        let pdqPositions = queries.indices.filter { queries[$0].algorithm == .pdq }
        let pdqHashes = pdqPositions.compactMap { Hash256(hex: queries[$0].value) }
        if pdqHashes.count == pdqPositions.count, !pdqHashes.isEmpty {
            let found = idx.searchBatch(pdqHashes, radius: searchRadius, jobs: max(1, jobs))
            for (k, matches) in found.enumerated() {
                for m in matches where Int(m.id) < own.count {
                    let item = own[Int(m.id)]
                    itemIDs.insert(item)
                    candidates[pdqPositions[k]].append((item, m.distance, HashDigest(pdqHex: idx.hash(at: m.id).hex)))
                }
            }
        }
        // Exact digests, and the items of every candidate.
        var items: [Int64: HashSetItem] = [:]
        if let store {
            let exactQueries = queries.filter { $0.algorithm != .pdq }
            let found = try await store.items(forExact: exactQueries)
            for (i, q) in queries.enumerated() where q.algorithm != .pdq {
                if let item = found[q] {
                    items[item.id] = item
                    candidates[i].append((item.id, 0, q))
                }
            }
            for (id, item) in try await store.items(ids: Array(itemIDs.subtracting(items.keys))) { items[id] = item }
        } else {
            for (i, q) in queries.enumerated() where q.algorithm != .pdq {
                if let id = exact[q] { candidates[i].append((id, 0, q)) }
            }
            for c in candidates.joined() where items[c.0] == nil && c.0 >= 1 && c.0 <= fileRecords.count {
                items[c.0] = Self.fileItem(c.0, fileRecords[Int(c.0 - 1)])
            }
        }
        var answer = Answer(hits: [[Hit]](repeating: [], count: queries.count), suppressed: [:])
        for (i, list) in candidates.enumerated() where !list.isEmpty {
            var hits: [Hit] = []
            var suppression: Suppression?
            var seen: Set<Int64> = []
            // Nearest first, so an item with several near digests counts once, at its smallest distance.
            for (id, distance, digest) in list.sorted(by: { ($0.1, $0.0) < ($1.1, $1.0) })
            where seen.insert(id).inserted {
                guard let item = items[id], let bank = banks[item.bank], bank.enabled else { continue }
                switch bank.kind {
                case .negative:
                    if distance <= bank.pdqRadius, distance < (suppression?.distance ?? Int.max) {
                        suppression = Suppression(bank: bank.name, item: id, distance: distance)
                    }
                case .match:
                    guard distance <= min(r, bank.pdqRadius),
                        bank.sampling >= 1 || bank.samples(Self.samplingKey(queries[i])),
                        item.review.matches(includePending: includePending)
                    else { continue }
                    hits.append(
                        Hit(
                            item: id, record: item.record, distance: distance, matched: digest, bank: bank.name,
                            review: item.review.state, category: item.review.category, version: item.version,
                            firstSeen: store == nil ? nil : item.firstSeen))
                }
            }
            // A false positive suppresses only when the query is at least as close to it as to every match: a query
            // equal to a known record is never hidden by a benign picture that happens to sit near that record.
            if let suppression, suppression.distance <= (hits.map(\.distance).min() ?? Int.max) {
                answer.suppressed[i] = suppression
            } else {
                answer.hits[i] = hits.sorted { ($0.distance, $0.item) < ($1.distance, $1.item) }
            }
        }
        return answer
    }

    private var bankCache: (at: ContinuousClock.Instant, banks: [String: HashBank], negativeRadius: Int)?
    /// How long the banks read from the database serve queries before they are read again (1 s by default).
    public var bankCacheLifetime: Duration {
        get { lock.withLock { bankLifetime } }
        set { lock.withLock { bankLifetime = newValue } }
    }
    private var bankLifetime = Duration.seconds(1)

    /// The banks by name, and how far a query must search for negative banks' hashes: their largest radius, or 0
    /// when no enabled negative bank holds a record (then a query searches only its own radius). Read at most once a
    /// second, so a bank switched off changes answers within a second and a busy server does not ask per query.
    func currentBanks() async throws -> ([String: HashBank], Int) {
        guard let store else { return ([Self.fileBank.name: Self.fileBank], 0) }
        let now = ContinuousClock.now
        if let (cached, lifetime) = lock.withLock({ bankCache.map { ($0, bankLifetime) } }), now - cached.at < lifetime
        {
            return (cached.banks, cached.negativeRadius)
        }
        let banks = Dictionary(uniqueKeysWithValues: try await store.banks().map { ($0.name, $0) })
        let negative = banks.values.filter { $0.enabled && $0.kind == .negative }
        let radius =
            try await store.anyRecords(inBanks: negative.map(\.name)) ? negative.map(\.pdqRadius).max() ?? 0 : 0
        lock.withLock { bankCache = (now, banks, radius) }
        return (banks, radius)
    }

    /// Hash-list files have no banks: their records are one enabled, confirmed `file` bank.
    static let fileBank = HashBank(name: "file", label: "Hash list file", pdqRadius: 63)

    static func fileItem(_ id: Int64, _ record: HashSetRecord) -> HashSetItem {
        HashSetItem(
            id: id, record: record, bank: fileBank.name,
            review: .confirmed(category: nil, by: nil, at: Date(timeIntervalSince1970: 0)),
            version: 1, firstSeen: Date(timeIntervalSince1970: 0))
    }

    /// A stable 64-bit key of a query (FNV-1a of its algorithm and value), for banks that sample.
    static func samplingKey(_ q: HashDigest) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in q.algorithm.rawValue.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        h = (h ^ 0x3A) &* 0x0000_0100_0000_01b3
        for b in q.value.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return h
    }
}

extension HashDigest {
    /// A PDQ digest from hex the index produced (always valid).
    init(pdqHex: String) {
        self = (try? HashDigest(.pdq, pdqHex)) ?? (try! HashDigest(.pdq, String(repeating: "0", count: 64)))
    }
}

/// The server's match index on disk: `HammingIndex`'s own snapshot file at `path`, and beside it, at
/// `path + ".items"`, a 64-byte header and the item id of every indexed hash (Int64, little-endian, in index
/// order). The header records the set's ``HashSetStore/Fingerprint`` when the index was read, the number of
/// hashes and a checksum of them, so a snapshot is used only while it is current and only with its own index.
///
///     magic "VIGILMIO", version UInt32, 0 UInt32, pdq digests, items, max item id, max updated_at,
///     hash count, hash checksum (each 8 bytes)
enum MatchIndexSnapshot {
    static let magic: [UInt8] = Array("VIGILMIO".utf8)
    static let version: UInt32 = 1

    enum Failure: Error {
        case unreadable
        case stale
        case inconsistent
    }

    /// Writes the index, then the item ids and header (each through a temporary file and a rename).
    static func save(_ index: HammingIndex, owners: [Int64], fingerprint: HashSetStore.Fingerprint, to path: String)
        throws
    {
        try index.save(to: path)
        var data = Data(capacity: 64 + owners.count * 8)
        data.append(contentsOf: magic)
        append(UInt32(version), to: &data)
        append(UInt32(0), to: &data)
        for v in [fingerprint.pdqDigests, fingerprint.items, fingerprint.maxItemID, fingerprint.maxUpdatedAt] {
            append(UInt64(bitPattern: v), to: &data)
        }
        append(UInt64(owners.count), to: &data)
        append(checksum(index), to: &data)
        owners.withUnsafeBufferPointer { buffer in
            for v in buffer { append(UInt64(bitPattern: v), to: &data) }
        }
        try data.write(to: URL(fileURLWithPath: path + ".items"), options: .atomic)
    }

    /// Loads the snapshot when its header matches `fingerprint` and its index; throws otherwise.
    static func load(from path: String, expecting fingerprint: HashSetStore.Fingerprint) throws -> (
        HammingIndex, [Int64]
    ) {
        guard let data = FileManager.default.contents(atPath: path + ".items"), data.count >= 64 else {
            throw Failure.unreadable
        }
        return try data.withUnsafeBytes { raw -> (HammingIndex, [Int64]) in
            func u64(_ at: Int) -> UInt64 {
                UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self))
            }
            guard Array(raw[0..<8]) == magic,
                UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self)) == version
            else { throw Failure.unreadable }
            let recorded = HashSetStore.Fingerprint(
                pdqDigests: Int64(bitPattern: u64(16)), items: Int64(bitPattern: u64(24)),
                maxItemID: Int64(bitPattern: u64(32)), maxUpdatedAt: Int64(bitPattern: u64(40)))
            guard recorded == fingerprint else { throw Failure.stale }
            let count = Int(truncatingIfNeeded: u64(48))
            guard count >= 0, data.count == 64 + count * 8 else { throw Failure.inconsistent }
            let index = try HammingIndex.load(from: path)
            guard index.count == count, checksum(index) == u64(56) else { throw Failure.inconsistent }
            var owners = [Int64](repeating: 0, count: count)
            owners.withUnsafeMutableBytes { out in
                out.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[64..<(64 + count * 8)]))
            }
            #if _endian(big)
                owners = owners.map { Int64(littleEndian: $0) }
            #endif
            return (index, owners)
        }
    }

    /// A 64-bit checksum of every hash in index order.
    static func checksum(_ index: HammingIndex) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for i in 0..<index.count {
            let x = index.hash(at: UInt32(i))
            h = mix(mix(mix(mix(h, x.w0), x.w1), x.w2), x.w3)
        }
        return h
    }

    @inline(__always) private static func mix(_ h: UInt64, _ w: UInt64) -> UInt64 {
        let m = (h ^ w) &* 0x0000_0100_0000_01b3
        return m ^ (m >> 29)
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to data: inout Data) {
        withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
    }
}
