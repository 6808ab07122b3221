import CVips
import Foundation

/// Benign synthetic images for tests: noise, gradients and shapes, written with libvips.
enum TestImages {
    /// Interleaved 8-bit pixels.
    struct Pixels {
        var width: Int
        var height: Int
        var bands: Int
        var bytes: [UInt8]
    }

    /// Deterministic noise (a fixed linear congruential generator, so tests never read a random source).
    static func noise(width: Int, height: Int, bands: Int = 3, seed: UInt64 = 1) -> Pixels {
        var state = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        var bytes = [UInt8](repeating: 0, count: width * height * bands)
        for i in bytes.indices {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            bytes[i] = UInt8(truncatingIfNeeded: state >> 33)
        }
        return Pixels(width: width, height: height, bands: bands, bytes: bytes)
    }

    /// A smooth diagonal colour gradient with a few bright discs on it (a photo-like smooth field).
    static func shapes(width: Int, height: Int, bands: Int = 3) -> Pixels {
        var bytes = [UInt8](repeating: 0, count: width * height * bands)
        let discs = [(0.3, 0.4, 0.15), (0.7, 0.6, 0.2), (0.5, 0.2, 0.08)]
        for y in 0..<height {
            for x in 0..<width {
                let fx = Double(x) / Double(width)
                let fy = Double(y) / Double(height)
                var value = [fx * 200 + 20, fy * 180 + 30, (1 - fx) * 120 + fy * 60]
                for (cx, cy, r) in discs where (fx - cx) * (fx - cx) + (fy - cy) * (fy - cy) < r * r {
                    value = [250 - value[0] / 3, 240 - value[1] / 4, 60 + value[2] / 2]
                }
                for band in 0..<bands {
                    bytes[(y * width + x) * bands + band] = UInt8(max(0, min(255, value[band % 3])))
                }
            }
        }
        return Pixels(width: width, height: height, bands: bands, bytes: bytes)
    }

    /// A photo-like image: a smooth field interpolated from a coarse random 8x6 colour grid, a few flat discs,
    /// and mild noise (the same recipe as bench/hash/bench.py).
    static func photoLike(width: Int, height: Int, seed: UInt64) -> Pixels {
        let grid = noise(width: 8, height: 6, bands: 3, seed: seed).bytes
        let grain = noise(width: width, height: height, bands: 1, seed: seed &+ 1000).bytes
        var bytes = [UInt8](repeating: 0, count: width * height * 3)
        let discs = (0..<4).map { i -> (Double, Double, Double, Int) in
            let g = Int(grid[(i * 7) % grid.count])
            return (
                Double(g % 97) / 97, Double(grid[(i * 11 + 3) % grid.count] % 89) / 89, 0.05 + Double(g % 13) / 80, g
            )
        }
        for y in 0..<height {
            for x in 0..<width {
                let gx = Double(x) / Double(width - 1) * 7
                let gy = Double(y) / Double(height - 1) * 5
                let x0 = min(Int(gx), 6)
                let y0 = min(Int(gy), 4)
                let fx = gx - Double(x0)
                let fy = gy - Double(y0)
                let n = Double(Int(grain[y * width + x] % 13) - 6)
                for band in 0..<3 {
                    func at(_ cx: Int, _ cy: Int) -> Double { Double(grid[(cy * 8 + cx) * 3 + band]) }
                    var value =
                        (at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx) * (1 - fy)
                        + (at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx) * fy
                    let u = Double(x) / Double(width)
                    let v = Double(y) / Double(height)
                    for (cx, cy, r, colour) in discs where (u - cx) * (u - cx) + (v - cy) * (v - cy) < r * r {
                        value = Double((colour * (band + 3)) % 256)
                    }
                    bytes[(y * width + x) * 3 + band] = UInt8(max(0, min(255, value + n)))
                }
            }
        }
        return Pixels(width: width, height: height, bands: 3, bytes: bytes)
    }

    enum WriteError: Error { case vips(String) }

    /// Writes `pixels` to `path`; the format follows the suffix (.png, .jpg, .gif, .webp, .tif, …).
    static func write(_ pixels: Pixels, to path: String) throws {
        guard vigil_vips_init() == 0 else { throw WriteError.vips("init") }
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let image = pixels.bytes.withUnsafeBytes { raw in
            vips_image_new_from_memory_copy(
                raw.baseAddress, raw.count, Int32(pixels.width), Int32(pixels.height), Int32(pixels.bands),
                VIPS_FORMAT_UCHAR)
        }
        guard let image else { throw WriteError.vips("new_from_memory") }
        defer { vigil_vips_unref(image) }
        guard vigil_vips_write_file(image, path) == 0 else { throw WriteError.vips("write \(path)") }
    }

    /// Writes `pixels` as 16 bits per sample (each 8-bit value v becomes v * 257), e.g. a 16-bit PNG.
    static func write16(_ pixels: Pixels, to path: String) throws {
        guard vigil_vips_init() == 0 else { throw WriteError.vips("init") }
        let wide = pixels.bytes.map { UInt16($0) * 257 }
        let image = wide.withUnsafeBytes { raw in
            vips_image_new_from_memory_copy(
                raw.baseAddress, raw.count, Int32(pixels.width), Int32(pixels.height), Int32(pixels.bands),
                VIPS_FORMAT_USHORT)
        }
        guard let image else { throw WriteError.vips("new_from_memory") }
        defer { vigil_vips_unref(image) }
        var labelled: UnsafeMutablePointer<VipsImage>?
        let space = pixels.bands >= 3 ? VIPS_INTERPRETATION_RGB16 : VIPS_INTERPRETATION_GREY16
        guard vigil_vips_reinterpret(image, &labelled, space) == 0, let labelled else {
            throw WriteError.vips("copy")
        }
        defer { vigil_vips_unref(labelled) }
        guard vigil_vips_write_file(labelled, path) == 0 else { throw WriteError.vips("write \(path)") }
    }

    /// An uncompressed 24-bit BMP (bottom-up rows, BGR, padded to 4 bytes), written by hand.
    static func bmp(_ pixels: Pixels) -> [UInt8] {
        let rowSize = (pixels.width * 3 + 3) / 4 * 4
        let imageSize = rowSize * pixels.height
        var out: [UInt8] = []
        func le32(_ v: Int) { out += [0, 8, 16, 24].map { UInt8(truncatingIfNeeded: v >> $0) } }
        func le16(_ v: Int) { out += [0, 8].map { UInt8(truncatingIfNeeded: v >> $0) } }
        out += Array("BM".utf8)
        le32(54 + imageSize); le32(0); le32(54)
        le32(40); le32(pixels.width); le32(pixels.height); le16(1); le16(24); le32(0); le32(imageSize)
        le32(2835); le32(2835); le32(0); le32(0)
        for y in (0..<pixels.height).reversed() {
            var row: [UInt8] = []
            for x in 0..<pixels.width {
                let p = (y * pixels.width + x) * pixels.bands
                let rgb =
                    pixels.bands >= 3
                    ? [pixels.bytes[p], pixels.bytes[p + 1], pixels.bytes[p + 2]]
                    : [pixels.bytes[p], pixels.bytes[p], pixels.bytes[p]]
                row += [rgb[2], rgb[1], rgb[0]]
            }
            row += [UInt8](repeating: 0, count: rowSize - row.count)
            out += row
        }
        return out
    }

    /// A PNG signature and a valid IHDR chunk declaring `width` x `height` RGB, then nothing: a bomb's header.
    static func pngHeader(width: Int, height: Int) -> [UInt8] {
        var ihdr: [UInt8] = Array("IHDR".utf8)
        for v in [width, height] { ihdr += [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: v >> $0) } }
        ihdr += [8, 2, 0, 0, 0]
        let crc = crc32(ihdr)
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]
        out += ihdr
        out += [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: crc >> $0) }
        return out
    }

    private static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc >> 1) ^ (crc & 1 == 1 ? 0xEDB8_8320 : 0) }
        }
        return ~crc
    }
}

/// A fresh directory under the system temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let path: String

    init(_ name: String = #function) throws {
        let base = FileManager.default.temporaryDirectory.path
        let safe = name.filter { $0.isLetter || $0.isNumber }
        path = base + "/vigil-media-\(safe)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ relative: String) -> String { path + "/" + relative }

    func write(_ bytes: [UInt8], to relative: String) throws {
        let target = file(relative)
        try FileManager.default.createDirectory(
            atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: target))
    }

    func bytes(of relative: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: file(relative))))
    }

    func remove() {
        // Make everything removable again (a test may have chmod-ed a file to 000).
        _ = try? FileManager.default.removeItem(atPath: path)
    }
}
