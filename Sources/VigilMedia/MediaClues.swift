/// Facts a file carries about where it came from, read from its metadata without decoding or showing any picture:
/// the camera (make, model, serial numbers), the capture time, the GPS position and the software, from EXIF and
/// XMP. Examiners use them to find victims and offenders (the same camera serial across cases, a place).
public struct MediaClues: Sendable, Equatable, Codable {
    /// Camera maker (EXIF `Make`, XMP `tiff:Make`).
    public var make: String?
    /// Camera model (EXIF `Model`, XMP `tiff:Model`).
    public var model: String?
    /// Camera body serial number (EXIF `BodySerialNumber`, DNG `CameraSerialNumber`, XMP `aux:SerialNumber`).
    public var serialNumber: String?
    /// Lens serial number (EXIF `LensSerialNumber`, XMP `aux:LensSerialNumber`).
    public var lensSerialNumber: String?
    /// When the picture was taken, as the file writes it (EXIF `DateTimeOriginal` "YYYY:MM:DD HH:MM:SS", else
    /// `DateTime`, or XMP `exif:DateTimeOriginal` / `xmp:CreateDate`).
    public var captureTime: String?
    /// The editing or producing software (EXIF `Software`, XMP `xmp:CreatorTool`).
    public var software: String?
    /// GPS latitude in decimal degrees (south negative).
    public var latitude: Double?
    /// GPS longitude in decimal degrees (west negative).
    public var longitude: Double?
    /// GPS altitude in metres (below sea level negative).
    public var altitude: Double?
    /// A unique image identifier (EXIF `ImageUniqueID`, XMP `xmpMM:DocumentID`).
    public var imageUniqueID: String?

    /// Clues with the given fields.
    public init(
        make: String? = nil, model: String? = nil, serialNumber: String? = nil, lensSerialNumber: String? = nil,
        captureTime: String? = nil, software: String? = nil, latitude: Double? = nil, longitude: Double? = nil,
        altitude: Double? = nil, imageUniqueID: String? = nil
    ) {
        self.make = make
        self.model = model
        self.serialNumber = serialNumber
        self.lensSerialNumber = lensSerialNumber
        self.captureTime = captureTime
        self.software = software
        self.latitude = latitude
        self.longitude = longitude
        self.altitude = altitude
        self.imageUniqueID = imageUniqueID
    }

    /// Whether no field is set.
    public var isEmpty: Bool { self == MediaClues() }

    /// The fields that are set, as (name, value) pairs in a fixed order, for reports.
    public var fields: [(name: String, value: String)] {
        var out: [(String, String)] = []
        func add(_ name: String, _ value: String?) { if let value, !value.isEmpty { out.append((name, value)) } }
        add("Make", make)
        add("Model", model)
        add("BodySerialNumber", serialNumber)
        add("LensSerialNumber", lensSerialNumber)
        add("DateTimeOriginal", captureTime)
        add("Software", software)
        if let latitude, let longitude {
            add("GPSPosition", "\(Self.degrees(latitude)), \(Self.degrees(longitude))")
        }
        add("GPSAltitude", altitude.map { "\(Self.degrees($0)) m" })
        add("ImageUniqueID", imageUniqueID)
        return out
    }

    /// Fills every field this value lacks from `other` (EXIF first, then XMP).
    mutating func fill(from other: MediaClues) {
        make = make ?? other.make
        model = model ?? other.model
        serialNumber = serialNumber ?? other.serialNumber
        lensSerialNumber = lensSerialNumber ?? other.lensSerialNumber
        captureTime = captureTime ?? other.captureTime
        software = software ?? other.software
        if latitude == nil || longitude == nil {
            latitude = other.latitude
            longitude = other.longitude
        }
        altitude = altitude ?? other.altitude
        imageUniqueID = imageUniqueID ?? other.imageUniqueID
    }

    /// Six decimals (about 10 cm), without a trailing run of zeros.
    static func degrees(_ value: Double) -> String {
        let scaled = (value * 1_000_000).rounded() / 1_000_000
        var text = String(scaled)
        if text.hasSuffix(".0") { text.removeLast(2) }
        return text
    }
}

/// A file's times as the file system records them (seconds since 1970, UTC), taken before the file was read.
public struct FileTimes: Sendable, Equatable, Codable {
    /// Last content modification (`st_mtime`).
    public var modified: Double
    /// Last access (`st_atime`), as found: Vigil opens files with `O_NOATIME` where it may, so it does not move it.
    public var accessed: Double
    /// Last status change (`st_ctime`).
    public var changed: Double

    /// Times with the given values.
    public init(modified: Double, accessed: Double, changed: Double) {
        self.modified = modified
        self.accessed = accessed
        self.changed = changed
    }
}

/// The container of a video file, recognised by its first bytes (videos are not decoded: they are new media to
/// review when no digest matches).
public enum VideoContainer: String, Sendable, Codable, CaseIterable {
    case mp4, quicktime, avi, matroska, flv, asf, mpeg

    /// Recognises a video container by its magic bytes, or `nil`.
    public static func sniff(_ b: UnsafeRawBufferPointer) -> VideoContainer? {
        func at(_ offset: Int, _ bytes: [UInt8]) -> Bool {
            guard b.count >= offset + bytes.count else { return false }
            for (i, byte) in bytes.enumerated() where b[offset + i] != byte { return false }
            return true
        }
        if at(4, Array("ftyp".utf8)), b.count >= 12 {
            let brand = String(decoding: b[8..<12], as: UTF8.self)
            if brand == "qt  " { return .quicktime }
            // Stills in the same box format (HEIF, AVIF, Canon's CR3 raw) are not videos.
            let images = ["avif", "avis", "heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1", "crx "]
            return images.contains(brand) ? nil : .mp4
        }
        if at(4, Array("moov".utf8)) || at(4, Array("mdat".utf8)) || at(4, Array("wide".utf8)) { return .quicktime }
        if at(0, Array("RIFF".utf8)) && at(8, Array("AVI ".utf8)) { return .avi }
        if at(0, [0x1A, 0x45, 0xDF, 0xA3]) { return .matroska }
        if at(0, Array("FLV".utf8)) && b.count > 3 && b[3] == 1 { return .flv }
        if at(0, [0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11]) { return .asf }
        if at(0, [0x00, 0x00, 0x01, 0xBA]) || at(0, [0x00, 0x00, 0x01, 0xB3]) { return .mpeg }
        return nil
    }
}
