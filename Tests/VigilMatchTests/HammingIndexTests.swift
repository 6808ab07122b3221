import Foundation
import Testing

@testable import VigilMatch

@Suite("HammingIndex agrees with brute force")
struct HammingIndexPropertyTests {
    static let radii = Array(0...63)

    private func checkAllRadii(index: HammingIndex, hashes: [Hash256], queries: [Hash256]) {
        for radius in Self.radii {
            for query in queries {
                let expected = Fixtures.bruteForce(query, in: hashes, radius: radius)
                let found = index.search(query, radius: radius)
                #expect(found == expected, "radius \(radius) query \(query.hex)")
                if found != expected { return }
            }
        }
    }

    @Test("random data, probing at every radius 0–63")
    func randomDataAllRadii() {
        // given 20,000 random hashes indexed with probing forced on, and planted and random queries
        let hashes = Fixtures.random(count: 20_000, seed: 1)
        let index = HammingIndex(policy: .alwaysProbe)
        index.insert(contentsOf: hashes, jobs: 2)
        let queries = Fixtures.queries(near: hashes, planted: 12, random: 4, seed: 2)
        // when / then every radius gives exactly the brute-force answer
        #expect(index.segmentCount == 1)
        checkAllRadii(index: index, hashes: hashes, queries: queries)
    }

    @Test("clustered near-duplicate families, probing at every radius 0–63")
    func clusteredDataAllRadii() {
        // given 20,000 hashes in families of 50 near-duplicates (1–20 bits from their centre)
        let hashes = Fixtures.clustered(count: 20_000, familySize: 50, seed: 3)
        let index = HammingIndex(policy: .alwaysProbe)
        index.insert(contentsOf: hashes)
        let queries = Fixtures.queries(near: hashes, planted: 12, random: 4, seed: 4)
        // when / then
        checkAllRadii(index: index, hashes: hashes, queries: queries)
    }

    @Test("automatic probe-or-scan choice stays exact, also past radius 63")
    func automaticPolicy() {
        // given the default index
        let hashes = Fixtures.clustered(count: 10_000, familySize: 20, seed: 5)
        let index = HammingIndex(hashes)
        let queries = Fixtures.queries(near: hashes, planted: 6, random: 2, seed: 6)
        // when / then
        for radius in [0, 8, 31, 32, 63, 100, 256] {
            for query in queries {
                #expect(index.search(query, radius: radius) == Fixtures.bruteForce(query, in: hashes, radius: radius))
            }
        }
        #expect(index.search(queries[0], radius: -1).isEmpty)
    }

    @Test("nearest returns the k closest, ties by id, within maxRadius")
    func nearest() {
        // given
        let hashes = Fixtures.clustered(count: 8_000, familySize: 40, seed: 7)
        let index = HammingIndex(hashes)
        let queries = Fixtures.queries(near: hashes, planted: 10, random: 3, seed: 8)
        for query in queries {
            // when
            let found = index.nearest(query, k: 5, maxRadius: 70)
            // then it is the brute-force prefix
            let expected = Array(Fixtures.bruteForce(query, in: hashes, radius: 70).prefix(5))
            #expect(found == expected)
        }
        #expect(index.nearest(queries[0], k: 0).isEmpty)
    }

    @Test("batch search over several jobs equals one-by-one search")
    func batch() {
        // given
        let hashes = Fixtures.random(count: 12_000, seed: 9)
        let index = HammingIndex(hashes, jobs: 2)
        let queries = Fixtures.queries(near: hashes, planted: 40, random: 20, seed: 10)
        // when
        let batched = index.searchBatch(queries, radius: 31, jobs: 3)
        let nearest = index.nearestBatch(queries, k: 2, jobs: 2)
        // then
        #expect(batched == queries.map { index.search($0, radius: 31) })
        #expect(nearest == queries.map { index.nearest($0, k: 2) })
        #expect(batched.filter { !$0.isEmpty }.count >= 20)
    }
}

@Suite("HammingIndex upstream vectors")
struct HammingIndexUpstreamTests {
    @Test("needles vs haystack give exactly the brute-force pairs at 31 and 32", arguments: [31, 32])
    func needlesAgainstHaystack(radius: Int) throws {
        // given the upstream haystack indexed (probing forced, so multi-index hashing answers) and the needles
        let haystack = try Fixtures.sharedFile("upstream/hashes/haystack.txt").split(whereSeparator: \.isNewline)
            .compactMap { Hash256(hex: $0.trimmingCharacters(in: .whitespaces)) }
        let needles = try Fixtures.sharedFile("upstream/hashes/needles.txt").split(whereSeparator: \.isNewline)
            .compactMap { Hash256(hex: $0.trimmingCharacters(in: .whitespaces)) }
        #expect(haystack.count == 1350 && needles.count == 100)
        let index = HammingIndex(policy: .alwaysProbe)
        index.insert(contentsOf: haystack)
        index.compact()
        #expect(index.segmentCount == 1)
        // when every needle is searched (ids are 0-based, the CSV's line numbers 1-based)
        var found: [String] = []
        for (n, needle) in needles.enumerated() {
            for match in index.search(needle, radius: radius) {
                found.append("\(n + 1),\(match.id + 1),\(match.distance)")
            }
        }
        // then the pairs are exactly the CSV's
        let csv = try Fixtures.sharedFile("derived/mih_needles_vs_haystack_bruteforce_d\(radius).csv")
        let expected = csv.split(whereSeparator: \.isNewline).dropFirst().map(String.init)
        #expect(found.sorted() == expected.sorted())
        #expect(found.count == 250)
    }
}

@Suite("HammingIndex updates and snapshots")
struct HammingIndexLifecycleTests {
    @Test("incremental inserts after a build are found, with ids in insertion order")
    func incrementalInserts() {
        // given an index built in bulk, then grown one hash at a time across several segment merges
        let hashes = Fixtures.clustered(count: 26_000, familySize: 30, seed: 11)
        let index = HammingIndex(policy: .alwaysProbe)
        index.insert(contentsOf: hashes[0..<10_000])
        var ids: [UInt32] = []
        for h in hashes[10_000...] { ids.append(index.insert(h)) }
        // then
        #expect(ids == (10_000..<26_000).map(UInt32.init))
        #expect(index.count == 26_000)
        #expect(index.segmentCount == 3)  // 10,000 + 8,192 + 4,096, and a tail of 3,712 (26,000 − 22,288)
        #expect(index.hash(at: 25_999) == hashes[25_999])
        let queries = Fixtures.queries(near: hashes, planted: 20, random: 4, seed: 12)
        for query in queries {
            for radius in [0, 12, 31, 47] {
                #expect(index.search(query, radius: radius) == Fixtures.bruteForce(query, in: hashes, radius: radius))
            }
        }
        // when compacted, the same answers come from one segment
        index.compact()
        #expect(index.segmentCount == 1)
        for query in queries {
            #expect(index.search(query) == Fixtures.bruteForce(query, in: hashes, radius: 31))
        }
    }

    @Test("readers see a consistent index while a writer inserts")
    func concurrentReadersAndWriter() async {
        // given
        let hashes = Fixtures.random(count: 12_000, seed: 13)
        let index = HammingIndex(hashes[0..<6_000])
        let probe = hashes[100]
        // when a writer inserts while readers search
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for h in hashes[6_000...] { index.insert(h) }
                return true
            }
            for _ in 0..<2 {
                group.addTask {
                    var ok = true
                    for _ in 0..<200 { ok = ok && index.search(probe, radius: 0).first?.id == 100 }
                    return ok
                }
            }
            // then every reader found the hash every time
            for await ok in group { #expect(ok) }
        }
        #expect(index.count == 12_000)
    }

    @Test("a snapshot round trip keeps every hash and answer, and the loaded index accepts inserts")
    func snapshotRoundTrip() throws {
        // given an index with segments and an unindexed tail
        let hashes = Fixtures.clustered(count: 15_000, familySize: 25, seed: 14)
        let index = HammingIndex(hashes[0..<14_000])
        for h in hashes[14_000...] { index.insert(h) }
        let path = Fixtures.temporaryPath("roundtrip.vmi")
        defer { unlink(path) }
        // when
        try index.save(to: path)
        let loaded = try HammingIndex.load(from: path)
        // then
        #expect(loaded.count == 15_000)
        #expect(loaded.segmentCount == index.segmentCount)
        #expect(loaded.hash(at: 14_500) == hashes[14_500])
        let queries = Fixtures.queries(near: hashes, planted: 16, random: 4, seed: 15)
        for query in queries {
            #expect(loaded.search(query, radius: 31) == index.search(query, radius: 31))
        }
        // and it grows past the mapping
        let extra = Hash256(w0: 1, w1: 2, w2: 3, w3: 4)
        #expect(loaded.insert(extra) == 15_000)
        #expect(loaded.search(extra, radius: 0) == [Match(id: 15_000, distance: 0)])
    }

    @Test("load refuses files that are not snapshots, and reports a missing file")
    func loadRefusesGarbage() throws {
        // given
        let path = Fixtures.temporaryPath("garbage.vmi")
        defer { unlink(path) }
        try Data(repeating: 7, count: 4096).write(to: URL(fileURLWithPath: path))
        // when / then
        #expect(throws: MatchError.self) { try HammingIndex.load(from: path) }
        #expect(throws: MatchError.self) { try HammingIndex.load(from: path + ".missing") }
    }

    @Test("a truncated snapshot is refused")
    func truncatedSnapshot() throws {
        // given a valid snapshot cut short
        let index = HammingIndex(Fixtures.random(count: 5_000, seed: 16))
        let path = Fixtures.temporaryPath("truncated.vmi")
        defer { unlink(path) }
        try index.save(to: path)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try data.prefix(data.count - 100).write(to: URL(fileURLWithPath: path))
        // when / then
        #expect(throws: MatchError.self) { try HammingIndex.load(from: path) }
    }
}

@Suite("Hash256")
struct Hash256Tests {
    @Test("hex and bytes round trip in big-endian order; bad hex is refused")
    func hexRoundTrip() {
        // given
        let hex = "98736629670cc19fc9f23862f66cce1f599e32c78e236c78619d202e9e66c157"
        // when
        let hash = Hash256(hex: hex)
        // then
        #expect(hash?.w0 == 0x9873_6629_670c_c19f)
        #expect(hash?.w3 == 0x619d_202e_9e66_c157)
        #expect(hash?.hex == hex)
        #expect(Hash256(hex: hex.uppercased()) == hash)
        #expect(hash.flatMap { Hash256(bytes: $0.bytes) } == hash)
        #expect(hash?.bytes.first == 0x98)
        #expect(Hash256(hex: String(hex.dropLast())) == nil)
        #expect(Hash256(hex: hex + "0") == nil)
        #expect(Hash256(hex: "g" + hex.dropFirst()) == nil)
        #expect(Hash256(bytes: [UInt8](repeating: 0, count: 31)) == nil)
    }

    @Test("distance counts differing bits")
    func distance() {
        let a = Hash256(w0: 0, w1: 0, w2: 0, w3: 0)
        let b = Hash256(w0: 0xFF, w1: 1, w2: 0, w3: UInt64.max)
        #expect(a.distance(to: b) == 8 + 1 + 64)
        #expect(b.distance(to: b) == 0)
        #expect(b.popcount == 73)
    }
}
