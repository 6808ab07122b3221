import Foundation
import VigilCore
import VigilMatch
import VigilMedia

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Everything the output files are rendered from.
public struct ReportContext: Sendable {
    public var configuration: ScanConfiguration
    public var started: Date
    public var finished: Date
    public var summary: ScanSummary
    public var results: [ScanResult]
    public var problems: [ScanProblem]

    /// A context with the given parts.
    public init(
        configuration: ScanConfiguration, started: Date, finished: Date, summary: ScanSummary, results: [ScanResult],
        problems: [ScanProblem]
    ) {
        self.configuration = configuration
        self.started = started
        self.finished = finished
        self.summary = summary
        self.results = results
        self.problems = problems
    }

    /// ISO 8601 in UTC with seconds ("2026-03-14T15:09:26Z"); by hand, as a formatter per call is slow and one
    /// shared formatter is not safe across threads.
    static func timestamp(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var t = tm()
        guard gmtime_r(&seconds, &t) != nil else { return "" }
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : String(v) }
        let year = Int(t.tm_year) + 1900
        let y =
            year >= 0 && year < 1000
            ? String(repeating: "0", count: 4 - String(year).count) + String(year) : String(year)
        return "\(y)-\(two(t.tm_mon + 1))-\(two(t.tm_mday))T\(two(t.tm_hour)):\(two(t.tm_min)):\(two(t.tm_sec))Z"
    }

    /// The scan's parameters, as every output states them.
    var parameters: [(String, String)] {
        let c = configuration
        var out: [(String, String)] = [
            ("case", c.caseID), ("examiner", c.examiner), ("path", c.root), ("host", c.host),
            ("tool", "\(c.tool) \(c.toolVersion)"), ("started", Self.timestamp(started)),
            ("finished", Self.timestamp(finished)), ("hash set", c.hashSet), ("PDQ radius", String(c.radius)),
            ("jobs", String(c.jobs)), ("max pixels", String(c.maxPixels)),
            ("image decode", c.fastDecode ? "fast (reduced size)" : "exact (full size)"),
            ("thumbnails", c.thumbnails ? "yes" : "no"),
        ]
        for (k, v) in c.hashSetDetails.sorted(by: { $0.key < $1.key }) { out.append(("hash set \(k)", v)) }
        return out
    }
}

/// results.json, results.csv and new-media.vics.json.
enum ResultsWriter {
    /// `{"scan": {...}, "summary": {...}, "files": [one object per file], "problems": [...]}`.
    static func json(_ context: ReportContext) -> String {
        let c = context.configuration
        var j = JSONOut(capacity: context.results.count * 600 + 4096)
        j.beginObject()
        j.key("scan")
        j.beginObject()
        j.member("case", c.caseID)
        j.member("examiner", c.examiner)
        j.member("path", c.root)
        j.member("host", c.host)
        j.member("tool", c.tool)
        j.member("tool_version", c.toolVersion)
        j.member("started", ReportContext.timestamp(context.started))
        j.member("finished", ReportContext.timestamp(context.finished))
        j.member("hash_set", c.hashSet)
        j.key("hash_set_details")
        j.beginObject()
        for (k, v) in c.hashSetDetails.sorted(by: { $0.key < $1.key }) { j.member(k, v) }
        j.endObject()
        j.member("radius", c.radius)
        j.member("jobs", c.jobs)
        j.member("max_pixels", c.maxPixels)
        j.member("fast_decode", c.fastDecode)
        j.endObject()
        let s = context.summary
        j.key("summary")
        j.beginObject()
        j.member("files", s.files)
        j.member("bytes", s.bytes)
        j.key("classes")
        j.beginObject()
        for (k, v) in s.classes.sorted(by: { $0.key < $1.key }) { j.member(k, v) }
        j.endObject()
        j.key("categories")
        j.beginObject()
        for (k, v) in s.categories.sorted(by: { $0.key < $1.key }) { j.member(k, v) }
        j.endObject()
        j.member("problems", s.problems)
        j.member("duplicate_groups", s.duplicateGroups)
        j.member("similar_groups", s.similarGroups)
        j.member("seconds", s.seconds)
        j.endObject()
        j.key("files")
        j.beginArray()
        for r in context.results { fileObject(r, into: &j) }
        j.endArray()
        j.key("problems")
        j.beginArray()
        for p in context.problems {
            j.beginObject()
            j.member("path", RawPath.display(p.path))
            if let raw = RawPath.base64(p.path) { j.member("path_base64", raw) }
            j.member("reason", p.reason)
            j.endObject()
        }
        j.endArray()
        j.endObject()
        return j.text + "\n"
    }

    static func fileObject(_ r: ScanResult, into j: inout JSONOut) {
        let f = r.file
        j.beginObject()
        // Shown escaped (\xNN); the exact bytes in base64 when the name is not UTF-8.
        j.member("path", RawPath.display(f.path))
        if let raw = RawPath.base64(f.path) { j.member("path_base64", raw) }
        j.member("size", f.size)
        j.member("type", f.type)
        j.member("video", f.video)
        j.member("class", r.fileClass.rawValue)
        j.member("priority", r.priority)
        j.member("review_rank", r.reviewRank)
        j.member("md5", f.md5)
        j.member("sha1", f.sha1)
        j.member("sha256", f.sha256)
        j.member("pdq", f.pdq)
        j.member("pdq_quality", f.pdqQuality)
        j.member("duplicate_group", r.duplicateGroup)
        j.member("similar_group", r.similarGroup)
        j.member("problem", f.problem)
        if let t = f.times {
            j.member("modified", ReportContext.timestamp(Date(timeIntervalSince1970: t.modified)))
            j.member("accessed", ReportContext.timestamp(Date(timeIntervalSince1970: t.accessed)))
            j.member("changed", ReportContext.timestamp(Date(timeIntervalSince1970: t.changed)))
        }
        if let clues = f.clues {
            j.key("clues")
            j.beginObject()
            j.member("make", clues.make)
            j.member("model", clues.model)
            j.member("serial_number", clues.serialNumber)
            j.member("lens_serial_number", clues.lensSerialNumber)
            j.member("capture_time", clues.captureTime)
            j.member("software", clues.software)
            j.member("latitude", clues.latitude)
            j.member("longitude", clues.longitude)
            j.member("altitude", clues.altitude)
            j.member("image_unique_id", clues.imageUniqueID)
            j.endObject()
        }
        if !r.videoHits.isEmpty {
            j.key("video_matches")
            j.beginArray()
            for h in r.videoHits {
                j.beginObject()
                j.member("item", h.item)
                j.member("query_share", h.comparison.queryShare)
                j.member("video_share", h.comparison.targetShare)
                j.member("categories", h.categoryLabel)
                j.member("series", h.record.seriesName)
                j.member("contributor", h.record.provenance.contributor)
                j.member("case", h.record.provenance.caseID)
                j.key("ranges")
                j.beginArray()
                for x in h.ranges {
                    j.beginObject()
                    j.member("file_start", x.queryStart)
                    j.member("file_end", x.queryEnd)
                    j.member("video_start", x.targetStart)
                    j.member("video_end", x.targetEnd)
                    j.member("frames", x.frames)
                    j.endObject()
                }
                j.endArray()
                j.endObject()
            }
            j.endArray()
        }
        if !r.hits.isEmpty {
            j.key("matches")
            j.beginArray()
            for h in r.hits {
                j.beginObject()
                j.member("item", h.item)
                j.member("distance", h.distance)
                j.member("matched_algorithm", h.matched.algorithm.rawValue)
                j.member("matched", h.matched.value)
                j.member("categories", h.categoryLabel)
                j.member("known_benign", h.record.knownBenign)
                j.member("series", h.record.seriesName)
                j.member("contributor", h.record.provenance.contributor)
                j.member("case", h.record.provenance.caseID)
                j.member("baseline", h.record.baseline)
                j.endObject()
            }
            j.endArray()
        }
        j.endObject()
    }

    static let csvHeader = [
        "path", "size", "type", "class", "priority", "review_rank", "md5", "sha1", "sha256", "pdq", "pdq_quality",
        "match_item", "match_distance", "match_categories", "match_series", "duplicate_group", "make", "model",
        "serial_number", "capture_time", "latitude", "longitude", "software", "modified", "problem", "similar_group",
        "video_match_item", "video_match", "duration",
    ]

    /// One row per file, with the first (nearest) match and the main clues.
    static func csv(_ context: ReportContext) -> String {
        var out = csvHeader.joined(separator: ",") + "\n"
        for r in context.results {
            let f = r.file
            let h = r.hits.first
            let row: [String] = [
                RawPath.display(f.path), String(f.size), f.video ?? f.type, r.fileClass.rawValue,
                r.priority.map(String.init) ?? "",
                r.reviewRank.map(String.init) ?? "", f.md5 ?? "", f.sha1 ?? "", f.sha256 ?? "", f.pdq ?? "",
                f.pdqQuality.map(String.init) ?? "", h?.item ?? "", h.map { String($0.distance) } ?? "",
                h?.categoryLabel ?? "", h?.record.seriesName ?? "", r.duplicateGroup.map(String.init) ?? "",
                f.clues?.make ?? "", f.clues?.model ?? "", f.clues?.serialNumber ?? "", f.clues?.captureTime ?? "",
                f.clues?.latitude.map { MediaClues.degreesText($0) } ?? "",
                f.clues?.longitude.map { MediaClues.degreesText($0) } ?? "", f.clues?.software ?? "",
                f.times.map { ReportContext.timestamp(Date(timeIntervalSince1970: $0.modified)) } ?? "",
                f.problem ?? "", r.similarGroup.map(String.init) ?? "", r.videoHits.first?.item ?? "",
                r.videoHits.first?.summary ?? "", f.duration.map { String(format: "%.3f", $0) } ?? "",
            ]
            out += row.map(CSVText.field).joined(separator: ",") + "\n"
        }
        return out
    }

    /// VICS 2.0 Media for every new media file (and near match: new items of known series), for categorisation
    /// and contribution. Standard keys (MD5, SHA1, SHA256, MediaSize, MimeType, MediaFiles with FileName and
    /// FilePath) plus Vigil's own: PDQ, a video's vPDQ lines and VideoDuration, Exifs (name/value pairs), and the
    /// case in `Comments`.
    static func vics(_ context: ReportContext) -> String {
        var j = JSONOut()
        j.beginObject()
        j.member(
            "@odata.context", "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media")
        j.key("value")
        j.beginArray()
        var id = 0
        let found = " on \(ReportContext.timestamp(context.started))"
        for r in context.results where r.fileClass == .newMedia || r.fileClass == .nearMatch {
            let f = r.file
            guard let md5 = f.md5, let sha1 = f.sha1 else { continue }
            id += 1
            j.beginObject()
            j.member("MediaID", id)
            j.member("MD5", md5.uppercased())
            j.member("SHA1", sha1.uppercased())
            j.member("SHA256", f.sha256?.uppercased())
            j.member("PDQ", f.pdq)
            if let frames = f.vpdq, !frames.isEmpty {
                j.key("vPDQ")
                j.beginArray()
                for line in frames { j.string(line) }
                j.endArray()
                if let duration = f.duration { j.member("VideoDuration", (duration * 1000).rounded() / 1000) }
            }
            j.member("MediaSize", f.size)
            j.member("MimeType", f.mimeType)
            j.key("MediaFiles")
            j.beginArray()
            j.beginObject()
            j.member("FileName", f.name)
            j.member("FilePath", f.folder)
            if let t = f.times {
                j.member("Modified", ReportContext.timestamp(Date(timeIntervalSince1970: t.modified)))
                j.member("Accessed", ReportContext.timestamp(Date(timeIntervalSince1970: t.accessed)))
                j.member("Changed", ReportContext.timestamp(Date(timeIntervalSince1970: t.changed)))
            }
            j.endObject()
            j.endArray()
            if let clues = f.clues {
                j.key("Exifs")
                j.beginArray()
                for field in clues.fields {
                    j.beginObject()
                    j.member("PropertyName", field.name)
                    j.member("PropertyValue", field.value)
                    j.endObject()
                }
                j.endArray()
            }
            var comment = "case \(context.configuration.caseID); found by \(context.configuration.examiner)" + found
            if r.fileClass == .nearMatch, let h = r.hits.first {
                comment += "; near match of \(h.item) (distance \(h.distance))"
            } else if r.fileClass == .nearMatch, let v = r.videoHits.first {
                comment += "; shows \(v.item) (vPDQ: \(v.summary))"
            }
            j.member("Comments", comment)
            j.endObject()
        }
        j.endArray()
        j.endObject()
        return j.text + "\n"
    }
}

extension MediaClues {
    /// Decimal degrees with six decimals.
    static func degreesText(_ value: Double) -> String { String(format: "%.6f", value) }
}
