import Foundation

/// Reads ``MediaClues`` from the first bytes of an image: EXIF (JPEG APP1, PNG `eXIf`, WebP `EXIF`, TIFF's own
/// IFD0) and XMP (JPEG APP1, PNG `iTXt`, WebP `XMP `). Hostile input is expected: every offset is checked against
/// the bytes given, IFDs are read at most once each and a bounded number of entries, and nothing here allocates
/// more than the input's size. Metadata past the bytes given (rare: EXIF sits at the start) is not read.
public enum MetadataReader {
    /// The clues in `bytes` (the beginning of a file of type `type`), or `nil` when there are none.
    public static func clues(in bytes: UnsafeRawBufferPointer, type: MediaType) -> MediaClues? {
        var exif: MediaClues?
        var xmp: MediaClues?
        switch type {
        case .jpeg:
            forEachJPEGSegment(bytes) { marker, payload in
                guard marker == 0xE1 else { return }
                if exif == nil, startsWith(payload, Array("Exif\0\0".utf8)) {
                    exif = TIFFReader.clues(UnsafeRawBufferPointer(rebasing: payload[6...]))
                } else if xmp == nil, startsWith(payload, xmpJPEGHeader) {
                    xmp = XMPReader.clues(UnsafeRawBufferPointer(rebasing: payload[xmpJPEGHeader.count...]))
                }
            }
        case .png:
            forEachPNGChunk(bytes) { name, data in
                if name == "eXIf", exif == nil {
                    exif = TIFFReader.clues(data)
                } else if name == "iTXt", xmp == nil, startsWith(data, Array("XML:com.adobe.xmp\0".utf8)) {
                    xmp = XMPReader.clues(data)
                }
            }
        case .webp:
            forEachRIFFChunk(bytes) { name, data in
                if name == "EXIF", exif == nil {
                    // Some writers keep the JPEG "Exif\0\0" prefix.
                    let body =
                        startsWith(data, Array("Exif\0\0".utf8)) ? UnsafeRawBufferPointer(rebasing: data[6...]) : data
                    exif = TIFFReader.clues(body)
                } else if name == "XMP ", xmp == nil {
                    xmp = XMPReader.clues(data)
                }
            }
        case .tiff:
            exif = TIFFReader.clues(bytes)
        default:
            break
        }
        var clues = exif ?? MediaClues()
        if let xmp { clues.fill(from: xmp) }
        return clues.isEmpty ? nil : clues
    }

    /// Convenience overload for byte arrays.
    public static func clues(in bytes: [UInt8], type: MediaType) -> MediaClues? {
        bytes.withUnsafeBytes { clues(in: $0, type: type) }
    }

    private static let xmpJPEGHeader = Array("http://ns.adobe.com/xap/1.0/\0".utf8)

    static func startsWith(_ b: UnsafeRawBufferPointer, _ prefix: [UInt8]) -> Bool {
        guard b.count >= prefix.count else { return false }
        for (i, byte) in prefix.enumerated() where b[i] != byte { return false }
        return true
    }

    /// Calls `body` with each marker segment before the image data (stops at SOS or EOI, or on a malformed length).
    private static func forEachJPEGSegment(
        _ b: UnsafeRawBufferPointer, _ body: (UInt8, UnsafeRawBufferPointer) -> Void
    ) {
        var i = 2
        var segments = 0
        while i + 4 <= b.count, segments < 256 {
            guard b[i] == 0xFF else { return }
            let marker = b[i + 1]
            if marker == 0xFF {
                i += 1
                continue
            }
            if marker == 0xD8 || (0xD0...0xD7).contains(marker) || marker == 0x01 {
                i += 2
                continue
            }
            if marker == 0xDA || marker == 0xD9 { return }
            let length = Int(b[i + 2]) << 8 | Int(b[i + 3])
            guard length >= 2, i + 2 + length <= b.count else { return }
            body(marker, UnsafeRawBufferPointer(rebasing: b[(i + 4)..<(i + 2 + length)]))
            i += 2 + length
            segments += 1
        }
    }

    private static func forEachPNGChunk(_ b: UnsafeRawBufferPointer, _ body: (String, UnsafeRawBufferPointer) -> Void) {
        var i = 8
        var chunks = 0
        while i + 12 <= b.count, chunks < 1024 {
            let length = Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3])
            let name = String(decoding: b[(i + 4)..<(i + 8)], as: UTF8.self)
            if name == "IDAT" || name == "IEND" { return }
            guard length >= 0, i + 12 + length <= b.count else { return }
            body(name, UnsafeRawBufferPointer(rebasing: b[(i + 8)..<(i + 8 + length)]))
            i += 12 + length
            chunks += 1
        }
    }

    private static func forEachRIFFChunk(
        _ b: UnsafeRawBufferPointer, _ body: (String, UnsafeRawBufferPointer) -> Void
    ) {
        var i = 12
        var chunks = 0
        while i + 8 <= b.count, chunks < 1024 {
            let name = String(decoding: b[i..<(i + 4)], as: UTF8.self)
            let length = Int(b[i + 4]) | Int(b[i + 5]) << 8 | Int(b[i + 6]) << 16 | Int(b[i + 7]) << 24
            guard i + 8 + length <= b.count else { return }
            body(name, UnsafeRawBufferPointer(rebasing: b[(i + 8)..<(i + 8 + length)]))
            i += 8 + length + (length & 1)
            chunks += 1
        }
    }
}

/// The TIFF structure EXIF is stored in: a byte-order mark, IFD0, and the EXIF and GPS sub-IFDs it points to.
enum TIFFReader {
    static func clues(_ b: UnsafeRawBufferPointer) -> MediaClues? {
        guard b.count >= 8 else { return nil }
        let little: Bool
        switch (b[0], b[1]) {
        case (0x49, 0x49): little = true
        case (0x4D, 0x4D): little = false
        default: return nil
        }
        let reader = Reader(bytes: b, little: little)
        guard reader.u16(2) == 42, let ifd0 = reader.u32(4) else { return nil }
        var clues = MediaClues()
        var visited: Set<Int> = []
        let zeroth = reader.entries(at: ifd0, visited: &visited)
        var exifIFD: Int?
        var gpsIFD: Int?
        for e in zeroth {
            switch e.tag {
            case 0x010F: clues.make = reader.ascii(e)
            case 0x0110: clues.model = reader.ascii(e)
            case 0x0131: clues.software = reader.ascii(e)
            case 0x0132: clues.captureTime = clues.captureTime ?? reader.ascii(e)
            case 0xC62F: clues.serialNumber = reader.ascii(e)
            case 0x8769: exifIFD = reader.offset(e)
            case 0x8825: gpsIFD = reader.offset(e)
            default: break
            }
        }
        if let exifIFD {
            var original: String?
            for e in reader.entries(at: exifIFD, visited: &visited) {
                switch e.tag {
                case 0x9003: original = reader.ascii(e)
                case 0xA431: clues.serialNumber = reader.ascii(e) ?? clues.serialNumber
                case 0xA435: clues.lensSerialNumber = reader.ascii(e)
                case 0xA420: clues.imageUniqueID = reader.ascii(e)
                default: break
                }
            }
            if let original { clues.captureTime = original }
        }
        if let gpsIFD {
            var latRef: String?
            var lonRef: String?
            var lat: Double?
            var lon: Double?
            var altitude: Double?
            var below = false
            for e in reader.entries(at: gpsIFD, visited: &visited) {
                switch e.tag {
                case 1: latRef = reader.ascii(e)
                case 2: lat = reader.degrees(e)
                case 3: lonRef = reader.ascii(e)
                case 4: lon = reader.degrees(e)
                case 5: below = reader.byte(e) == 1
                case 6: altitude = reader.rationals(e).first
                default: break
                }
            }
            if let lat, let lon, (0...90).contains(lat), (0...180).contains(lon) {
                clues.latitude = latRef?.uppercased() == "S" ? -lat : lat
                clues.longitude = lonRef?.uppercased() == "W" ? -lon : lon
            }
            if let altitude, altitude.isFinite { clues.altitude = below ? -altitude : altitude }
        }
        return clues.isEmpty ? nil : clues
    }

    struct Entry {
        var tag: Int
        var type: Int
        var count: Int
        /// Where the value starts: inside the entry when it fits in 4 bytes, else at the offset it holds.
        var valueOffset: Int
    }

    struct Reader {
        let bytes: UnsafeRawBufferPointer
        let little: Bool

        func u16(_ at: Int) -> Int? {
            guard at >= 0, at + 2 <= bytes.count else { return nil }
            return little ? Int(bytes[at]) | Int(bytes[at + 1]) << 8 : Int(bytes[at]) << 8 | Int(bytes[at + 1])
        }

        func u32(_ at: Int) -> Int? {
            guard at >= 0, at + 4 <= bytes.count else { return nil }
            let (a, b, c, d) = (Int(bytes[at]), Int(bytes[at + 1]), Int(bytes[at + 2]), Int(bytes[at + 3]))
            return little ? a | b << 8 | c << 16 | d << 24 : a << 24 | b << 16 | c << 8 | d
        }

        static func size(ofType type: Int) -> Int? {
            switch type {
            case 1, 2, 6, 7: 1
            case 3, 8: 2
            case 4, 9, 11: 4
            case 5, 10, 12: 8
            default: nil
            }
        }

        /// The IFD's entries (at most 512), or none when it was already read or lies outside the bytes.
        func entries(at offset: Int, visited: inout Set<Int>) -> [Entry] {
            guard visited.insert(offset).inserted, let count = u16(offset), count <= 512 else { return [] }
            var out: [Entry] = []
            for k in 0..<count {
                let at = offset + 2 + k * 12
                guard let tag = u16(at), let type = u16(at + 2), let n = u32(at + 4),
                    let size = Self.size(ofType: type)
                else { continue }
                let (total, overflow) = size.multipliedReportingOverflow(by: n)
                guard !overflow, total <= bytes.count else { continue }
                let valueOffset = total <= 4 ? at + 8 : (u32(at + 8) ?? -1)
                guard valueOffset >= 0, valueOffset + total <= bytes.count else { continue }
                out.append(Entry(tag: tag, type: type, count: n, valueOffset: valueOffset))
            }
            return out
        }

        func offset(_ e: Entry) -> Int? {
            guard e.count == 1 else { return nil }
            return e.type == 3 ? u16(e.valueOffset) : u32(e.valueOffset)
        }

        func byte(_ e: Entry) -> Int? {
            guard e.count >= 1, e.type == 1 || e.type == 7 else { return nil }
            return Int(bytes[e.valueOffset])
        }

        /// ASCII (or UNDEFINED, as some writers use) text, trimmed of NULs and spaces, at most 256 characters.
        func ascii(_ e: Entry) -> String? {
            guard e.type == 2 || e.type == 7 || e.type == 1 else { return nil }
            let raw = bytes[e.valueOffset..<(e.valueOffset + min(e.count, 256))]
            let end = raw.firstIndex(of: 0) ?? raw.endIndex
            let text = String(decoding: raw[raw.startIndex..<end], as: UTF8.self)
            let cleaned = String(
                text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F && $0 != "\u{FFFD}" }
            )
            .trimmingSpaces()
            return cleaned.isEmpty ? nil : cleaned
        }

        func rationals(_ e: Entry) -> [Double] {
            guard e.type == 5 || e.type == 10 else { return [] }
            return (0..<min(e.count, 8)).compactMap { k in
                guard let n = u32(e.valueOffset + k * 8), let d = u32(e.valueOffset + k * 8 + 4), d != 0 else {
                    return nil
                }
                if e.type == 10 {
                    return Double(Int32(truncatingIfNeeded: n)) / Double(Int32(truncatingIfNeeded: d))
                }
                return Double(n) / Double(d)
            }
        }

        /// Degrees, minutes, seconds as three rationals.
        func degrees(_ e: Entry) -> Double? {
            let parts = rationals(e)
            guard parts.count >= 3 else { return parts.first }
            let value = parts[0] + parts[1] / 60 + parts[2] / 3600
            return value.isFinite ? value : nil
        }
    }
}

/// A few fields of an XMP packet, found by name (attribute `ns:Name="value"` or element `<ns:Name>value<`); the
/// packet is not parsed as XML, which is enough for these flat values and safe against hostile XML.
enum XMPReader {
    static func clues(_ b: UnsafeRawBufferPointer) -> MediaClues? {
        let text = String(decoding: b.prefix(256 << 10), as: UTF8.self)
        var clues = MediaClues()
        clues.make = value("tiff:Make", in: text)
        clues.model = value("tiff:Model", in: text)
        clues.serialNumber = value("exifEX:BodySerialNumber", in: text) ?? value("aux:SerialNumber", in: text)
        clues.lensSerialNumber = value("exifEX:LensSerialNumber", in: text) ?? value("aux:LensSerialNumber", in: text)
        clues.captureTime =
            value("exif:DateTimeOriginal", in: text) ?? value("photoshop:DateCreated", in: text)
            ?? value("xmp:CreateDate", in: text)
        clues.software = value("xmp:CreatorTool", in: text)
        clues.imageUniqueID = value("exif:ImageUniqueID", in: text) ?? value("xmpMM:DocumentID", in: text)
        if let lat = value("exif:GPSLatitude", in: text).flatMap(coordinate),
            let lon = value("exif:GPSLongitude", in: text).flatMap(coordinate)
        {
            clues.latitude = lat
            clues.longitude = lon
        }
        return clues.isEmpty ? nil : clues
    }

    static func value(_ name: String, in text: String) -> String? {
        if let range = text.range(of: name + "=\"") {
            let rest = text[range.upperBound...]
            if let end = rest.firstIndex(of: "\"") { return clean(rest[..<end]) }
        }
        if let range = text.range(of: "<" + name + ">") {
            let rest = text[range.upperBound...]
            if let end = rest.firstIndex(of: "<") { return clean(rest[..<end]) }
        }
        return nil
    }

    private static func clean(_ s: Substring) -> String? {
        let t = String(s.prefix(256))
            .replacingEntities()
            .trimmingSpaces()
        return t.isEmpty ? nil : t
    }

    /// XMP writes GPS positions as "DD,MM.mmmN" or "DD,MM,SSN".
    static func coordinate(_ text: String) -> Double? {
        guard let hemisphere = text.last, "NSEW".contains(hemisphere) else { return nil }
        let parts = text.dropLast().split(separator: ",").compactMap { Double($0) }
        guard !parts.isEmpty else { return nil }
        var value = parts[0]
        if parts.count > 1 { value += parts[1] / 60 }
        if parts.count > 2 { value += parts[2] / 3600 }
        return hemisphere == "S" || hemisphere == "W" ? -value : value
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\n" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" || l == "\r" { s = s.dropLast() }
        return String(s)
    }

    fileprivate func replacingEntities() -> String {
        guard contains("&") else { return self }
        var out = self
        for (entity, char) in [("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&apos;", "'"), ("&amp;", "&")] {
            out = out.replacingOccurrences(of: entity, with: char)
        }
        return out
    }
}
