import Testing

@testable import PDQ

struct PDQHashTests {
    @Test func hexRoundTripsAndBitOrderIsBigEndianRowFifteenFirst() throws {
        // given a hash with only bit 255 (row 15, column 15) and bit 0 (row 0, column 0) set
        let hash = PDQHash(words: (1 << 63, 0, 0, 1))
        // when formatting and parsing
        let hex = hash.hex
        // then the first hex digit carries bit 255, the last bit 0, and parsing gives the same hash
        #expect(hex == "8" + String(repeating: "0", count: 62) + "1")
        #expect(PDQHash(hex: hex) == hash)
        #expect(PDQHash(hex: hex.uppercased()) == hash)
        #expect(hash.bit(255) && hash.bit(0) && !hash.bit(1))
        #expect(hash.popcount == 2)
    }

    @Test func malformedHexIsRejected() {
        // given strings that are not 64 hex digits
        let bad = [
            "", String(repeating: "0", count: 63), String(repeating: "0", count: 65),
            String(repeating: "g", count: 64), String(repeating: "0", count: 63) + " ",
            "é" + String(repeating: "0", count: 63),
        ]
        // then none parses
        for s in bad { #expect(PDQHash(hex: s) == nil, "\(s)") }
    }

    @Test func short256NormsAndPairwiseDistancesMatchUpstream() throws {
        // given the upstream hashtool256 fixtures
        let norms = try Fixtures.csv("derived/short256_norms.csv")
        let pairs = try Fixtures.csv("derived/short256_pairwise_distances.csv")
        #expect(norms.count == 6 && pairs.count == 36)
        // then popcounts and distances agree
        for row in norms {
            let hash = try #require(PDQHash(hex: row["hash"] ?? ""))
            #expect(hash.popcount == Int(row["popcount"] ?? ""))
            #expect(hash.hex == row["hash"])
        }
        for row in pairs {
            let a = try #require(PDQHash(hex: row["hash_i"] ?? ""))
            let b = try #require(PDQHash(hex: row["hash_j"] ?? ""))
            #expect(a.distance(to: b) == Int(row["hamming"] ?? ""))
            #expect(b.distance(to: a) == a.distance(to: b))
        }
    }

    @Test func needleHaystackBruteForceMatchesUpstreamAtDistance31And32() throws {
        // given 100 needles and 1350 haystack hashes
        let needles = try Fixtures.lines("upstream/hashes/needles.txt").map { try #require(PDQHash(hex: $0)) }
        let haystack = try Fixtures.lines("upstream/hashes/haystack.txt").map { try #require(PDQHash(hex: $0)) }
        #expect(needles.count == 100 && haystack.count == 1350)
        for d in [31, 32] {
            // when comparing every pair
            var found = Set<String>()
            for (i, n) in needles.enumerated() {
                for (j, h) in haystack.enumerated() where n.distance(to: h) <= d {
                    found.insert("\(i + 1),\(j + 1),\(n.distance(to: h))")
                }
            }
            // then the pairs within d are exactly the upstream brute-force list
            let expected = Set(
                try Fixtures.csv("derived/mih_needles_vs_haystack_bruteforce_d\(d).csv").map {
                    "\($0["needle_line_1based"] ?? ""),\($0["haystack_line_1based"] ?? ""),\($0["distance"] ?? "")"
                })
            #expect(found == expected, "d=\(d)")
        }
    }
}
