import Foundation
import VigilCore

/// One hash to look up, with where it came from.
public struct HashInput: Sendable, Hashable {
    /// The hash.
    public let digest: HashDigest
    /// The file the hash was computed from, when the input names one (`vigil hash` output, md5sum lines).
    public let path: String?
    /// The PDQ quality `vigil hash` reported, for PDQ inputs.
    public let quality: Int?
    /// The 1-based line of the input it was read from.
    public let line: Int

    /// Creates an input hash.
    public init(digest: HashDigest, path: String?, quality: Int? = nil, line: Int) {
        self.digest = digest
        self.path = path
        self.quality = quality
        self.line = line
    }
}

/// What ``HashInputParser`` yields: the hashes of one line (a `vigil hash` line gives several), or a rejection.
public enum HashInputItem: Sendable, Hashable {
    /// The hashes found on one line.
    case hashes([HashInput])
    /// A line that held no usable hash.
    case rejected(LineRejection)
}

/// Reads hashes to match from files or stdin, in constant memory.
///
/// Accepted, line by line and mixed freely:
/// - one hash per line, optionally prefixed `algorithm:` or `algorithm ` (`pdq <hex>` as ThreatExchange prints it);
///   32 hex digits are MD5, 40 SHA-1, 64 ``sixtyFourDigitAlgorithm`` (PDQ unless told otherwise);
/// - `md5sum`/`sha1sum`/`sha256sum` lines (`<hex>  <path>`), where 64 digits are SHA-256;
/// - `vigil hash` text output: a header `SIZE [MD5 SHA1 SHA256] [PDQ QUALITY] … PATH` and aligned rows (the path,
///   last, may hold spaces; `-` marks a missing value; `87 low` is a quality); rows without the header are read in
///   the default layout `SIZE MD5 SHA1 SHA256 PDQ QUALITY PATH`;
/// - `vigil hash --format csv`: a header `path,size,md5,sha1,sha256,pdq,pdq_quality,…` (any subset, any order);
/// - `vigil hash --format json`: one object per line with the keys `path`, `md5`, `sha1`, `sha256`, `pdq`,
///   `pdq_quality`.
/// Empty lines and `#` comments are skipped.
public final class HashInputParser {
    private let input: ByteInput
    private let sixtyFourDigitAlgorithm: HashAlgorithm
    private var csvColumns: [String: Int]?
    private var textLayout: (names: [String], pathOffset: Int)?

    /// Reads from a file.
    /// - Parameters:
    ///   - path: The file to read.
    ///   - sixtyFourDigitAlgorithm: What a bare 64-digit hex line is (`.pdq` or `.sha256`).
    /// - Throws: ``HashSetFormatError/cannotOpen(path:errno:)``.
    public init(path: String, sixtyFourDigitAlgorithm: HashAlgorithm = .pdq) throws(HashSetFormatError) {
        self.input = try ByteInput(path: path)
        self.sixtyFourDigitAlgorithm = sixtyFourDigitAlgorithm
    }

    /// Reads from an open descriptor (for example stdin); the caller keeps ownership.
    public init(fileDescriptor: Int32, sixtyFourDigitAlgorithm: HashAlgorithm = .pdq) {
        self.input = ByteInput(fileDescriptor: fileDescriptor, closeWhenDone: false)
        self.sixtyFourDigitAlgorithm = sixtyFourDigitAlgorithm
    }

    /// The hashes of the next line that has any, or a rejected line; `nil` at the end.
    /// - Throws: ``HashSetFormatError/readFailed(errno:)``.
    public func next() throws(HashSetFormatError) -> HashInputItem? {
        while let range = try input.nextLine() {
            let line = input.lineNumber
            if input.lastLineWasTooLong { return reject(line, input.tooLongReason) }
            if csvColumns == nil, textLayout == nil,
                let digest = input.withBytes(range, { Self.bareHash($0, sixtyFour: sixtyFourDigitAlgorithm) })
            {
                return .hashes([HashInput(digest: digest, path: nil, line: line)])
            }
            let text = input.withBytes(range) { String(decoding: $0, as: UTF8.self) }
            let trimmed = TextFields.trim(text)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            if let item = parse(trimmed, raw: text, line: line) { return item }
        }
        return nil
    }

    /// The common line read in place: 64 hex digits, bare or after `pdq:` / `pdq ` (the shapes `vigil match` is
    /// fed by the million). Anything else (`nil`) takes the general path.
    private static func bareHash(_ bytes: UnsafeBufferPointer<UInt8>, sixtyFour: HashAlgorithm) -> HashDigest? {
        var start = 0
        var end = bytes.count
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 || bytes[end - 1] == 0x0D { end -= 1 }
        var algorithm = sixtyFour
        if end - start == 68, bytes[start] | 0x20 == 0x70, bytes[start + 1] | 0x20 == 0x64,
            bytes[start + 2] | 0x20 == 0x71, bytes[start + 3] == 0x3A || bytes[start + 3] == 0x20
        {
            algorithm = .pdq
            start += 4
        }
        guard end - start == 64 else { return nil }
        return try? HashDigest(algorithm, utf8: UnsafeBufferPointer(rebasing: bytes[start..<end]))
    }

    private func reject(_ line: Int, _ reason: String) -> HashInputItem {
        .rejected(LineRejection(line: line, reason: reason))
    }

    private func parse(_ text: String, raw: String, line: Int) -> HashInputItem? {
        if text.hasPrefix("{") { return parseJSON(text, line: line) }
        if text.utf8.first.map({ $0 | 0x20 }) == UInt8(ascii: "p"), text.prefix(5).lowercased() == "path," {
            csvColumns = CSVRecordInput.columnIndex(
                text.split(separator: ",", omittingEmptySubsequences: false).map(String.init))
            return nil
        }
        if let csvColumns {
            let fields = Array(text.utf8).withUnsafeBufferPointer { TextFields.splitCSV($0, separator: 0x2C) }
            guard let fields else { return reject(line, "unterminated quote") }
            func field(_ name: String) -> String? {
                guard let index = csvColumns[name], index < fields.count else { return nil }
                return fields[index]
            }
            return hashes(
                path: field("path"), md5: field("md5"), sha1: field("sha1"), sha256: field("sha256"),
                pdq: field("pdq"), quality: field("pdq_quality") ?? field("quality"), line: line)
        }
        let tokens = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        if tokens.first == "SIZE", tokens.last == "PATH", let pathStart = raw.range(of: "PATH", options: .backwards) {
            textLayout = (
                names: tokens.dropLast().map { $0.lowercased() },
                pathOffset: raw.distance(from: raw.startIndex, to: pathStart.lowerBound)
            )
            return nil
        }
        if let textLayout { return parseTextRow(raw, layout: textLayout, line: line) }
        if tokens.count >= 7, let item = parseDefaultTextRow(text, tokens: tokens, line: line) { return item }
        return parseSingle(text, tokens: tokens, line: line)
    }

    /// A `vigil hash` text row under a header: the path starts where the header's `PATH` starts; the cells before
    /// it follow the header's names (a quality cell may carry a second word, `low`).
    private func parseTextRow(_ raw: String, layout: (names: [String], pathOffset: Int), line: Int) -> HashInputItem {
        guard raw.count > layout.pathOffset else { return reject(line, "row ends before the PATH column") }
        let cells = raw.prefix(layout.pathOffset).split(whereSeparator: { $0 == " " || $0 == "\t" })
            .filter { $0 != "low" }
        guard cells.count == layout.names.count else {
            return reject(line, "\(cells.count) cells before the path, the header names \(layout.names.count)")
        }
        var values: [String: String] = [:]
        for (name, cell) in zip(layout.names, cells) { values[name] = String(cell) }
        return hashes(
            path: String(raw.dropFirst(layout.pathOffset)), md5: values["md5"], sha1: values["sha1"],
            sha256: values["sha256"], pdq: values["pdq"], quality: values["quality"], line: line)
    }

    /// A `vigil hash` text row without its header, in the default layout `SIZE MD5 SHA1 SHA256 PDQ QUALITY PATH`.
    private func parseDefaultTextRow(_ text: String, tokens: [Substring], line: Int) -> HashInputItem? {
        guard Int(tokens[0]) != nil, tokens[1] == "-" || tokens[1].count == 32 else { return nil }
        var last = 5
        if tokens.count > 7, tokens[6] == "low" { last = 6 }
        guard tokens.count > last + 1 else { return nil }
        // the tokens are slices of `text`, so the path starts after the last value cell
        let path = TextFields.trim(String(text[tokens[last].endIndex...]))
        return hashes(
            path: path, md5: String(tokens[1]), sha1: String(tokens[2]), sha256: String(tokens[3]),
            pdq: String(tokens[4]), quality: String(tokens[5]), line: line)
    }

    private func hashes(
        path: String?, md5: String?, sha1: String?, sha256: String?, pdq: String?, quality: String?, line: Int
    ) -> HashInputItem {
        var inputs: [HashInput] = []
        let qualityValue = quality.flatMap { Int(TextFields.trim($0)) }
        let cleanPath = path.flatMap { TextFields.nonEmpty($0) == nil ? nil : $0 }
        for (algorithm, value) in [(HashAlgorithm.md5, md5), (.sha1, sha1), (.sha256, sha256), (.pdq, pdq)] {
            guard let value = TextFields.nonEmpty(value), value != "-" else { continue }
            do {
                let digest = try HashDigest(algorithm, value)
                inputs.append(
                    HashInput(
                        digest: digest, path: cleanPath, quality: algorithm == .pdq ? qualityValue : nil, line: line))
            } catch {
                return reject(line, error.description)
            }
        }
        return inputs.isEmpty ? reject(line, "no hash on the line") : .hashes(inputs)
    }

    private func parseJSON(_ text: String, line: Int) -> HashInputItem {
        guard case .object(let object) = try? JSONValue.parse(Array(text.utf8)) else {
            return reject(line, "not a JSON object")
        }
        func string(_ key: String) -> String? { object[key]?.text }
        return hashes(
            path: string("path"), md5: string("md5"), sha1: string("sha1"), sha256: string("sha256"),
            pdq: string("pdq"), quality: string("pdq_quality") ?? string("quality"), line: line)
    }

    private func parseSingle(_ text: String, tokens: [Substring], line: Int) -> HashInputItem {
        guard let first = tokens.first else { return reject(line, "empty line") }
        // algorithm:value or algorithm value / algorithm,value
        for separator in [":", ","] where first.contains(Character(separator)) {
            let parts = first.split(separator: Character(separator), maxSplits: 1)
            if parts.count == 2, let algorithm = Self.algorithm(named: parts[0]) {
                return single(algorithm, String(parts[1]), path: nil, line: line)
            }
        }
        if tokens.count >= 2, let algorithm = Self.algorithm(named: first) {
            return single(algorithm, String(tokens[1]), path: nil, line: line)
        }
        let hex = first.hasPrefix("\\") ? first.dropFirst() : first
        let isListLine = tokens.count >= 2
        let algorithm: HashAlgorithm
        switch hex.count {
        case 32: algorithm = .md5
        case 40: algorithm = .sha1
        case 64: algorithm = isListLine ? .sha256 : sixtyFourDigitAlgorithm
        default: return reject(line, "'\(hex.prefix(80))' is not a 32, 40 or 64 digit hex hash")
        }
        var path: String?
        if isListLine {
            var rest = text[first.endIndex...]
            if rest.hasPrefix("  ") || rest.hasPrefix(" *") {
                rest = rest.dropFirst(2)
            } else {
                rest = rest.drop(while: { $0 == " " || $0 == "\t" })
            }
            path = rest.isEmpty ? nil : String(rest)
        }
        return single(algorithm, String(hex), path: path, line: line)
    }

    private func single(_ algorithm: HashAlgorithm, _ value: String, path: String?, line: Int) -> HashInputItem {
        do {
            return .hashes([HashInput(digest: try HashDigest(algorithm, value), path: path, line: line)])
        } catch {
            return reject(line, error.description)
        }
    }

    private static func algorithm(named name: Substring) -> HashAlgorithm? {
        switch name.lowercased() {
        case "md5", "video_md5", "photo_md5": .md5
        case "sha1", "sha-1": .sha1
        case "sha256", "sha-256": .sha256
        case "pdq", "photo_pdq": .pdq
        default: nil
        }
    }
}
