/// The kind of a file, decided from its first bytes (never from its name).
public enum MediaType: String, Sendable, CaseIterable {
    case jpeg, png, gif, webp, tiff, bmp, heif, avif
    /// Anything that is not one of the image formats above.
    case other

    /// Whether Vigil decodes this type to compute a perceptual hash.
    public var isImage: Bool { self != .other }

    /// How many leading bytes `sniff` needs to recognise every type.
    public static let sniffLength = 32

    /// Recognises an image format by its magic bytes.
    /// - Parameter header: the first bytes of the file (at least `sniffLength` when the file is that long).
    /// - Returns: the format, or `.other` when no image signature matches.
    public static func sniff(_ header: UnsafeRawBufferPointer) -> MediaType {
        let b = header
        func at(_ offset: Int, _ bytes: [UInt8]) -> Bool {
            guard b.count >= offset + bytes.count else { return false }
            for (i, byte) in bytes.enumerated() where b[offset + i] != byte { return false }
            return true
        }
        if at(0, [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if at(0, [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if at(0, Array("GIF87a".utf8)) || at(0, Array("GIF89a".utf8)) { return .gif }
        if at(0, Array("RIFF".utf8)) && at(8, Array("WEBP".utf8)) { return .webp }
        if at(0, [0x49, 0x49, 0x2A, 0x00]) || at(0, [0x4D, 0x4D, 0x00, 0x2A])
            || at(0, [0x49, 0x49, 0x2B, 0x00]) || at(0, [0x4D, 0x4D, 0x00, 0x2B])
        {
            return .tiff
        }
        if at(0, [0x42, 0x4D]) && b.count >= 18 {
            // "BM" alone is too weak (plain text can start with it): require a known DIB header size.
            let dib = Int(b[14]) | Int(b[15]) << 8 | Int(b[16]) << 16 | Int(b[17]) << 24
            if [12, 16, 40, 52, 56, 64, 108, 124].contains(dib) { return .bmp }
        }
        if at(4, Array("ftyp".utf8)) && b.count >= 12 {
            let brand = String(decoding: b[8..<12], as: UTF8.self)
            switch brand {
            case "avif", "avis": return .avif
            case "heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1": return .heif
            default: return .other
            }
        }
        return .other
    }

    /// Convenience overload for byte arrays.
    public static func sniff(_ header: [UInt8]) -> MediaType {
        header.withUnsafeBytes { sniff($0) }
    }
}

extension MediaType {
    /// The dimensions an image declares in its first bytes, for formats where they sit at a fixed place
    /// (PNG, GIF, BMP, WebP). Lets the decompression-bomb cap refuse a file before any decoder sees it.
    /// - Parameter header: the first `sniffLength` bytes (or the whole file when shorter).
    /// - Returns: `nil` when the format keeps them elsewhere (JPEG, TIFF, HEIF) or the header is short.
    public func declaredDimensions(_ header: UnsafeRawBufferPointer) -> (width: Int, height: Int)? {
        let b = header
        func be32(_ o: Int) -> Int? {
            guard b.count >= o + 4 else { return nil }
            return Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3])
        }
        func le(_ o: Int, _ n: Int) -> Int? {
            guard b.count >= o + n else { return nil }
            return (0..<n).reduce(0) { $0 | Int(b[o + $1]) << (8 * $1) }
        }
        switch self {
        case .png:
            guard let w = be32(16), let h = be32(20) else { return nil }
            return (w, h)
        case .gif:
            guard let w = le(6, 2), let h = le(8, 2) else { return nil }
            return (w, h)
        case .bmp:
            guard let dib = le(14, 4) else { return nil }
            if dib == 12 {
                guard let w = le(18, 2), let h = le(20, 2) else { return nil }
                return (w, h)
            }
            guard let w = le(18, 4), let h = le(22, 4) else { return nil }
            // Heights are signed (negative = top-down rows).
            return (abs(Int(Int32(truncatingIfNeeded: w))), abs(Int(Int32(truncatingIfNeeded: h))))
        case .webp:
            guard b.count >= 30 else { return nil }
            let chunk = String(decoding: b[12..<16], as: UTF8.self)
            switch chunk {
            case "VP8X":
                guard let w = le(24, 3), let h = le(27, 3) else { return nil }
                return (w + 1, h + 1)
            case "VP8L":
                guard let bits = le(21, 4) else { return nil }
                return ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
            case "VP8 ":
                guard let w = le(26, 2), let h = le(28, 2) else { return nil }
                return (w & 0x3FFF, h & 0x3FFF)
            default:
                return nil
            }
        default:
            return nil
        }
    }
}
