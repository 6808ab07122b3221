import VigilCore
import VigilMatch
import VigilMedia

/// Puts examined files in their classes and orders new and near-match media for review. Pure: no I/O.
public enum Classifier {
    /// Classifies every file from the known items its digests matched.
    ///
    /// An exact digest of a known item makes the file *known* (even if a benign list also has it: the set's
    /// opinion wins); an exact digest of a known-benign item only sets it aside; a PDQ hash within the radius of a
    /// known (not benign) item makes it a *near match*; any other image or video is *new media*; the rest is *other*
    /// (an image that could not be decoded too: it is listed among the problems).
    ///
    /// Review order: near matches first (nearest first), then new media in folders that also hold known items, then
    /// the other new media; within a tier, by path. Files with the same SHA-256 form duplicate groups.
    /// - Parameters:
    ///   - files: The examined files, in path order.
    ///   - hits: For each file, every hit of its digests (``ScanFile/queries``), in any order.
    ///   - videoHits: For each file, the known videos it shows (vPDQ), or none: a video that shows a known video
    ///     and has no exact hit is a near match.
    ///   - similarRadius: PDQ distance within which new media and near matches count as the same picture.
    public static func classify(
        _ files: [ScanFile], hits: [[KnownHit]], videoHits: [[KnownVideoHit]]? = nil, similarRadius: Int = 10
    ) -> [ScanResult] {
        precondition(files.count == hits.count, "one hit list per file")
        precondition(videoHits == nil || videoHits?.count == files.count, "one video hit list per file")
        var results: [ScanResult] = []
        results.reserveCapacity(files.count)
        for (i, (file, fileHits)) in zip(files, hits).enumerated() {
            let videos = videoHits?[i].filter { !$0.record.knownBenign } ?? []
            let exact = fileHits.filter { $0.matched.algorithm != .pdq }
            let known = exact.filter { !$0.record.knownBenign }
            let benign = exact.filter { $0.record.knownBenign }
            let near = fileHits.filter { $0.matched.algorithm == .pdq && !$0.record.knownBenign }
                .sorted { ($0.distance, $0.item) < ($1.distance, $1.item) }
            if !known.isEmpty {
                results.append(ScanResult(file: file, fileClass: .known, hits: unique(known)))
            } else if !benign.isEmpty {
                results.append(ScanResult(file: file, fileClass: .knownBenign, hits: unique(benign)))
            } else if !near.isEmpty || !videos.isEmpty {
                var r = ScanResult(file: file, fileClass: .nearMatch, hits: unique(near))
                r.videoHits = videos
                results.append(r)
            } else if file.isMedia && !(file.problem != nil && file.pdq == nil && file.video == nil) {
                results.append(ScanResult(file: file, fileClass: .newMedia))
            } else {
                results.append(ScanResult(file: file, fileClass: .other))
            }
        }
        assignPriorities(&results)
        assignDuplicateGroups(&results)
        assignSimilarGroups(&results, radius: similarRadius)
        return results
    }

    /// Groups new media and near matches whose PDQ hashes are within `radius` of each other (transitively), when a
    /// group holds at least two different files (different SHA-256).
    static func assignSimilarGroups(_ results: inout [ScanResult], radius: Int) {
        let members = results.indices.filter {
            let r = results[$0]
            return (r.fileClass == .newMedia || r.fileClass == .nearMatch) && r.file.pdq != nil
                && (r.file.pdqQuality ?? 0) >= HashRecord.minimumUsefulQuality
        }
        let hashes = members.compactMap { Hash256(hex: results[$0].file.pdq!) }
        guard hashes.count == members.count, hashes.count > 1 else { return }
        let index = HammingIndex(hashes)
        var parent = Array(0..<hashes.count)
        func root(_ x: Int) -> Int {
            var x = x
            while parent[x] != x {
                parent[x] = parent[parent[x]]
                x = parent[x]
            }
            return x
        }
        for (i, matches) in index.searchBatch(hashes, radius: radius, jobs: 1).enumerated() {
            for m in matches where Int(m.id) != i {
                let (a, b) = (root(i), root(Int(m.id)))
                if a != b { parent[max(a, b)] = min(a, b) }
            }
        }
        var groups: [Int: [Int]] = [:]
        for k in hashes.indices { groups[root(k), default: []].append(members[k]) }
        let kept = groups.values.filter { group in Set(group.map { results[$0].file.sha256 ?? "" }).count > 1 }
            .sorted { $0.min()! < $1.min()! }
        for (n, group) in kept.enumerated() {
            for i in group { results[i].similarGroup = n + 1 }
        }
    }

    /// One hit per item (several digests of one file hit the same item), keeping the first (nearest).
    private static func unique(_ hits: [KnownHit]) -> [KnownHit] {
        var seen: Set<String> = []
        return hits.filter { seen.insert($0.item).inserted }
    }

    static func assignPriorities(_ results: inout [ScanResult]) {
        let knownFolders = Set(results.filter { $0.fileClass == .known }.map(\.file.folder))
        for i in results.indices {
            switch results[i].fileClass {
            case .nearMatch: results[i].priority = 1
            case .newMedia: results[i].priority = knownFolders.contains(results[i].file.folder) ? 2 : 3
            default: results[i].priority = nil
            }
        }
        let order = results.indices.filter { results[$0].priority != nil }.sorted { a, b in
            let (x, y) = (results[a], results[b])
            if x.priority != y.priority { return x.priority! < y.priority! }
            let dx = x.hits.first?.distance ?? 0
            let dy = y.hits.first?.distance ?? 0
            if dx != dy { return dx < dy }
            return x.file.path.utf8.lexicographicallyPrecedes(y.file.path.utf8)
        }
        for (rank, index) in order.enumerated() { results[index].reviewRank = rank + 1 }
    }

    static func assignDuplicateGroups(_ results: inout [ScanResult]) {
        var bySHA: [String: [Int]] = [:]
        for (i, r) in results.enumerated() where r.fileClass != .knownBenign && r.file.size > 0 {
            if let sha = r.file.sha256 { bySHA[sha, default: []].append(i) }
        }
        let groups = bySHA.values.filter { $0.count > 1 }.sorted { $0[0] < $1[0] }
        for (n, members) in groups.enumerated() {
            for i in members { results[i].duplicateGroup = n + 1 }
        }
    }

    /// The results in review order (files with a priority only).
    public static func reviewOrder(_ results: [ScanResult]) -> [ScanResult] {
        results.filter { $0.reviewRank != nil }.sorted { $0.reviewRank! < $1.reviewRank! }
    }
}

/// The figures at the top of a report.
public struct ScanSummary: Sendable, Equatable, Codable {
    /// Files examined (including files that could not be read).
    public var files: Int
    /// Bytes examined.
    public var bytes: Int
    /// Files per class (every class present, 0 when none).
    public var classes: [String: Int]
    /// Known and near-match files per category label.
    public var categories: [String: Int]
    /// Problems (files and entries).
    public var problems: Int
    /// Duplicate groups (same SHA-256 under several paths).
    public var duplicateGroups: Int
    /// Similar-picture groups among new media and near matches.
    public var similarGroups: Int
    /// Wall-clock seconds the scan took.
    public var seconds: Double

    /// The summary of `results`.
    public init(results: [ScanResult], problems: Int, seconds: Double) {
        files = results.count
        bytes = results.reduce(0) { $0 + $1.file.size }
        var classes: [String: Int] = [:]
        for c in FileClass.allCases { classes[c.rawValue] = 0 }
        var categories: [String: Int] = [:]
        for r in results {
            classes[r.fileClass.rawValue, default: 0] += 1
            if r.fileClass == .known || r.fileClass == .nearMatch,
                let label = r.hits.first?.categoryLabel ?? r.videoHits.first?.categoryLabel
            {
                categories[label, default: 0] += 1
            }
        }
        self.classes = classes
        self.categories = categories
        self.problems = problems
        duplicateGroups = Set(results.compactMap(\.duplicateGroup)).count
        similarGroups = Set(results.compactMap(\.similarGroup)).count
        self.seconds = seconds
    }

    /// The count of one class.
    public func count(_ c: FileClass) -> Int { classes[c.rawValue] ?? 0 }
}
