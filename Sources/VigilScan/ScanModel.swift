import Foundation
import PDQ
import VigilCore
import VigilMatch
import VigilMedia

/// The national hash set (or hash-list files) as `vigil scan` consults it.
///
/// `VigilScan` does not know where the set lives: `vigil scan` adapts the server's matcher (database or `--against`
/// files) to this protocol, and tests give an in-memory set.
public protocol KnownSet: Sendable {
    /// Every known item matching each query: exact digests exactly (distance 0), PDQ hashes within `radius`.
    /// Known-benign items are returned too, flagged in their record.
    /// - Returns: One list per query, in query order.
    func match(_ queries: [HashDigest], radius: Int) async throws -> [[KnownHit]]

    /// The known videos each video shows (vPDQ, under `rule`), best first. A set without video records answers none.
    func matchVideos(_ videos: [[VideoFrame]], rule: VideoMatchRule) async throws -> [[KnownVideoHit]]
}

extension KnownSet {
    public func matchVideos(_ videos: [[VideoFrame]], rule: VideoMatchRule) async throws -> [[KnownVideoHit]] {
        videos.map { _ in [] }
    }
}

/// A known video a video file shows: how much of each, and where.
public struct KnownVideoHit: Sendable, Equatable, Codable {
    /// The item's reference in the set.
    public var item: String
    public var record: HashSetRecord
    public var comparison: VideoComparison
    /// Stretches of the file (seconds) that show stretches of the known video.
    public var ranges: [MatchedRange]

    public init(item: String, record: HashSetRecord, comparison: VideoComparison, ranges: [MatchedRange]) {
        self.item = item
        self.record = record
        self.comparison = comparison
        self.ranges = ranges
    }

    /// The categories and provenance, as for image hits.
    var asKnownHit: KnownHit {
        KnownHit(item: item, record: record, distance: 0, matched: record.primaryDigest ?? record.digests[0])
    }
    public var categoryLabel: String { asKnownHit.categoryLabel }
    public var provenanceLabel: String { asKnownHit.provenanceLabel }

    /// "100% of the file's frames, 37% of item-12's; 0:00–0:14 = 0:12–0:26".
    public var summary: String {
        let share = String(
            format: "%.0f%% of the file's frames, %.0f%% of the known video's", comparison.queryShare,
            comparison.targetShare)
        let where_ = ranges.prefix(4).map {
            "\(Self.clock($0.queryStart))–\(Self.clock($0.queryEnd)) of the file = "
                + "\(Self.clock($0.targetStart))–\(Self.clock($0.targetEnd)) of the known video"
        }
        return ([share] + where_).joined(separator: "; ")
    }

    /// Seconds as m:ss (h:mm:ss from an hour).
    public static func clock(_ seconds: Double) -> String { MatchedRange.clock(seconds) }
}

/// One known item a file matched.
public struct KnownHit: Sendable, Equatable, Codable {
    /// The item's reference in the set ("item-12" for the database, "FILE#3" for a hash-list file).
    public var item: String
    /// What the set knows about the item.
    public var record: HashSetRecord
    /// 0 for exact digests; the Hamming distance for PDQ.
    public var distance: Int
    /// The known digest that matched (for PDQ, the known hash, which differs from the file's).
    public var matched: HashDigest

    /// A hit with the given parts.
    public init(item: String, record: HashSetRecord, distance: Int, matched: HashDigest) {
        self.item = item
        self.record = record
        self.distance = distance
        self.matched = matched
    }

    /// "projectvic-us:1; national:A", or "uncategorised".
    public var categoryLabel: String {
        let parts = record.categories.map { c -> String in
            c.nationalCategory.map { "national:\($0)" }
                ?? "\(c.scheme.rawValue):\(c.code)" + (c.scheme.label(for: c.code).map { " (\($0))" } ?? "")
        }
        return parts.isEmpty ? "uncategorised" : parts.joined(separator: "; ")
    }

    /// Contributor, case and series, as known.
    public var provenanceLabel: String {
        var parts: [String] = []
        if let c = record.provenance.contributor { parts.append("from \(c)") }
        if let c = record.provenance.caseID { parts.append("case \(c)") }
        if let s = record.seriesName { parts.append("series \(s)") }
        return parts.joined(separator: ", ")
    }
}

/// What was found about one examined file: its fingerprints and clues (a line of the resume journal).
public struct ScanFile: Sendable, Equatable, Codable {
    /// The path as walked (the scanned PATH joined with the path inside it).
    public var path: String
    /// Bytes read.
    public var size: Int
    /// The modification time seen before reading (seconds since 1970), used by `--resume`.
    public var modified: Double?
    /// The sniffed type (`MediaType` raw value: jpeg, png, …, other).
    public var type: String
    /// The video container, when a non-image file is a video.
    public var video: String?
    public var md5: String?
    public var sha1: String?
    public var sha256: String?
    /// The PDQ hash of an image (first frame of animated ones).
    public var pdq: String?
    public var pdqQuality: Int?
    /// EXIF/XMP clues.
    public var clues: MediaClues?
    /// File system times.
    public var times: FileTimes?
    /// Why the file could not be read or decoded fully, if it could not.
    public var problem: String?
    /// A video's vPDQ frames, the reference's lines.
    public var vpdq: [String]?
    /// A video's duration in seconds, as its container declares it.
    public var duration: Double?

    /// A file with the given parts.
    public init(
        path: String, size: Int, modified: Double? = nil, type: String = "other", video: String? = nil,
        md5: String? = nil, sha1: String? = nil, sha256: String? = nil, pdq: String? = nil, pdqQuality: Int? = nil,
        clues: MediaClues? = nil, times: FileTimes? = nil, problem: String? = nil
    ) {
        self.path = path
        self.size = size
        self.modified = modified
        self.type = type
        self.video = video
        self.md5 = md5
        self.sha1 = sha1
        self.sha256 = sha256
        self.pdq = pdq
        self.pdqQuality = pdqQuality
        self.clues = clues
        self.times = times
        self.problem = problem
    }

    /// The file as `VigilMedia` fingerprinted it.
    public init(path: String, modified: Double?, outcome: FileOutcome) {
        self.init(path: path, size: outcome.record?.size ?? 0, modified: modified)
        if let r = outcome.record {
            type = r.type.rawValue
            video = r.video?.rawValue
            md5 = r.digests?.md5
            sha1 = r.digests?.sha1
            sha256 = r.digests?.sha256
            pdq = r.pdq?.hash.hex
            pdqQuality = r.pdq?.quality
            clues = r.clues
            times = r.times
            vpdq = r.vpdq.map { $0.frames.map(\.line) }
            duration = r.vpdq?.facts.duration
        }
        problem = outcome.problem.map { $0.error.description }
    }

    /// Whether the file is an image or a video (media an examiner reviews).
    public var isMedia: Bool { type != MediaType.other.rawValue || video != nil }

    /// The folder holding the file.
    public var folder: String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The file name.
    public var name: String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// The MIME type of the sniffed type.
    public var mimeType: String? {
        switch type {
        case "jpeg": "image/jpeg"
        case "png": "image/png"
        case "gif": "image/gif"
        case "webp": "image/webp"
        case "tiff": "image/tiff"
        case "bmp": "image/bmp"
        case "heif": "image/heif"
        case "avif": "image/avif"
        default:
            switch video {
            case "mp4": "video/mp4"
            case "quicktime": "video/quicktime"
            case "avi": "video/x-msvideo"
            case "matroska": "video/x-matroska"
            case "flv": "video/x-flv"
            case "asf": "video/x-ms-asf"
            case "mpeg": "video/mpeg"
            default: nil
            }
        }
    }

    /// The digests to look up in the set: MD5, SHA-1, SHA-256, and PDQ when its quality is usable.
    public var queries: [HashDigest] {
        var out: [HashDigest] = []
        if let md5, let d = try? HashDigest(.md5, md5) { out.append(d) }
        if let sha1, let d = try? HashDigest(.sha1, sha1) { out.append(d) }
        if let sha256, let d = try? HashDigest(.sha256, sha256) { out.append(d) }
        if let pdq, (pdqQuality ?? 0) >= HashRecord.minimumUsefulQuality, let d = try? HashDigest(.pdq, pdq) {
            out.append(d)
        }
        return out
    }
}

/// The class `vigil scan` puts every examined file in.
public enum FileClass: String, Sendable, Codable, CaseIterable {
    /// An exact digest (MD5, SHA-1 or SHA-256) of a known item.
    case known
    /// A PDQ hash within the radius of a known item's: likely a new item of a known series, or an altered copy.
    case nearMatch = "near-match"
    /// An image or video the set does not know.
    case newMedia = "new-media"
    /// On a known-benign list (NSRL, the operator's ignore list): set aside.
    case knownBenign = "known-benign"
    /// Everything else (documents, archives, programs, and files that could not be read).
    case other

    /// A heading for reports.
    public var title: String {
        switch self {
        case .known: "Known"
        case .nearMatch: "Near matches"
        case .newMedia: "New media"
        case .knownBenign: "Known-benign (set aside)"
        case .other: "Other files"
        }
    }
}

/// One examined file with its class, the known items behind it, and its place in the review order.
public struct ScanResult: Sendable, Equatable {
    public var file: ScanFile
    public var fileClass: FileClass
    /// Known: the exact hits; near match: the PDQ hits, nearest first; known-benign: the benign hits.
    public var hits: [KnownHit]
    /// 1 near match, 2 new media in a folder that also holds known items, 3 other new media; `nil` otherwise.
    public var priority: Int?
    /// The position in the review order (1 = look at first), for files with a priority.
    public var reviewRank: Int?
    /// The duplicate group (same SHA-256 under several paths), numbered from 1.
    public var duplicateGroup: Int?
    /// The similar-picture group (new media and near matches whose PDQ hashes lie within a few bits of each other:
    /// the same picture re-encoded, resized or renamed), numbered from 1.
    public var similarGroup: Int?
    /// A small greyscale JPEG, with `--thumbnails`, for new media and near matches.
    public var thumbnail: [UInt8]?
    /// A few frames of a new or near-match video as small greyscale JPEGs, with `--thumbnails`.
    public var contactSheet: [[UInt8]]?
    /// Near match: the known videos a video shows (vPDQ), best first.
    public var videoHits: [KnownVideoHit] = []

    /// A result with the given parts.
    public init(
        file: ScanFile, fileClass: FileClass, hits: [KnownHit] = [], priority: Int? = nil, reviewRank: Int? = nil,
        duplicateGroup: Int? = nil
    ) {
        self.file = file
        self.fileClass = fileClass
        self.hits = hits
        self.priority = priority
        self.reviewRank = reviewRank
        self.duplicateGroup = duplicateGroup
    }

    /// Why the file has its priority, in words.
    public var priorityReason: String? {
        switch priority {
        case 1: "near match: likely a new item of a known series"
        case 2: "new media in a folder that also holds known items"
        case 3: "new media"
        default: nil
        }
    }
}

/// One entry that could not be examined (fully), with its reason.
public struct ScanProblem: Sendable, Equatable, Codable {
    public var path: String
    public var reason: String

    /// A problem for `path`.
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
}
