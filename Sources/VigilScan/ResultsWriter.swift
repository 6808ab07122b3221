import Foundation
import VigilCore
import VigilMedia

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

    /// ISO 8601 in UTC with seconds.
    static func timestamp(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: date)
    }

    /// The scan's parameters, as every output states them.
    var parameters: [(String, String)] {
        let c = configuration
        var out: [(String, String)] = [
            ("case", c.caseID), ("examiner", c.examiner), ("path", c.root), ("host", c.host),
            ("tool", "\(c.tool) \(c.toolVersion)"), ("started", Self.timestamp(started)),
            ("finished", Self.timestamp(finished)), ("hash set", c.hashSet), ("PDQ radius", String(c.radius)),
            ("jobs", String(c.jobs)), ("max pixels", String(c.maxPixels)),
            ("image decode", c.fastDecode ? "fast (reduced size)" : "exact (full size)"), ("thumbnails", c.thumbnails ? "yes" : "no"),
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
        var scan: [String: Any] = [
            "case": c.caseID, "examiner": c.examiner, "path": c.root, "host": c.host, "tool": c.tool,
            "tool_version": c.toolVersion, "started": ReportContext.timestamp(context.started),
            "finished": ReportContext.timestamp(context.finished), "hash_set": c.hashSet, "radius": c.radius,
            "jobs": c.jobs, "max_pixels": c.maxPixels, "fast_decode": c.fastDecode,
        ]
        scan["hash_set_details"] = c.hashSetDetails
        let s = context.summary
        let summary: [String: Any] = [
            "files": s.files, "bytes": s.bytes, "classes": s.classes, "categories": s.categories,
            "problems": s.problems, "duplicate_groups": s.duplicateGroups, "seconds": s.seconds,
        ]
        let files = context.results.map(fileObject)
        let problems = context.problems.map { ["path": $0.path, "reason": $0.reason] }
        let root: [String: Any] = ["scan": scan, "summary": summary, "files": files, "problems": problems]
        let data =
            (try? JSONSerialization.data(withJSONObject: root, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    static func fileObject(_ r: ScanResult) -> [String: Any] {
        let f = r.file
        var o: [String: Any] = ["path": f.path, "size": f.size, "type": f.type, "class": r.fileClass.rawValue]
        o["md5"] = f.md5
        o["sha1"] = f.sha1
        o["sha256"] = f.sha256
        o["pdq"] = f.pdq
        o["pdq_quality"] = f.pdqQuality
        o["video"] = f.video
        o["priority"] = r.priority
        o["review_rank"] = r.reviewRank
        o["duplicate_group"] = r.duplicateGroup
        o["problem"] = f.problem
        if let t = f.times {
            o["modified"] = ReportContext.timestamp(Date(timeIntervalSince1970: t.modified))
            o["accessed"] = ReportContext.timestamp(Date(timeIntervalSince1970: t.accessed))
            o["changed"] = ReportContext.timestamp(Date(timeIntervalSince1970: t.changed))
        }
        if let clues = f.clues {
            var e: [String: Any] = [:]
            e["make"] = clues.make
            e["model"] = clues.model
            e["serial_number"] = clues.serialNumber
            e["lens_serial_number"] = clues.lensSerialNumber
            e["capture_time"] = clues.captureTime
            e["software"] = clues.software
            e["latitude"] = clues.latitude
            e["longitude"] = clues.longitude
            e["altitude"] = clues.altitude
            e["image_unique_id"] = clues.imageUniqueID
            o["clues"] = e
        }
        if !r.hits.isEmpty {
            o["matches"] = r.hits.map { h -> [String: Any] in
                var m: [String: Any] = [
                    "item": h.item, "distance": h.distance, "matched_algorithm": h.matched.algorithm.rawValue,
                    "matched": h.matched.value, "categories": h.categoryLabel, "known_benign": h.record.knownBenign,
                ]
                m["series"] = h.record.seriesName
                m["contributor"] = h.record.provenance.contributor
                m["case"] = h.record.provenance.caseID
                m["baseline"] = h.record.baseline
                return m
            }
        }
        return o
    }

    static let csvHeader = [
        "path", "size", "type", "class", "priority", "review_rank", "md5", "sha1", "sha256", "pdq", "pdq_quality",
        "match_item", "match_distance", "match_categories", "match_series", "duplicate_group", "make", "model",
        "serial_number", "capture_time", "latitude", "longitude", "software", "modified", "problem",
    ]

    /// One row per file, with the first (nearest) match and the main clues.
    static func csv(_ context: ReportContext) -> String {
        var out = csvHeader.joined(separator: ",") + "\n"
        for r in context.results {
            let f = r.file
            let h = r.hits.first
            let row: [String] = [
                f.path, String(f.size), f.video ?? f.type, r.fileClass.rawValue, r.priority.map(String.init) ?? "",
                r.reviewRank.map(String.init) ?? "", f.md5 ?? "", f.sha1 ?? "", f.sha256 ?? "", f.pdq ?? "",
                f.pdqQuality.map(String.init) ?? "", h?.item ?? "", h.map { String($0.distance) } ?? "",
                h?.categoryLabel ?? "", h?.record.seriesName ?? "", r.duplicateGroup.map(String.init) ?? "",
                f.clues?.make ?? "", f.clues?.model ?? "", f.clues?.serialNumber ?? "", f.clues?.captureTime ?? "",
                f.clues?.latitude.map { MediaClues.degreesText($0) } ?? "",
                f.clues?.longitude.map { MediaClues.degreesText($0) } ?? "", f.clues?.software ?? "",
                f.times.map { ReportContext.timestamp(Date(timeIntervalSince1970: $0.modified)) } ?? "",
                f.problem ?? "",
            ]
            out += row.map(csvField).joined(separator: ",") + "\n"
        }
        return out
    }

    /// RFC 4180 quoting; a field starting with = + - @ gets a leading quote so spreadsheets never run it.
    static func csvField(_ s: String) -> String {
        var v = s
        if let first = v.first, "=+-@\t\r".contains(first) { v = "'" + v }
        if v.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return v
    }

    /// VICS 2.0 Media for every new media file (and near match: new items of known series), for categorisation
    /// and contribution. Standard keys (MD5, SHA1, SHA256, MediaSize, MimeType, MediaFiles with FileName and
    /// FilePath) plus Vigil's own: PDQ, Exifs (name/value pairs), and the case in `Comments`.
    static func vics(_ context: ReportContext) -> String {
        var media: [[String: Any]] = []
        var id = 0
        for r in context.results where r.fileClass == .newMedia || r.fileClass == .nearMatch {
            let f = r.file
            guard let md5 = f.md5, let sha1 = f.sha1 else { continue }
            id += 1
            var m: [String: Any] = ["MediaID": id, "MD5": md5.uppercased(), "SHA1": sha1.uppercased(), "MediaSize": f.size]
            m["SHA256"] = f.sha256?.uppercased()
            m["PDQ"] = f.pdq
            m["MimeType"] = f.mimeType
            var file: [String: Any] = ["FileName": f.name, "FilePath": f.folder]
            if let t = f.times {
                file["Modified"] = ReportContext.timestamp(Date(timeIntervalSince1970: t.modified))
                file["Accessed"] = ReportContext.timestamp(Date(timeIntervalSince1970: t.accessed))
                file["Changed"] = ReportContext.timestamp(Date(timeIntervalSince1970: t.changed))
            }
            m["MediaFiles"] = [file]
            if let clues = f.clues {
                m["Exifs"] = clues.fields.map { ["PropertyName": $0.name, "PropertyValue": $0.value] }
            }
            var comment = "case \(context.configuration.caseID); found by \(context.configuration.examiner)"
            comment += " on \(ReportContext.timestamp(context.started))"
            if r.fileClass == .nearMatch, let h = r.hits.first {
                comment += "; near match of \(h.item) (distance \(h.distance))"
            }
            m["Comments"] = comment
            media.append(m)
        }
        let root: [String: Any] = [
            "@odata.context": "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media",
            "value": media,
        ]
        let data =
            (try? JSONSerialization.data(
                withJSONObject: root, options: [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted])) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}

extension MediaClues {
    /// Decimal degrees with six decimals.
    static func degreesText(_ value: Double) -> String { String(format: "%.6f", value) }
}
