import Foundation
import PDQ
import Testing
import VigilMedia

/// ../shared/pdq-vectors beside the repository (the repo root is three levels above this file).
private let shared = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("../shared/pdq-vectors").standardized
private let vectors = shared.appendingPathComponent("synthetic")

@Suite("PDQ through the decoding path")
struct PDQThroughDecodeTests {
    struct Row {
        var file: String
        var pdq: String
        var quality: Int
        var dihedral: [String]
    }

    static func rows() throws -> [Row] {
        let text = try String(contentsOf: vectors.appendingPathComponent("expected.csv"), encoding: .utf8)
        let lines = text.split(whereSeparator: \.isNewline).map { $0.split(separator: ",").map(String.init) }
        guard let header = lines.first, let file = header.firstIndex(of: "file"),
            let pdq = header.firstIndex(of: "pdq_hex"),
            let quality = header.firstIndex(of: "quality")
        else { return [] }
        let dihedral = header.indices.filter { header[$0].hasPrefix("dih_") }
        return lines.dropFirst().map { cells in
            Row(
                file: cells[file], pdq: cells[pdq], quality: Int(cells[quality]) ?? -1,
                dihedral: dihedral.map { cells[$0] })
        }
    }

    @Test("lossless PNGs decoded by libvips hash exactly as the reference (shared synthetic vectors)")
    func sharedSyntheticVectors() throws {
        // given
        let rows = try Self.rows()
        try #require(rows.count >= 10, "expected.csv not found under \(vectors.path)")
        let hasher = FileHasher(options: HashOptions(content: .pdqOnly, dihedral: true))
        for row in rows {
            // when
            let outcome = hasher.hash(path: vectors.appendingPathComponent(row.file).path)
            // then
            #expect(outcome.problem == nil, "\(row.file): \(String(describing: outcome.problem?.line))")
            #expect(outcome.record?.pdq?.hash.hex == row.pdq, "\(row.file)")
            #expect(outcome.record?.pdq?.quality == row.quality, "\(row.file)")
            #expect(outcome.record?.dihedral?.map(\.hex) == row.dihedral, "\(row.file)")
        }
    }

    @Test("upstream photos and PNGs (JPEG, RGBA, grey+alpha, 16-bit grey) hash exactly as pytx/pdqhash with Pillow")
    func upstreamImagesMatchPytx() throws {
        // given: pytx's full-resolution hashes (Pillow decode, libjpeg-turbo for JPEG) of every upstream image
        let table = try String(
            contentsOf: shared.appendingPathComponent("derived/pytx_hashes_of_upstream_images.csv"), encoding: .utf8)
        let lines = table.split(whereSeparator: \.isNewline).map { $0.split(separator: ",").map(String.init) }
        let header = try #require(lines.first)
        let image = try #require(header.firstIndex(of: "image"))
        let pdq = try #require(header.firstIndex(of: "pdq_fullres_pytx"))
        let quality = try #require(header.firstIndex(of: "quality_fullres"))
        #expect(lines.count > 30)
        let hasher = FileHasher(options: HashOptions(content: .pdqOnly))
        for cells in lines.dropFirst() {
            // when
            let outcome = hasher.hash(path: shared.appendingPathComponent("upstream/images/" + cells[image]).path)
            // then
            #expect(outcome.problem == nil, "\(cells[image])")
            #expect(outcome.record?.pdq?.hash.hex == cells[pdq], "\(cells[image])")
            #expect(outcome.record?.pdq?.quality == Int(cells[quality]), "\(cells[image])")
        }
    }

    @Test("fast mode moves few bits on photo-like JPEGs (median at most 4)")
    func fastModeBitDifference() throws {
        // given photo-like 1024x768 JPEGs (smooth fields with shapes, plus mild noise)
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var distances: [Int] = []
        for seed in 1...5 {
            let image = TestImages.photoLike(width: 1024, height: 768, seed: UInt64(seed))
            let path = dir.file("p\(seed).jpg")
            try TestImages.write(image, to: path)
            // when
            let exact = FileHasher(options: HashOptions(content: .pdqOnly)).hash(path: path).record?.pdq
            let fast = FileHasher(options: HashOptions(content: .pdqOnly, mode: .fast)).hash(path: path).record?.pdq
            let (e, f) = (try #require(exact), try #require(fast))
            distances.append(e.hash.distance(to: f.hash))
        }
        // then
        distances.sort()
        #expect(distances[distances.count / 2] <= 4, "distances \(distances)")
    }
}
