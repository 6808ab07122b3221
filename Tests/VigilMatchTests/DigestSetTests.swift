import Testing

@testable import VigilMatch

@Suite("DigestSet")
struct DigestSetTests {
    @Test("holds MD5, SHA-1 and SHA-256 apart and answers membership exactly")
    func membership() throws {
        // given
        var set = DigestSet()
        let md5 = "d41d8cd98f00b204e9800998ecf8427e"
        let sha1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
        let sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        // when
        #expect(try set.insert(hex: md5))
        #expect(try set.insert(hex: sha1.uppercased()))
        #expect(try set.insert(hex: sha256))
        #expect(try set.insert(hex: md5) == false)
        // then
        #expect(set.count == 3)
        #expect(set.count(of: .sha1) == 1)
        #expect(set.contains(hex: md5.uppercased()))
        #expect(set.contains(hex: sha1))
        #expect(set.contains(hex: sha256))
        #expect(!set.contains(hex: "d41d8cd98f00b204e9800998ecf8427f"))
        #expect(!set.contains(hex: String(sha256.prefix(40))))
        #expect(!set.contains(hex: "not hex"))
        #expect(throws: MatchError.invalidDigest) { try set.insert(hex: "abc") }
        #expect(throws: MatchError.invalidDigest) { try set.insert([UInt8](repeating: 1, count: 17)) }
    }

    @Test("many digests, including ones sharing their first 8 bytes, survive growth")
    func manyDigests() throws {
        // given 50,000 random SHA-1s and 1,000 MD5s that differ only in their last byte
        var rng = SplitMix64(seed: 21)
        var set = DigestSet()
        var inserted: [[UInt8]] = []
        for _ in 0..<50_000 {
            let digest = (0..<20).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            inserted.append(digest)
            try set.insert(digest)
        }
        let prefix = (0..<15).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        for last in 0..<250 { try set.insert(prefix + [UInt8(last)]) }
        // then every inserted digest is found and near misses are not
        #expect(set.count == 50_250)
        #expect(inserted.allSatisfy { set.contains($0) })
        #expect((0..<250).allSatisfy { set.contains(prefix + [UInt8($0)]) })
        #expect(!set.contains(prefix + [250]))
        var misses = 0
        for digest in inserted.prefix(5_000) where set.contains(digest.dropLast() + [digest[19] ^ 1]) { misses += 1 }
        #expect(misses == 0)
    }
}
