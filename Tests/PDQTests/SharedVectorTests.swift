import Foundation
import Testing

@testable import PDQ

/// Level 1 of ../shared/pdq-vectors: the synthetic PNGs must hash bit for bit as Meta's C++ core does.
@Suite(.enabled(if: Python.hasPillow, "needs python3 with Pillow to decode the PNG vectors (pip install Pillow)"))
struct SharedVectorTests {
    static let decodeScript = """
        import sys, os, json, glob
        from PIL import Image
        src, out = sys.argv[1], sys.argv[2]
        cases = []
        for p in sorted(glob.glob(os.path.join(src, '*.png'))):
            name = os.path.basename(p)
            im = Image.open(p).convert('RGB')
            with open(os.path.join(out, name + '.rgb'), 'wb') as f:
                f.write(im.tobytes())
            cases.append(dict(file=name + '.rgb', name=name, width=im.width, height=im.height, channels=3,
                              quality=-1, hashes=[]))
        json.dump(cases, open(os.path.join(out, 'manifest.json'), 'w'))
        """

    /// Decodes every synthetic PNG to raw RGB in a temporary directory.
    static func decoded() throws -> (dir: URL, cases: [String: RawCase]) {
        let dir = try Fixtures.temporaryDirectory()
        try Python.run(decodeScript, [Fixtures.vectors.appendingPathComponent("synthetic").path, dir.path])
        let manifest = try JSONDecoder().decode(
            [RawCase].self, from: Data(contentsOf: dir.appendingPathComponent("manifest.json")))
        return (dir, Dictionary(uniqueKeysWithValues: manifest.map { ($0.name, $0) }))
    }

    static let dihedralColumns = [
        "dih_orig", "dih_rot90ccw", "dih_rot180", "dih_rot270ccw", "dih_flipx_topbottom", "dih_flipy_mirror",
        "dih_flipplus1_transpose", "dih_flipminus1_antitranspose",
    ]

    @Test func syntheticPNGsMatchTheReferenceExactlyIncludingAllDihedrals() throws {
        // given the 14 synthetic PNGs decoded to RGB, and the reference's answers
        let (dir, cases) = try Self.decoded()
        defer { try? FileManager.default.removeItem(at: dir) }
        let expected = try Fixtures.csv("synthetic/expected.csv")
        #expect(expected.count == 14)
        let hasher = PDQHasher()
        for row in expected {
            let name = try #require(row["file"])
            let raw = try #require(cases[name], "no decoded image for \(name)")
            // when hashing it, plainly and with the dihedral variants
            let url = dir.appendingPathComponent(raw.file)
            let (plain, _) = try hasher.hash(
                rawFile: url, width: raw.width, height: raw.height, channels: 3, dihedral: false)
            let (withDihedral, dihedral) = try hasher.hash(
                rawFile: url, width: raw.width, height: raw.height, channels: 3, dihedral: true)
            // then hash, quality and every variant equal the reference
            #expect(raw.width == Int(row["width"] ?? ""), "\(name)")
            #expect(plain.hash.hex == row["pdq_hex"], "\(name)")
            #expect(plain.quality == Int(row["quality"] ?? ""), "\(name)")
            #expect(withDihedral.quality == plain.quality, "\(name)")
            #expect(dihedral.map(\.hex) == Self.dihedralColumns.map { row[$0] ?? "" }, "\(name)")
        }
    }

    @Test func intermediatesMatchStepByStep() throws {
        // given the reference's 64x64 buffer and 16x16 DCT for two images
        struct Intermediate: Decodable {
            let file: String
            let width: Int
            let height: Int
            let decimate_row_indices: [Int]
            let buffer64x64_row_major: [Double]
            let dct16x16_row_major: [Double]
            let median_lower_128th: Double
            let quality: Int
            let pdq_hex: String
        }
        let (dir, cases) = try Self.decoded()
        defer { try? FileManager.default.removeItem(at: dir) }
        let steps = try JSONDecoder().decode(
            [Intermediate].self,
            from: Data(contentsOf: Fixtures.vectors.appendingPathComponent("synthetic/intermediates.json")))
        #expect(steps.count == 2)
        let hasher = PDQHasher()
        for step in steps {
            let raw = try #require(cases[step.file])
            let data = try Data(contentsOf: dir.appendingPathComponent(raw.file))
            var luma = [Float](repeating: 0, count: raw.width * raw.height)
            // when computing the intermediates
            let result = data.withUnsafeBytes { bytes in
                luma.withUnsafeMutableBufferPointer { out in
                    PDQ.luma(
                        pixels: bytes.bindMemory(to: UInt8.self), width: raw.width, height: raw.height, channels: 3,
                        into: out)
                }
                return luma.withUnsafeBufferPointer {
                    hasher.intermediates(luma: $0, width: raw.width, height: raw.height)
                }
            }
            // then every value is bit-identical
            let image = step.buffer64x64_row_major.map { Float($0) }
            let dct = step.dct16x16_row_major.map { Float($0) }
            let badImage = zip(result.image, image).enumerated().filter { $0.element.0 != $0.element.1 }
            let badDCT = zip(result.dct, dct).enumerated().filter { $0.element.0 != $0.element.1 }
            #expect(badImage.isEmpty, "\(step.file): 64x64 differs at \(badImage.prefix(5).map(\.offset))")
            #expect(badDCT.isEmpty, "\(step.file): DCT differs at \(badDCT.prefix(5).map(\.offset))")
            #expect(result.quality == step.quality)
            let median = result.dct.sorted()[127]
            #expect(median == Float(step.median_lower_128th))
        }
    }
}
