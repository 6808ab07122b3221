import Foundation

@testable import VigilMatch

/// SplitMix64: a small deterministic generator, so every test sees the same data.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension Hash256 {
    static func random(using rng: inout SplitMix64) -> Hash256 {
        Hash256(w0: rng.next(), w1: rng.next(), w2: rng.next(), w3: rng.next())
    }

    /// This hash with exactly `bits` distinct bits flipped.
    func flipping(_ bits: Int, using rng: inout SplitMix64) -> Hash256 {
        var positions = Set<Int>()
        while positions.count < bits { positions.insert(Int(rng.next() % 256)) }
        var h = self
        for p in positions {
            let mask = UInt64(1) << UInt64(p & 63)
            switch p >> 6 {
            case 0: h.w0 ^= mask
            case 1: h.w1 ^= mask
            case 2: h.w2 ^= mask
            default: h.w3 ^= mask
            }
        }
        return h
    }
}

enum Fixtures {
    /// `count` uniformly random hashes.
    static func random(count: Int, seed: UInt64) -> [Hash256] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in Hash256.random(using: &rng) }
    }

    /// Families of near-duplicates: each family is a random centre plus members 1–20 bits away.
    static func clustered(count: Int, familySize: Int, seed: UInt64) -> [Hash256] {
        var rng = SplitMix64(seed: seed)
        var out: [Hash256] = []
        out.reserveCapacity(count)
        while out.count < count {
            let centre = Hash256.random(using: &rng)
            out.append(centre)
            for _ in 1..<familySize where out.count < count {
                out.append(centre.flipping(1 + Int(rng.next() % 20), using: &rng))
            }
        }
        return out
    }

    /// Queries: near-duplicates of indexed hashes at distances 0–63, and random hashes.
    static func queries(near hashes: [Hash256], planted: Int, random: Int, seed: UInt64) -> [Hash256] {
        var rng = SplitMix64(seed: seed)
        var out: [Hash256] = []
        for i in 0..<planted {
            let base = hashes[Int(rng.next() % UInt64(hashes.count))]
            out.append(base.flipping(i % 64, using: &rng))
        }
        for _ in 0..<random { out.append(Hash256.random(using: &rng)) }
        return out
    }

    static func bruteForce(_ query: Hash256, in hashes: [Hash256], radius: Int) -> [Match] {
        var out: [Match] = []
        for (id, h) in hashes.enumerated() {
            let d = h.distance(to: query)
            if d <= radius { out.append(Match(id: UInt32(id), distance: d)) }
        }
        return out.sorted { $0.distance != $1.distance ? $0.distance < $1.distance : $0.id < $1.id }
    }

    /// The repository root: three levels above this file (Tests/VigilMatchTests/TestSupport.swift).
    static func repositoryRoot(file: String = #filePath) -> URL {
        URL(fileURLWithPath: file).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    static func sharedFile(_ relative: String) throws -> String {
        let url = repositoryRoot().appendingPathComponent("../shared/pdq-vectors/" + relative).standardized
        return try String(contentsOf: url, encoding: .utf8)
    }

    static func temporaryPath(_ name: String) -> String {
        NSTemporaryDirectory() + "vigilmatch-\(getpid())-\(name)"
    }
}
