import Foundation
import PDQ
import Testing
import VigilMedia

#if canImport(Glibc)
    import Glibc
#endif

/// A directory of good images mixed with hostile and broken entries, built once per test.
private struct MixedTree {
    let dir: TemporaryDirectory
    /// Relative paths of files that must hash cleanly, with their expected type.
    let good: [String: MediaType]
    /// Relative paths that must each produce exactly one problem.
    let bad: [String]

    init() throws {
        dir = try TemporaryDirectory("mixed")
        let shapes = TestImages.shapes(width: 160, height: 120)
        let noise = TestImages.noise(width: 96, height: 64)
        try TestImages.write(shapes, to: dir.file("photos/shapes.jpg"))
        try TestImages.write(noise, to: dir.file("photos/noise.png"))
        try TestImages.write(TestImages.noise(width: 50, height: 40, bands: 4, seed: 3), to: dir.file("alpha.png"))
        try TestImages.write(TestImages.noise(width: 33, height: 21, bands: 1, seed: 4), to: dir.file("grey.png"))
        try TestImages.write(shapes, to: dir.file("anim.gif"))
        try TestImages.write(shapes, to: dir.file("lossless.webp"))
        try TestImages.write(noise, to: dir.file("scan.tif"))
        try dir.write(TestImages.bmp(noise), to: "old.bmp")
        // A PNG named .jpg: sniffing decides, not the name.
        try TestImages.write(noise, to: dir.file("renamed.png"))
        try FileManager.default.moveItem(atPath: dir.file("renamed.png"), toPath: dir.file("misnamed.jpg"))
        // Not images: text, random bytes named .png, an empty file named .jpg.
        try dir.write(Array("just some notes\n".utf8), to: "notes.txt")
        try dir.write(TestImages.noise(width: 10, height: 10, bands: 1, seed: 9).bytes, to: "random.png")
        try dir.write([], to: "empty.jpg")
        // A deep tree: 120 nested directories with one image at the bottom.
        let deep = (0..<120).map { "d\($0)" }.joined(separator: "/")
        try TestImages.write(noise, to: dir.file(deep + "/deep.png"))
        // HEIF/AVIF only where the installed libvips/libheif can encode them (an AV1 or HEVC encoder).
        var optional: [String: MediaType] = [:]
        for (name, type) in [("still.avif", MediaType.avif), ("still.heic", .heif)] {
            if (try? TestImages.write(shapes, to: dir.file(name))) != nil { optional[name] = type }
        }
        good = optional.merging([
            "photos/shapes.jpg": .jpeg, "photos/noise.png": .png, "alpha.png": .png, "grey.png": .png,
            "anim.gif": .gif, "lossless.webp": .webp, "scan.tif": .tiff, "old.bmp": .bmp, "misnamed.jpg": .png,
            "notes.txt": .other, "random.png": .other, "empty.jpg": .other, deep + "/deep.png": .png,
        ]) { a, _ in a }

        // Broken images.
        let jpeg = try dir.bytes(of: "photos/shapes.jpg")
        try dir.write(Array(jpeg.prefix(jpeg.count / 2)), to: "broken/truncated.jpg")
        try dir.write(TestImages.pngHeader(width: 100_000, height: 100_000), to: "broken/bomb.png")
        try dir.write(
            TestImages.pngHeader(width: 64, height: 64) + Array(repeating: 0x42, count: 200),
            to: "broken/corrupt.png")
        try dir.write([0xFF, 0xD8, 0xFF, 0xE0, 0, 16], to: "broken/stub.jpg")
        // A real JPEG whose frame header (SOF0) is patched to declare 65000 x 65000 pixels.
        var bombJPEG = jpeg
        if let sof = (2..<(bombJPEG.count - 9)).first(where: { bombJPEG[$0] == 0xFF && bombJPEG[$0 + 1] == 0xC0 }) {
            bombJPEG.replaceSubrange((sof + 5)...(sof + 8), with: [0xFD, 0xE8, 0xFD, 0xE8])
        }
        try dir.write(bombJPEG, to: "broken/bomb.jpg")
        // A GIF whose logical screen is 65535 x 65535.
        try dir.write(
            Array("GIF89a".utf8) + [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0] + Array(";".utf8), to: "broken/bomb.gif")
        // Hostile directory entries.
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir.file("links"), withIntermediateDirectories: true)
        try fm.createSymbolicLink(atPath: dir.file("links/loop-a"), withDestinationPath: "loop-b")
        try fm.createSymbolicLink(atPath: dir.file("links/loop-b"), withDestinationPath: "loop-a")
        try fm.createSymbolicLink(atPath: dir.file("links/dangling"), withDestinationPath: "nowhere")
        try fm.createSymbolicLink(atPath: dir.file("links/up"), withDestinationPath: "..")
        try fm.createSymbolicLink(atPath: dir.file("links/outside"), withDestinationPath: "/etc")
        // A link to a file inside the tree is harmless: the target is hashed under its own path.
        try fm.createSymbolicLink(atPath: dir.file("links/inside.png"), withDestinationPath: "../photos/noise.png")
        #expect(mkfifo(dir.file("links/pipe"), 0o600) == 0)
        bad = [
            "broken/truncated.jpg", "broken/bomb.png", "broken/corrupt.png", "broken/stub.jpg", "broken/bomb.jpg",
            "broken/bomb.gif",
            "links/loop-a", "links/loop-b", "links/dangling", "links/up", "links/outside", "links/pipe",
        ]
    }

    func relative(_ path: String) -> String { String(path.dropFirst(dir.path.count + 1)) }
}

@Suite("vigil hash over a mixed, partly broken tree")
struct HashRunTests {
    @Test("good files get correct digests and a PDQ when they are images; each bad entry gets one problem")
    func mixedTree() async throws {
        // given
        let tree = try MixedTree()
        defer { tree.dir.remove() }
        // when
        let report = await HashRun.run(paths: [tree.dir.path], options: HashOptions(jobs: 2))
        // then: every good file has one record with digests equal to those of its bytes
        let records = Dictionary(report.records.map { (tree.relative($0.path), $0) }, uniquingKeysWith: { a, _ in a })
        for (path, type) in tree.good {
            let record = try #require(records[path], "missing record for \(path)")
            let bytes = try tree.dir.bytes(of: path)
            #expect(record.type == type, "\(path)")
            #expect(record.size == bytes.count)
            #expect(record.digests == bytes.withUnsafeBytes { DigestAccumulator.digests(of: $0) }, "\(path)")
            #expect((record.pdq != nil) == type.isImage, "\(path) pdq presence")
        }
        // and every bad entry has exactly one problem, and nothing else does
        let problems = report.problems.map { tree.relative($0.path) }
        #expect(problems.sorted() == tree.bad.sorted(), "\(report.problems.map(\.line))")
        // and broken images still carry their digests (the file was read), but no PDQ
        for path in ["broken/truncated.jpg", "broken/bomb.png", "broken/corrupt.png"] {
            let record = try #require(records[path])
            #expect(record.digests != nil && record.pdq == nil)
        }
        // and the reasons name what went wrong
        let reasons = Dictionary(
            report.problems.map { (tree.relative($0.path), $0.error) }, uniquingKeysWith: { a, _ in a })
        #expect(reasons["broken/bomb.png"] == .tooManyPixels(width: 100_000, height: 100_000, cap: 89_478_485))
        #expect(reasons["broken/bomb.jpg"] == .tooManyPixels(width: 65000, height: 65000, cap: 89_478_485))
        #expect(reasons["broken/bomb.gif"] == .tooManyPixels(width: 65535, height: 65535, cap: 89_478_485))
        #expect(reasons["links/pipe"] == .notRegularFile(kind: "FIFO"))
        #expect(reasons["links/outside"].map { "\($0)".contains("outside") } == true)
        #expect(reasons["links/loop-a"].map { "\($0)".contains("loop") } == true)
        #expect(reasons["links/up"].map { "\($0)".contains("ancestor") } == true)
        if case .undecodable(let format, _) = reasons["broken/truncated.jpg"] {
            #expect(format == .jpeg)
        } else {
            Issue.record("truncated JPEG: \(String(describing: reasons["broken/truncated.jpg"]))")
        }
    }

    @Test("output is identical with 1 and 2 jobs, and sorted by path")
    func deterministicAcrossJobs() async throws {
        // given
        let tree = try MixedTree()
        defer { tree.dir.remove() }
        // when
        let one = await HashRun.run(paths: [tree.dir.path], options: HashOptions(jobs: 1))
        let two = await HashRun.run(paths: [tree.dir.path], options: HashOptions(jobs: 2))
        // then
        #expect(one == two)
        let paths = one.records.map(\.path)
        #expect(paths == paths.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        for format in HashFormat.allCases {
            let formatter = HashFormatter(format: format, options: HashOptions())
            #expect(formatter.render(one.records) == formatter.render(two.records))
        }
    }

    @Test(
        "a video alone gets every job's core (decoding on threads beside its digests) and the same record as on one",
        arguments: ["clip.mp4", "tone.m4a", "cut.mp4"])
    func videoAlone(_ name: String) async throws {
        let path: String
        switch name {
        case "tone.m4a": path = try TestVideos.make("sine=frequency=440:duration=1", name, ["-c:a", "aac"])
        default:
            path = try TestVideos.make(
                "testsrc2=size=320x180:rate=30:duration=5", "clip.mp4", ["-c:v", "libx264", "-pix_fmt", "yuv420p"])
            if name == "cut.mp4" {
                // Cut short: the digests of what is there, and the damage reported, the same either way.
                let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
                try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: path))
            }
        }
        let one = await HashRun.run(paths: [path], options: HashOptions(jobs: 1))
        let four = await HashRun.run(paths: [path], options: HashOptions(jobs: 4))
        #expect(one == four, "\(name)")
        #expect(one.records.count == 1 && one.records.first?.digests != nil, "\(name)")
        switch name {
        case "clip.mp4": #expect(one.records.first?.vpdq?.frames.count == 5 && one.problems.isEmpty)
        case "tone.m4a": #expect(one.records.first?.vpdq == nil && one.problems.isEmpty, "sound only: digests alone")
        default: #expect(one.problems.count == 1, "\(one.problems)")
        }
    }

    @Test("a worker that failed on a broken JPEG still decodes the next good one (greyscale and colour)")
    func brokenJPEGDoesNotPoisonTheWorker() throws {
        // given: a JPEG cut after 300 bytes, and good greyscale and colour JPEGs hashed by the same worker after it
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try TestImages.write(TestImages.noise(width: 200, height: 160, bands: 1, seed: 5), to: dir.file("grey.jpg"))
        try TestImages.write(TestImages.shapes(width: 160, height: 120), to: dir.file("colour.jpg"))
        let grey = try dir.bytes(of: "grey.jpg")
        try dir.write(Array(grey.prefix(300)), to: "cut.jpg")
        let fresh = FileHasher(options: HashOptions())
        let expected = ["grey.jpg", "colour.jpg"].map { FileHasher(options: HashOptions()).hash(path: dir.file($0)) }
        // when
        let cut = fresh.hash(path: dir.file("cut.jpg"))
        let after = ["grey.jpg", "colour.jpg"].map { fresh.hash(path: dir.file($0)) }
        // then
        #expect(cut.problem != nil && cut.record?.pdq == nil)
        #expect(after.allSatisfy { $0.problem == nil && $0.record?.pdq != nil })
        #expect(after == expected)
    }

    @Test("the pixel cap is configurable and checked before decoding")
    func configurablePixelCap() throws {
        // given a 96x64 image (6144 pixels)
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try TestImages.write(TestImages.noise(width: 96, height: 64), to: dir.file("n.png"))
        try TestImages.write(TestImages.shapes(width: 96, height: 64), to: dir.file("s.jpg"))
        for name in ["n.png", "s.jpg"] {
            // when
            let capped = FileHasher(options: HashOptions(maxPixels: 6000)).hash(path: dir.file(name))
            let allowed = FileHasher(options: HashOptions(maxPixels: 6144)).hash(path: dir.file(name))
            // then
            #expect(capped.problem?.error == .tooManyPixels(width: 96, height: 64, cap: 6000))
            #expect(allowed.problem == nil && allowed.record?.pdq != nil)
        }
    }

    @Test("files above the in-memory limit are streamed and decoded from disk with the same result")
    func largeFilePath() throws {
        // given
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try TestImages.write(TestImages.noise(width: 300, height: 200), to: dir.file("n.png"))
        try TestImages.write(TestImages.shapes(width: 300, height: 200), to: dir.file("s.jpg"))
        for name in ["n.png", "s.jpg"] {
            // when
            let inMemory = FileHasher(options: HashOptions()).hash(path: dir.file(name))
            let streamed = FileHasher(options: HashOptions(inMemoryLimit: 1000)).hash(path: dir.file(name))
            // then
            #expect(inMemory.problem == nil && streamed.problem == nil)
            #expect(inMemory == streamed)
        }
    }

    @Test("--pdq-only skips digests and --digests-only skips decoding")
    func contentSelection() throws {
        // given
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try TestImages.write(TestImages.noise(width: 40, height: 30), to: dir.file("n.png"))
        // when
        let pdqOnly = FileHasher(options: HashOptions(content: .pdqOnly)).hash(path: dir.file("n.png")).record
        let digestsOnly = FileHasher(options: HashOptions(content: .digestsOnly)).hash(path: dir.file("n.png")).record
        // then
        #expect(pdqOnly?.digests == nil && pdqOnly?.pdq != nil)
        #expect(digestsOnly?.digests != nil && digestsOnly?.pdq == nil)
        #expect(pdqOnly?.size == digestsOnly?.size)
    }

    @Test("a 16-bit PNG is reduced to 8 bits as Pillow does (high byte) and hashes like its 8-bit twin")
    func sixteenBitPNG() throws {
        // given
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let pixels = TestImages.photoLike(width: 120, height: 90, seed: 5)
        try TestImages.write(pixels, to: dir.file("eight.png"))
        try TestImages.write16(pixels, to: dir.file("sixteen.png"))
        // when
        let hasher = FileHasher(options: HashOptions(content: .pdqOnly))
        let eight = hasher.hash(path: dir.file("eight.png"))
        let sixteen = hasher.hash(path: dir.file("sixteen.png"))
        // then
        #expect(try dir.bytes(of: "sixteen.png")[24] == 16, "bit depth in IHDR")
        #expect(sixteen.problem == nil)
        #expect(sixteen.record?.pdq != nil)
        #expect(sixteen.record?.pdq == eight.record?.pdq)
    }

    @Test("a JPEG with extraneous bytes before a marker (a libjpeg warning) still hashes, as with Pillow")
    func jpegWarningTolerated() throws {
        // given a clean JPEG and a copy with 3 junk bytes inserted after the APP0 segment
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try TestImages.write(TestImages.photoLike(width: 96, height: 64, seed: 2), to: dir.file("clean.jpg"))
        let clean = try dir.bytes(of: "clean.jpg")
        let app0Length = Int(clean[4]) << 8 | Int(clean[5])
        let cut = 4 + app0Length
        try dir.write(Array(clean[..<cut]) + [0x00, 0x11, 0x22] + Array(clean[cut...]), to: "junk.jpg")
        for decoder in [HashOptions.JPEGDecoder.turboJPEG, .vips] {
            // when
            let hasher = FileHasher(options: HashOptions(content: .pdqOnly, jpegDecoder: decoder))
            let expected = hasher.hash(path: dir.file("clean.jpg"))
            let outcome = hasher.hash(path: dir.file("junk.jpg"))
            // then
            #expect(outcome.problem == nil, "\(decoder)")
            #expect(outcome.record?.pdq != nil && outcome.record?.pdq == expected.record?.pdq, "\(decoder)")
        }
    }

    @Test("JPEG decoded by TurboJPEG and by libvips gives the same hash in exact mode")
    func jpegDecodersAgree() throws {
        // given
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try TestImages.write(TestImages.shapes(width: 257, height: 181), to: dir.file("s.jpg"))
        try TestImages.write(TestImages.noise(width: 64, height: 48, bands: 1), to: dir.file("g.jpg"))
        for name in ["s.jpg", "g.jpg"] {
            // when
            let turbo = FileHasher(options: HashOptions(jpegDecoder: .turboJPEG)).hash(path: dir.file(name))
            let vips = FileHasher(options: HashOptions(jpegDecoder: .vips)).hash(path: dir.file(name))
            // then
            #expect(turbo.record?.pdq != nil)
            #expect(turbo == vips, "\(name)")
        }
    }

    @Test(
        "a file that cannot be opened is one problem and the batch goes on",
        .enabled(if: geteuid() != 0, "runs as root here: chmod 000 does not stop root from reading"))
    func unreadableFile() throws {
        // given
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write(Array("secret".utf8), to: "locked.txt")
        try dir.write(Array("open".utf8), to: "open.txt")
        #expect(chmod(dir.file("locked.txt"), 0) == 0)
        // when
        let report = HashRun.runBlocking(paths: [dir.path], options: HashOptions())
        // then
        #expect(report.problems.map(\.path) == [dir.file("locked.txt")])
        #expect(report.records.map(\.path) == [dir.file("open.txt")])
    }

    @Test("a missing path on the command line is one problem")
    func missingRoot() {
        // when
        let report = HashRun.runBlocking(paths: ["/nonexistent/vigil-test-path"], options: HashOptions())
        // then
        #expect(report.records.isEmpty)
        #expect(report.problems.count == 1)
        #expect(report.problems.first?.line.contains("No such file") == true)
    }
}
