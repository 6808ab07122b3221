import Foundation
import VigilCore

extension HashSetFormat {
    /// Guesses the format of a hash list file from its first bytes, for `vigil match --against FILE` without
    /// `--format`: SQLite (NSRL), a JSON object (VICS), an ICSE or Vigil CSV header, ThreatExchange lines, or
    /// md5sum/sha1sum/sha256sum lines by the length of the first hash.
    /// - Returns: The format, or `nil` when the start of the file matches none.
    /// - Throws: ``HashSetFormatError/cannotOpen(path:errno:)`` or ``HashSetFormatError/readFailed(errno:)``.
    public static func detect(path: String) throws(HashSetFormatError) -> HashSetFormat? {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw .cannotOpen(path: path, errno: errno) }
        defer { try? handle.close() }
        let head: Data
        do {
            head = try handle.read(upToCount: 65_536) ?? Data()
        } catch {
            throw .readFailed(errno: EIO)
        }
        return detect(head: [UInt8](head))
    }

    /// Guesses the format from the first bytes of a file (see ``detect(path:)``).
    public static func detect(head: [UInt8]) -> HashSetFormat? {
        var bytes = head[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        if bytes.starts(with: Array("SQLite format 3".utf8)) { return .nsrl }
        let text = String(decoding: bytes, as: UTF8.self)
        let lines = text.split(whereSeparator: \.isNewline).lazy.map { TextFields.trim(String($0)) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        guard let first = lines.first else { return nil }
        if first.hasPrefix("{") { return .vics }
        let lowered = first.lowercased()
        if lowered.hasPrefix("md5;") || lowered.contains(";sha1;") { return .icse }
        // A CSV header names columns; a line whose fields include a hash is data (`pdq,<hex>` is ThreatExchange).
        let fields = lowered.split(separator: ",").map { TextFields.trim(String($0)) }
        let headerNames = Set(fields)
        if !fields.contains(where: Self.looksLikeDigest),
            headerNames.contains("value") || headerNames.contains("md5") || headerNames.contains("sha1")
                || headerNames.contains("sha256") || headerNames.contains("pdq")
        {
            return .csv
        }
        let tokens = first.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" })
        if let type = tokens.first?.lowercased(),
            ["pdq", "photo_pdq", "video_md5", "photo_md5", "signal_type"]
                .contains(type)
        {
            return .te
        }
        if tokens.count >= 2, tokens[0].lowercased() == "md5", tokens[1].count == 32 { return .te }
        if first.hasPrefix("MD5 (") { return .md5sum }
        if first.hasPrefix("SHA1 (") { return .sha1sum }
        if first.hasPrefix("SHA256 (") { return .sha256sum }
        let hex = tokens.first.map { $0.hasPrefix("\\") ? $0.dropFirst() : $0 } ?? ""
        guard hex.allSatisfy(\.isHexDigit) else { return nil }
        switch hex.count {
        case 32: return .md5sum
        case 40: return .sha1sum
        case 64: return .sha256sum
        default: return nil
        }
    }

    /// 32, 40 or 64 hex digits: an MD5, SHA-1, SHA-256 or PDQ value rather than a column name.
    private static func looksLikeDigest(_ field: String) -> Bool {
        [32, 40, 64].contains(field.count) && field.allSatisfy(\.isHexDigit)
    }
}
