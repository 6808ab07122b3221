import Foundation

/// The hash algorithms a national hash set holds.
public enum HashAlgorithm: String, Sendable, Hashable, CaseIterable, Codable {
    /// MD5 digest of the file's bytes (32 hex digits).
    case md5
    /// SHA-1 digest of the file's bytes (40 hex digits).
    case sha1
    /// SHA-256 digest of the file's bytes (64 hex digits).
    case sha256
    /// The 256-bit PDQ perceptual hash (64 hex digits).
    case pdq
    /// A PhotoDNA hash, kept as an opaque typed string (Vigil cannot compute or compare it).
    case photodna

    /// The number of hexadecimal digits a value of this algorithm has, or `nil` for opaque values.
    public var hexLength: Int? {
        switch self {
        case .md5: 32
        case .sha1: 40
        case .sha256, .pdq: 64
        case .photodna: nil
        }
    }
}

/// Why a text could not become a ``HashDigest``.
public enum HashDigestError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The value was empty (or only white space).
    case empty(HashAlgorithm)
    /// The value had the wrong number of characters for its algorithm.
    case wrongLength(HashAlgorithm, expected: Int, actual: Int)
    /// The value contained a character that is not a hexadecimal digit.
    case notHexadecimal(HashAlgorithm)

    /// A short English reason, fit for a rejected-line report.
    public var description: String {
        switch self {
        case .empty(let algorithm): "empty \(algorithm.rawValue) value"
        case .wrongLength(let algorithm, let expected, let actual):
            "\(algorithm.rawValue) value has \(actual) characters, expected \(expected)"
        case .notHexadecimal(let algorithm): "\(algorithm.rawValue) value is not hexadecimal"
        }
    }
}

/// One hash value of one algorithm, normalised: lowercase hexadecimal, or the trimmed opaque text for PhotoDNA.
public struct HashDigest: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The algorithm that produced the value.
    public let algorithm: HashAlgorithm
    /// The normalised value: lowercase hex of the algorithm's length, or trimmed opaque text for PhotoDNA.
    public let value: String

    /// Validates and normalises a textual hash value.
    /// - Parameters:
    ///   - algorithm: The algorithm the value belongs to.
    ///   - text: Hex digits in either case (surrounding white space is ignored), or any non-empty text for PhotoDNA.
    /// - Throws: ``HashDigestError`` when the value is empty, of the wrong length or not hexadecimal.
    public init(_ algorithm: HashAlgorithm, _ text: some StringProtocol) throws(HashDigestError) {
        var string = String(text)
        let result: Result<HashDigest, HashDigestError> = string.withUTF8 { buffer in
            do throws(HashDigestError) {
                return .success(try HashDigest(algorithm, utf8: buffer))
            } catch {
                return .failure(error)
            }
        }
        self = try result.get()
    }

    /// Validates and normalises a hash value given as UTF-8 bytes (the fast path used by streaming readers).
    /// - Parameters:
    ///   - algorithm: The algorithm the value belongs to.
    ///   - bytes: The value's bytes; surrounding spaces and tabs are ignored.
    /// - Throws: ``HashDigestError`` when the value is empty, of the wrong length or not hexadecimal.
    public init(_ algorithm: HashAlgorithm, utf8 bytes: UnsafeBufferPointer<UInt8>) throws(HashDigestError) {
        var start = 0
        var end = bytes.count
        while start < end, Self.isBlank(bytes[start]) { start += 1 }
        while end > start, Self.isBlank(bytes[end - 1]) { end -= 1 }
        guard end > start else { throw .empty(algorithm) }
        guard let length = algorithm.hexLength else {
            let slice = UnsafeBufferPointer(rebasing: bytes[start..<end])
            self.algorithm = algorithm
            self.value = String(decoding: slice, as: UTF8.self)
            return
        }
        guard end - start == length else { throw .wrongLength(algorithm, expected: length, actual: end - start) }
        var valid = true
        let normalised = String(unsafeUninitializedCapacity: length) { out in
            for index in 0..<length {
                let byte = bytes[start + index]
                switch byte {
                case 0x30...0x39, 0x61...0x66: out[index] = byte
                case 0x41...0x46: out[index] = byte | 0x20
                default:
                    out[index] = 0x30
                    valid = false
                }
            }
            return length
        }
        guard valid else { throw .notHexadecimal(algorithm) }
        self.algorithm = algorithm
        self.value = normalised
    }

    /// The algorithm and value, as `md5:0123…`.
    public var description: String { "\(algorithm.rawValue):\(value)" }

    private static func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }
}

/// A categorisation scheme: the numbering a contributor used for a category code.
public struct CategoryScheme: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    /// The scheme's stable identifier, as stored and written in interchange files.
    public let rawValue: String

    /// Creates a scheme from its identifier.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Project VIC's US categories 0–4 (VICS 2.0): 0 non-pertinent, 1 child abuse material (CAM),
    /// 2 child exploitive (non-CAM) / age difficult, 3 CGI/animation – child exploitive, 4 comparison images.
    public static let projectVIC = CategoryScheme(rawValue: "projectvic-us")
    /// The legacy (DHS / early Project VIC) categories 0–5: 0 uncategorised, 1 child exploitation (illegal),
    /// 2 child exploitation (non-illegal / age difficult), 3 CGI/animation, 4 exemplar/comparison, 5 non-pertinent.
    public static let legacy = CategoryScheme(rawValue: "legacy-0-5")
    /// The national scheme the operator configures.
    public static let national = CategoryScheme(rawValue: "national")

    /// The English label of a code in the two built-in Project VIC schemes, or `nil` when unknown.
    public func label(for code: String) -> String? {
        switch self {
        case .projectVIC:
            switch code {
            case "0": "Non-pertinent"
            case "1": "Child abuse material (CAM)"
            case "2": "Child exploitive (non-CAM) / age difficult"
            case "3": "CGI/animation – child exploitive"
            case "4": "Comparison images"
            default: nil
            }
        case .legacy:
            switch code {
            case "0": "Uncategorised"
            case "1": "Child exploitation (illegal)"
            case "2": "Child exploitation (non-illegal / age difficult)"
            case "3": "CGI/animation (child exploitive)"
            case "4": "Exemplar/comparison (internal use only)"
            case "5": "Non-pertinent"
            default: nil
            }
        default: nil
        }
    }

    /// The scheme's identifier.
    public var description: String { rawValue }
}

/// One category a source gave a hash: the scheme, the original code as written, and the national category it maps to.
public struct HashCategory: Sendable, Hashable, Codable {
    /// The scheme the code belongs to.
    public var scheme: CategoryScheme
    /// The code exactly as the source wrote it (kept even when it maps to nothing).
    public var code: String
    /// The national category the operator's mapping gives for `scheme`/`code`, if any.
    public var nationalCategory: String?
    /// Who gave this category (contributor or file name), so conflicting opinions stay apart.
    public var source: String?

    /// Creates a category.
    public init(scheme: CategoryScheme, code: String, nationalCategory: String? = nil, source: String? = nil) {
        self.scheme = scheme
        self.code = code
        self.nationalCategory = nationalCategory
        self.source = source
    }
}

/// The operator's table from (scheme, original code) to a national category.
public struct NationalCategoryMapping: Sendable, Hashable, Codable {
    /// `table[scheme][code]` is the national category for that code.
    public var table: [CategoryScheme: [String: String]]

    /// Creates a mapping table.
    public init(_ table: [CategoryScheme: [String: String]] = [:]) { self.table = table }

    /// The national category for a code, or `nil` when the table has none.
    public func nationalCategory(scheme: CategoryScheme, code: String) -> String? {
        if scheme == .national { return table[scheme]?[code] ?? code }
        return table[scheme]?[code]
    }

    /// A category for `code` in `scheme`, with its national category filled from this table.
    public func category(scheme: CategoryScheme, code: String, source: String?) -> HashCategory {
        HashCategory(
            scheme: scheme, code: code, nationalCategory: nationalCategory(scheme: scheme, code: code), source: source)
    }

    /// A category written `SCHEME:CODE` (as `projectvic-us:1`), or nil when `text` is not of that form.
    public func category(parsing text: some StringProtocol, source: String?) -> HashCategory? {
        let parts = text.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        return category(scheme: CategoryScheme(rawValue: parts[0]), code: parts[1], source: source)
    }
}

/// Where a hash came from, as INTERPOL's ICSE records it.
public struct HashProvenance: Sendable, Hashable, Codable {
    /// The contributor or source (agency, hotline, hash set name).
    public var contributor: String?
    /// Where the material was found (country, place or system).
    public var foundWhere: String?
    /// When the material was found.
    public var foundAt: Date?
    /// The case it belongs to.
    public var caseID: String?
    /// The contributor's media ID or ICSE image ID.
    public var mediaID: String?

    /// Creates a provenance value; every part is optional.
    public init(
        contributor: String? = nil, foundWhere: String? = nil, foundAt: Date? = nil, caseID: String? = nil,
        mediaID: String? = nil
    ) {
        self.contributor = contributor
        self.foundWhere = foundWhere
        self.foundAt = foundAt
        self.caseID = caseID
        self.mediaID = mediaID
    }

    /// Whether no part is set.
    public var isEmpty: Bool {
        contributor == nil && foundWhere == nil && foundAt == nil && caseID == nil && mediaID == nil
    }
}

/// One item of a hash set: the digests of one media item and what is known about it.
///
/// A record may carry several digests of the same file (VICS and ICSE give MD5, SHA-1 and PhotoDNA together) and
/// several categories from several sources; conflicting categories are kept side by side, never overwritten.
public struct HashSetRecord: Sendable, Hashable, Codable {
    /// The digests of the media item, at most one per algorithm; the first is the primary one.
    public var digests: [HashDigest]
    /// Every category any source gave, with its original code.
    public var categories: [HashCategory]
    /// Where the record came from.
    public var provenance: HashProvenance
    /// The series (victim series) name.
    public var seriesName: String?
    /// Whether the victim has been identified.
    public var victimIdentified: Bool?
    /// Whether the offender has been identified.
    public var offenderIdentified: Bool?
    /// Whether the material is known to be distributed.
    public var distributed: Bool?
    /// Whether the material meets the INTERPOL "baseline" (worst of the worst, illegal everywhere).
    public var baseline: Bool?
    /// Whether the hash is known-benign (for example from NIST NSRL) and must never alert.
    public var knownBenign: Bool
    /// Whether the file itself is available to the contributing database (ICSE "File Available").
    public var fileAvailable: Bool?
    /// The file name, when the source gives one.
    public var fileName: String?
    /// The file size in bytes, when the source gives one.
    public var fileSize: Int64?
    /// The media type (MIME type or ICSE media type), when the source gives one.
    public var mediaType: String?
    /// How many times the material was submitted (ICSE "Number of submissions").
    public var submissionCount: Int?
    /// A video's vPDQ frames, as an interchange file carries them. Not part of the stored record (the store keeps
    /// frames with the item, see `HashSetStore.importVideos`), so not encoded, and not merged.
    public var video: VideoFingerprint?

    private enum CodingKeys: String, CodingKey {
        case digests, categories, provenance, seriesName, victimIdentified, offenderIdentified, distributed
        case baseline, knownBenign, fileAvailable, fileName, fileSize, mediaType, submissionCount
    }

    /// Creates a record.
    public init(
        digests: [HashDigest], categories: [HashCategory] = [], provenance: HashProvenance = HashProvenance(),
        seriesName: String? = nil, victimIdentified: Bool? = nil, offenderIdentified: Bool? = nil,
        distributed: Bool? = nil, baseline: Bool? = nil, knownBenign: Bool = false, fileAvailable: Bool? = nil,
        fileName: String? = nil, fileSize: Int64? = nil, mediaType: String? = nil, submissionCount: Int? = nil
    ) {
        self.digests = digests
        self.categories = categories
        self.provenance = provenance
        self.seriesName = seriesName
        self.victimIdentified = victimIdentified
        self.offenderIdentified = offenderIdentified
        self.distributed = distributed
        self.baseline = baseline
        self.knownBenign = knownBenign
        self.fileAvailable = fileAvailable
        self.fileName = fileName
        self.fileSize = fileSize
        self.mediaType = mediaType
        self.submissionCount = submissionCount
    }

    /// The digest of the given algorithm, if the record has one.
    public func digest(_ algorithm: HashAlgorithm) -> HashDigest? {
        digests.first { $0.algorithm == algorithm }
    }

    /// The first digest (the one the record is filed under).
    public var primaryDigest: HashDigest? { digests.first }
}

extension HashSetRecord {
    /// Folds what another source says about the same media item into this record, without losing anything:
    /// digests of algorithms this record lacks are added; every category not already present is appended (so
    /// conflicting categories from different sources stay side by side); flags that either side sets to `true`
    /// stay `true` (an identification, once known, is not undone by a source that does not know it); missing
    /// names, sizes, types and provenance parts are filled in; the larger submission count is kept.
    /// - Parameter other: The other source's record for the same media item.
    /// - Returns: Whether this record changed, so that importing the same file twice reports "unchanged".
    @discardableResult
    public mutating func merge(_ other: HashSetRecord) -> Bool {
        let before = self
        for digest in other.digests where self.digest(digest.algorithm) == nil { digests.append(digest) }
        for category in other.categories where !categories.contains(category) { categories.append(category) }
        func fill<Value>(_ keyPath: WritableKeyPath<HashSetRecord, Value?>) {
            if self[keyPath: keyPath] == nil { self[keyPath: keyPath] = other[keyPath: keyPath] }
        }
        func either(_ keyPath: WritableKeyPath<HashSetRecord, Bool?>) {
            switch (self[keyPath: keyPath], other[keyPath: keyPath]) {
            case (_, true?): self[keyPath: keyPath] = true
            case (nil, let value): self[keyPath: keyPath] = value
            default: break
            }
        }
        either(\.victimIdentified)
        either(\.offenderIdentified)
        either(\.distributed)
        either(\.baseline)
        either(\.fileAvailable)
        knownBenign = knownBenign || other.knownBenign
        fill(\.seriesName)
        fill(\.fileName)
        fill(\.fileSize)
        fill(\.mediaType)
        if let count = other.submissionCount, count > (submissionCount ?? -1) { submissionCount = count }
        if provenance.contributor == nil { provenance.contributor = other.provenance.contributor }
        if provenance.foundWhere == nil { provenance.foundWhere = other.provenance.foundWhere }
        if provenance.foundAt == nil { provenance.foundAt = other.provenance.foundAt }
        if provenance.caseID == nil { provenance.caseID = other.provenance.caseID }
        if provenance.mediaID == nil { provenance.mediaID = other.provenance.mediaID }
        return self != before
    }
}
