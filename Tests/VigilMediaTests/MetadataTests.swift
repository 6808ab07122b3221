import Foundation
import Testing

@testable import VigilMedia

/// Builds little-endian TIFF/EXIF blocks for tests.
enum ExifBuilder {
    struct Entry {
        var tag: Int
        var type: Int
        var count: Int
        var bytes: [UInt8]
    }

    static func ascii(_ tag: Int, _ s: String) -> Entry {
        let b = Array(s.utf8) + [0]
        return Entry(tag: tag, type: 2, count: b.count, bytes: b)
    }
    static func long(_ tag: Int, _ v: Int) -> Entry { Entry(tag: tag, type: 4, count: 1, bytes: le(v, 4)) }
    static func rationals(_ tag: Int, _ values: [(Int, Int)]) -> Entry {
        Entry(tag: tag, type: 5, count: values.count, bytes: values.flatMap { le($0.0, 4) + le($0.1, 4) })
    }
    static func le(_ v: Int, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

    static func size(_ entries: [Entry]) -> Int {
        2 + 12 * entries.count + 4 + entries.reduce(0) { $0 + ($1.bytes.count > 4 ? $1.bytes.count : 0) }
    }

    static func ifd(_ entries: [Entry], at offset: Int) -> [UInt8] {
        var out = le(entries.count, 2)
        var data: [UInt8] = []
        let dataStart = offset + 2 + 12 * entries.count + 4
        for e in entries {
            out += le(e.tag, 2) + le(e.type, 2) + le(e.count, 4)
            if e.bytes.count <= 4 {
                out += e.bytes + Array(repeating: 0, count: 4 - e.bytes.count)
            } else {
                out += le(dataStart + data.count, 4)
                data += e.bytes
            }
        }
        return out + le(0, 4) + data
    }

    /// IFD0 (Make, Model, Software), an EXIF IFD (DateTimeOriginal, BodySerialNumber) and a GPS IFD.
    static func camera() -> [UInt8] {
        let exif = [ascii(0x9003, "2024:05:06 07:08:09"), ascii(0xA431, "SN-0042-TEST")]
        let gps = [
            ascii(1, "S"), rationals(2, [(33, 1), (51, 1), (3600, 100)]), ascii(3, "E"),
            rationals(4, [(151, 1), (12, 1), (0, 1)]),
        ]
        let named = [ascii(0x010F, "TestCam Co"), ascii(0x0110, "Model X100"), ascii(0x0131, "EditorApp 2")]
        let zerothSize = size(named + [long(0x8769, 0), long(0x8825, 0)])
        let exifAt = 8 + zerothSize
        let gpsAt = exifAt + size(exif)
        let zeroth = named + [long(0x8769, exifAt), long(0x8825, gpsAt)]
        return Array("II".utf8) + le(42, 2) + le(8, 4) + ifd(zeroth, at: 8) + ifd(exif, at: exifAt)
            + ifd(gps, at: gpsAt)
    }

    /// A minimal JPEG prefix: SOI, APP1 Exif, then an SOS marker (the scanner stops there).
    static func jpeg(exif tiff: [UInt8]) -> [UInt8] {
        let payload = Array("Exif\0\0".utf8) + tiff
        return [0xFF, 0xD8, 0xFF, 0xE1] + [UInt8((payload.count + 2) >> 8), UInt8((payload.count + 2) & 0xFF)]
            + payload + [0xFF, 0xDA, 0x00, 0x02]
    }
}

@Suite("EXIF and XMP clues")
struct MetadataTests {
    @Test("camera make, model, serial, capture time, software and GPS are read from a JPEG's EXIF")
    func jpegExif() throws {
        let clues = try #require(MetadataReader.clues(in: ExifBuilder.jpeg(exif: ExifBuilder.camera()), type: .jpeg))
        #expect(clues.make == "TestCam Co")
        #expect(clues.model == "Model X100")
        #expect(clues.serialNumber == "SN-0042-TEST")
        #expect(clues.captureTime == "2024:05:06 07:08:09")
        #expect(clues.software == "EditorApp 2")
        #expect(abs(clues.latitude! - -33.86) < 1e-6)
        #expect(abs(clues.longitude! - 151.2) < 1e-6)
        #expect(clues.fields.contains { $0.name == "GPSPosition" && $0.value == "-33.86, 151.2" })
    }

    @Test("XMP fills what EXIF lacks")
    func xmp() throws {
        let packet =
            Array("http://ns.adobe.com/xap/1.0/\0".utf8)
            + Array(
                "<x:xmpmeta><rdf:Description tiff:Make=\"XmpMaker\" aux:SerialNumber=\"XS-9\"><xmp:CreatorTool>Tool &amp; Co</xmp:CreatorTool></rdf:Description></x:xmpmeta>"
                    .utf8)
        let jpeg: [UInt8] =
            [0xFF, 0xD8, 0xFF, 0xE1, UInt8((packet.count + 2) >> 8), UInt8((packet.count + 2) & 0xFF)] + packet
            + [0xFF, 0xD9]
        let clues = try #require(MetadataReader.clues(in: jpeg, type: .jpeg))
        #expect(clues.make == "XmpMaker")
        #expect(clues.serialNumber == "XS-9")
        #expect(clues.software == "Tool & Co")
    }

    @Test("hostile EXIF (loops, offsets past the end, truncation, garbage) never crashes and yields what is sound")
    func hostile() {
        let good = ExifBuilder.camera()
        // every truncation
        for n in stride(from: 0, to: good.count, by: 3) {
            _ = MetadataReader.clues(in: ExifBuilder.jpeg(exif: Array(good.prefix(n))), type: .jpeg)
        }
        // an EXIF IFD pointing back at IFD0, and a GPS pointer far past the end
        let loop = [ExifBuilder.ascii(0x010F, "Loop"), ExifBuilder.long(0x8769, 8), ExifBuilder.long(0x8825, 1 << 30)]
        let tiff = Array("II".utf8) + ExifBuilder.le(42, 2) + ExifBuilder.le(8, 4) + ExifBuilder.ifd(loop, at: 8)
        #expect(MetadataReader.clues(in: ExifBuilder.jpeg(exif: tiff), type: .jpeg)?.make == "Loop")
        // deterministic garbage after a JPEG header
        var state: UInt64 = 42
        for _ in 0..<200 {
            var bytes: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE1, 0x01, 0x00] + Array("Exif\0\0II*\0".utf8)
            for _ in 0..<300 {
                state = state &* 6_364_136_223_846_793_005 &+ 1
                bytes.append(UInt8(truncatingIfNeeded: state >> 33))
            }
            _ = MetadataReader.clues(in: bytes, type: .jpeg)
            _ = MetadataReader.clues(in: bytes, type: .png)
            _ = MetadataReader.clues(in: Array(bytes.dropFirst(10)), type: .tiff)
        }
    }

    @Test("videos are recognised by their container")
    func video() {
        let mp4: [UInt8] = [0, 0, 0, 0x18] + Array("ftypisom".utf8) + Array(repeating: 0, count: 20)
        let heic: [UInt8] = [0, 0, 0, 0x18] + Array("ftypheic".utf8) + Array(repeating: 0, count: 20)
        #expect(mp4.withUnsafeBytes { VideoContainer.sniff($0) } == .mp4)
        #expect(heic.withUnsafeBytes { VideoContainer.sniff($0) } == nil)
        let mkv: [UInt8] = [0x1A, 0x45, 0xDF, 0xA3, 1, 2, 3, 4]
        #expect(mkv.withUnsafeBytes { VideoContainer.sniff($0) } == .matroska)
    }

    @Test("the hasher records clues and file times when asked, from the bytes it reads anyway")
    func hasherRecordsClues() throws {
        let dir = NSTemporaryDirectory() + "vigil-clues-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/photo.jpg"
        try Data(ExifBuilder.jpeg(exif: ExifBuilder.camera())).write(to: URL(fileURLWithPath: path))
        let hasher = FileHasher(options: HashOptions(readsClues: true))
        let outcome = hasher.hash(path: path)
        #expect(outcome.record?.clues?.serialNumber == "SN-0042-TEST")
        #expect((outcome.record?.times?.modified ?? 0) > 1_600_000_000)
        #expect(outcome.problem != nil, "the picture itself is not decodable, which is reported")
        let plain = FileHasher(options: HashOptions()).hash(path: path)
        #expect(plain.record?.clues == nil && plain.record?.times == nil)
    }
}
