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
    }

    private let lock = NSLock()
    private var index = HammingIndex()
    private var owners: [Int64] = []
    private var exact: [HashDigest: Int64] = [:]
    private var records: [Int64: HashSetRecord] = [:]
    private let store: HashSetStore?
    /// PDQ digests indexed, for deciding when to rebuild from the database.
    public private(set) var indexedPDQCount = 0

    /// A matcher over records held in memory (hash-list files).
    public init(records list: [HashSetRecord]) {
        store = nil
        for (i, r) in list.enumerated() {
            let id = Int64(i + 1)
            records[id] = r
            for d in r.digests {
                if d.algorithm == .pdq, let h = Hash256(hex: d.value) {
                    index.insert(h)
                    owners.append(id)
                } else {
                    exact[d] = id
                }
            }
        }
        indexedPDQCount = owners.count
    }

    /// A matcher over the national set in the database; PDQ hashes are loaded into memory now.
    public init(store: HashSetStore) async throws {
        self.store = store
        try await rebuild()
    }

    /// Reloads the PDQ index from the database and swaps it in; lookups carry on meanwhile.
    public func rebuild() async throws {
        guard let store else { return }
        let fresh = HammingIndex()
        var freshOwners: [Int64] = []
        try await store.forEachPDQ { hex, item in
            if let h = Hash256(hex: hex) {
                fresh.insert(h)
                freshOwners.append(item)
            }
        }
        fresh.compact(jobs: 1)
        lock.withLock {
            index = fresh
            owners = freshOwners
            indexedPDQCount = freshOwners.count
        }
    }

    /// Adds an item's PDQ hashes to the live index (after an import through the server).
    public func add(item: Int64, record: HashSetRecord) {
        lock.withLock {
            for d in record.digests where d.algorithm == .pdq {
                if let h = Hash256(hex: d.value) {
                    index.insert(h)
                    owners.append(item)
                }
            }
            indexedPDQCount = owners.count
        }
    }

    /// All known items matching each query: exact digests exactly, PDQ within `radius` (0…63), nearest first.
    /// Known-benign items are returned too (flagged in their record) so callers can set them aside.
    public func match(_ queries: [HashDigest], radius: Int = 31, jobs: Int = 1) async throws -> [[Hit]] {
        let r = max(0, min(63, radius))
        let (idx, own) = lock.withLock { (index, owners) }
        var results = [[Hit]](repeating: [], count: queries.count)
        // PDQ through the index, batched across cores.
        let pdqPositions = queries.indices.filter { queries[$0].algorithm == .pdq }
        let pdqHashes = pdqPositions.compactMap { Hash256(hex: queries[$0].value) }
        var itemIDs: Set<Int64> = []
        var pending: [(Int, Int64, Int, HashDigest)] = []
        if pdqHashes.count == pdqPositions.count, !pdqHashes.isEmpty {
            let found = idx.searchBatch(pdqHashes, radius: r, jobs: max(1, jobs))
            for (k, matches) in found.enumerated() {
                for m in matches where Int(m.id) < own.count {
                    let item = own[Int(m.id)]
                    itemIDs.insert(item)
                    pending.append((pdqPositions[k], item, m.distance, HashDigest(pdqHex: idx.hash(at: m.id).hex)))
                }
            }
        }
        // Exact digests.
        let exactQueries = queries.filter { $0.algorithm != .pdq }
        if let store {
            let found = try await store.items(forExact: exactQueries)
            for (i, q) in queries.enumerated() where q.algorithm != .pdq {
                if let (id, rec) = found[q] { results[i].append(Hit(item: id, record: rec, distance: 0, matched: q)) }
            }
            let recs = try await store.items(ids: Array(itemIDs))
            for (i, item, distance, digest) in pending {
                if let rec = recs[item] { results[i].append(Hit(item: item, record: rec, distance: distance, matched: digest)) }
            }
        } else {
            for (i, q) in queries.enumerated() where q.algorithm != .pdq {
                if let id = exact[q], let rec = records[id] { results[i].append(Hit(item: id, record: rec, distance: 0, matched: q)) }
            }
            for (i, item, distance, digest) in pending {
                if let rec = records[item] { results[i].append(Hit(item: item, record: rec, distance: distance, matched: digest)) }
            }
        }
        for i in results.indices { results[i].sort { ($0.distance, $0.item) < ($1.distance, $1.item) } }
        return results
    }
}

extension HashDigest {
    /// A PDQ digest from hex the index produced (always valid).
    init(pdqHex: String) {
        self = (try? HashDigest(.pdq, pdqHex)) ?? (try! HashDigest(.pdq, String(repeating: "0", count: 64)))
    }
}
