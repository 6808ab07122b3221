import Foundation
import PDQ
import VigilCore

/// Output formats of `vigil hash`.
public enum HashFormat: String, Sendable, CaseIterable {
    /// Aligned columns with a header line, for people.
    case text
    /// RFC 4180 CSV with a header line.
    case csv
    /// One JSON object per line (JSON Lines).
    case json
    /// Videos' vPDQ as the reference writes it (`frame,quality,pdq,timestamp` per line); other files left out.
    case vpdq
}

/// Renders hash records; the columns follow the options (digests, PDQ, dihedral variants).
public struct HashFormatter: Sendable {
    public let format: HashFormat
    public let content: HashOptions.Content
    public let dihedral: Bool

    /// Names of the 8 dihedral variants in the reference order; the first is the plain hash.
    public static let dihedralNames = [
        "pdq", "pdq_rot90", "pdq_rot180", "pdq_rot270", "pdq_flipx", "pdq_flipy", "pdq_flipplus1", "pdq_flipminus1",
    ]

    /// A formatter for `format` with the columns `options` asks for.
    public init(format: HashFormat, options: HashOptions) {
        self.format = format
        self.content = options.content
        self.dihedral = options.dihedral && options.content != .digestsOnly
    }

    private var showDigests: Bool { content != .pdqOnly }
    private var showPDQ: Bool { content != .digestsOnly }

    /// The whole output, one line per record, each ending in a newline.
    public func render(_ records: [HashRecord]) -> String {
        switch format {
        case .text: return renderText(records)
        case .csv:
            let video = records.contains { $0.vpdq != nil }
            return ([csvHeader + (video ? Self.csvVideoHeader : "")] + records.map { csvLine($0, video: video) })
                .map { $0 + "\n" }.joined()
        case .json: return records.map { jsonLine($0) + "\n" }.joined()
        case .vpdq:
            let videos = records.filter { $0.vpdq != nil }
            // One video: exactly the reference's file. Several: each under a `# PATH` line.
            return videos.map { r in
                (videos.count > 1 ? "# \(RawPath.display(r.path))\n" : "") + VPDQ.text(r.vpdq?.frames ?? [])
            }.joined()
        }
    }

    // MARK: text

    private func renderText(_ records: [HashRecord]) -> String {
        var header = ["SIZE"]
        if showDigests { header += ["MD5", "SHA1", "SHA256"] }
        if showPDQ { header += ["PDQ", "QUALITY"] }
        if dihedral { header += Self.dihedralNames.dropFirst().map { $0.uppercased() } }
        let video = records.contains { $0.vpdq != nil }
        if video { header.append("VIDEO") }
        header.append("PATH")
        var rows = [header]
        for record in records {
            var row = [String(record.size)]
            if showDigests {
                row += [record.digests?.md5 ?? "-", record.digests?.sha1 ?? "-", record.digests?.sha256 ?? "-"]
            }
            if showPDQ {
                row.append(record.pdq?.hash.hex ?? "-")
                row.append(record.pdq.map { "\($0.quality)" + (record.isLowQuality ? " low" : "") } ?? "-")
            }
            if dihedral {
                let variants = record.dihedral ?? []
                row += (1..<8).map { $0 < variants.count ? variants[$0].hex : "-" }
            }
            if video { row.append(record.vpdq.map(Self.videoSummary) ?? "-") }
            row.append(RawPath.display(record.path))
            rows.append(row)
        }
        let columns = header.count
        var widths = [Int](repeating: 0, count: columns)
        for row in rows {
            for (i, cell) in row.enumerated() where i < columns - 1 { widths[i] = max(widths[i], cell.count) }
        }
        var out = ""
        for row in rows {
            for (i, cell) in row.enumerated() {
                if i == columns - 1 {
                    out += cell
                } else if i == 0 {
                    out += String(repeating: " ", count: widths[i] - cell.count) + cell + "  "
                } else {
                    out += cell + String(repeating: " ", count: widths[i] - cell.count) + "  "
                }
            }
            out += "\n"
        }
        return out
    }

    // MARK: CSV

    /// The CSV header line (without newline).
    public var csvHeader: String {
        var names = ["path", "size"]
        if showDigests { names += ["md5", "sha1", "sha256"] }
        if showPDQ { names += ["pdq", "pdq_quality", "pdq_low_quality"] }
        if dihedral { names += Self.dihedralNames.dropFirst() }
        return names.joined(separator: ",")
    }

    /// One CSV line (without newline).
    /// The columns a CSV gains when it holds videos.
    static let csvVideoHeader = ",video_container,video_codec,video_width,video_height,video_duration,vpdq_frames,vpdq"

    /// "h264 320x240, 10.0 s, 10 frames hashed".
    static func videoSummary(_ v: VideoHash) -> String {
        "\(v.facts.codec) \(v.facts.width)x\(v.facts.height) "
            + (v.facts.duration.map { String(format: "%.1fs", $0) } ?? "?s") + " vpdq:\(v.frames.count)"
    }

    public func csvLine(_ record: HashRecord, video: Bool = false) -> String {
        var cells = [CSVText.quoted(RawPath.display(record.path)), String(record.size)]
        if showDigests {
            cells += [record.digests?.md5 ?? "", record.digests?.sha1 ?? "", record.digests?.sha256 ?? ""]
        }
        if showPDQ {
            cells += [
                record.pdq?.hash.hex ?? "", record.pdq.map { String($0.quality) } ?? "",
                record.pdq == nil ? "" : String(record.isLowQuality),
            ]
        }
        if dihedral {
            let variants = record.dihedral ?? []
            cells += (1..<8).map { $0 < variants.count ? variants[$0].hex : "" }
        }
        if video {
            if let v = record.vpdq {
                // The frames as the reference's lines, separated by spaces (a line has none).
                cells += [
                    CSVText.quoted(v.facts.container), CSVText.quoted(v.facts.codec), String(v.facts.width),
                    String(v.facts.height), v.facts.duration.map { String(format: "%.3f", $0) } ?? "",
                    String(v.frames.count), CSVText.quoted(v.frames.map(\.line).joined(separator: " ")),
                ]
            } else {
                cells += Array(repeating: "", count: 7)
            }
        }
        return cells.joined(separator: ",")
    }

    // MARK: JSON

    /// One JSON object (without newline). Missing values are `null`.
    public func jsonLine(_ record: HashRecord) -> String {
        var fields = [
            "\"path\":" + jsonString(RawPath.display(record.path)), "\"size\":\(record.size)",
            "\"type\":" + jsonString(record.type.rawValue),
        ]
        if let raw = RawPath.base64(record.path) { fields.insert("\"path_base64\":" + jsonString(raw), at: 1) }
        if showDigests {
            fields.append("\"md5\":" + (record.digests.map { jsonString($0.md5) } ?? "null"))
            fields.append("\"sha1\":" + (record.digests.map { jsonString($0.sha1) } ?? "null"))
            fields.append("\"sha256\":" + (record.digests.map { jsonString($0.sha256) } ?? "null"))
        }
        if showPDQ {
            fields.append("\"pdq\":" + (record.pdq.map { jsonString($0.hash.hex) } ?? "null"))
            fields.append("\"pdq_quality\":" + (record.pdq.map { String($0.quality) } ?? "null"))
            fields.append("\"pdq_low_quality\":" + (record.pdq == nil ? "null" : String(record.isLowQuality)))
        }
        if dihedral {
            let list = (record.dihedral ?? []).map { jsonString($0.hex) }.joined(separator: ",")
            fields.append("\"pdq_dihedral\":" + (record.dihedral == nil ? "null" : "[" + list + "]"))
        }
        if let v = record.vpdq {
            let f = v.facts
            fields.append(
                "\"video\":{\"container\":\(jsonString(f.container)),\"codec\":\(jsonString(f.codec)),"
                    + "\"width\":\(f.width),\"height\":\(f.height),\"frame_rate\":\(f.frameRate),"
                    + "\"duration\":\(f.duration.map { String($0) } ?? "null"),\"frames_decoded\":\(v.decodedFrames),"
                    + "\"frames_skipped\":\(v.skippedFrames),\"vpdq\":["
                    + v.frames.map { jsonString($0.line) }.joined(separator: ",") + "]}")
        }
        return "{" + fields.joined(separator: ",") + "}"
    }
}

/// A JSON string literal with the escapes RFC 8259 requires.
func jsonString(_ value: String) -> String {
    var out = "\""
    for scalar in value.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20:
            let hex = String(scalar.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

extension String {
    fileprivate func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for character in self { if character == target { out += replacement } else { out.append(character) } }
        return out
    }
}
