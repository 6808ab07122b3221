import Foundation
import VigilCore

/// Reads `md5sum`/`sha1sum`/`sha256sum` output: `<hex>  <path>`, `<hex> *<path>`, a bare `<hex>`, GNU's escaped
/// form (a leading `\` when the path holds a backslash or newline) and the BSD tag form `MD5 (path) = <hex>`.
///
/// Empty lines and lines starting with `#` are skipped.
final class DigestListReader: HashSetReader {
    let input: ByteInput
    private let algorithm: HashAlgorithm
    private let provenance: HashProvenance

    init(input: ByteInput, algorithm: HashAlgorithm, options: HashSetImportOptions) {
        self.input = input
        self.algorithm = algorithm
        self.provenance = HashProvenance(contributor: options.source)
    }

    func next() throws(HashSetFormatError) -> HashSetReadItem? {
        while let range = try input.nextLine() {
            let line = input.lineNumber
            if input.lastLineWasTooLong { return .rejected(LineRejection(line: line, reason: input.tooLongReason)) }
            let parsed = input.withBytes(range) { bytes in Self.parse(bytes, algorithm: algorithm) }
            switch parsed {
            case .skip: continue
            case .failure(let reason): return .rejected(LineRejection(line: line, reason: reason))
            case .success(let digest, let path):
                let record = HashSetRecord(digests: [digest], provenance: provenance, fileName: path)
                return .record(record, line: line)
            }
        }
        return nil
    }

    enum Parsed {
        case skip
        case failure(String)
        case success(HashDigest, String?)
    }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, algorithm: HashAlgorithm) -> Parsed {
        var start = 0
        var end = bytes.count
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
        if start == end || bytes[start] == 0x23 { return .skip }
        if let tagged = parseTagged(bytes, start: start, end: end, algorithm: algorithm) { return tagged }
        var escaped = false
        if bytes[start] == 0x5C {
            escaped = true
            start += 1
        }
        var hexEnd = start
        while hexEnd < end, bytes[hexEnd] != 0x20, bytes[hexEnd] != 0x09 { hexEnd += 1 }
        let digest: HashDigest
        do {
            digest = try HashDigest(algorithm, utf8: UnsafeBufferPointer(rebasing: bytes[start..<hexEnd]))
        } catch {
            return .failure(error.description)
        }
        guard hexEnd < end else { return .success(digest, nil) }
        // GNU: one space then a space (text mode) or '*' (binary mode) before the path.
        var pathStart = hexEnd + 1
        if pathStart < end, bytes[pathStart] == 0x20 || bytes[pathStart] == 0x2A { pathStart += 1 }
        guard pathStart < end else { return .success(digest, nil) }
        let raw = UnsafeBufferPointer(rebasing: bytes[pathStart..<bytes.count])
        var path = String(decoding: raw, as: UTF8.self)
        if escaped { path = unescape(path) }
        return .success(digest, path)
    }

    /// `MD5 (path) = hex`, as `md5sum --tag` and BSD `md5` print it.
    private static func parseTagged(
        _ bytes: UnsafeBufferPointer<UInt8>, start: Int, end: Int, algorithm: HashAlgorithm
    ) -> Parsed? {
        let tag: [UInt8]
        switch algorithm {
        case .md5: tag = Array("MD5 (".utf8)
        case .sha1: tag = Array("SHA1 (".utf8)
        case .sha256: tag = Array("SHA256 (".utf8)
        default: return nil
        }
        guard end - start > tag.count, Array(bytes[start..<(start + tag.count)]) == tag else { return nil }
        let separator = Array(") = ".utf8)
        var index = end - separator.count
        while index >= start + tag.count {
            if Array(bytes[index..<(index + separator.count)]) == separator { break }
            index -= 1
        }
        guard index >= start + tag.count else { return .failure("tagged line without ') = '") }
        let path = String(decoding: UnsafeBufferPointer(rebasing: bytes[(start + tag.count)..<index]), as: UTF8.self)
        do {
            let hex = UnsafeBufferPointer(rebasing: bytes[(index + separator.count)..<end])
            return .success(try HashDigest(algorithm, utf8: hex), path)
        } catch {
            return .failure(error.description)
        }
    }

    static func unescape(_ path: String) -> String {
        var out = ""
        var iterator = path.makeIterator()
        while let character = iterator.next() {
            if character == "\\", let following = iterator.next() {
                switch following {
                case "n": out.append("\n")
                case "r": out.append("\r")
                case "\\": out.append("\\")
                default:
                    out.append(character)
                    out.append(following)
                }
            } else {
                out.append(character)
            }
        }
        return out
    }
}

/// Writes `<hex>  <path>` lines (GNU escaping when the path holds a backslash or line break), or a bare `<hex>`
/// when the record has no file name. A record without a digest of the list's algorithm is skipped.
final class DigestListWriter: HashSetWriter {
    private let output: ByteOutput
    private let algorithm: HashAlgorithm

    init(output: ByteOutput, algorithm: HashAlgorithm) {
        self.output = output
        self.algorithm = algorithm
    }

    func write(_ record: HashSetRecord) throws(HashSetFormatError) -> Bool {
        guard let digest = record.digest(algorithm) else { return false }
        if let name = record.fileName, !name.isEmpty {
            if name.contains(where: { $0 == "\\" || $0 == "\n" || $0 == "\r" }) {
                let escaped = name.replacingOccurrences(of: "\\", with: "\\\\")
                    .replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r")
                output.append(byte: 0x5C)
                output.append(bytes: digest.value.utf8)
                output.append(bytes: "  ".utf8)
                output.append(bytes: escaped.utf8)
            } else {
                output.append(bytes: digest.value.utf8)
                output.append(bytes: "  ".utf8)
                output.append(bytes: name.utf8)
            }
        } else {
            output.append(bytes: digest.value.utf8)
        }
        try output.endLine()
        return true
    }

    func finish() throws(HashSetFormatError) { try output.finish() }
}

/// Reads ThreatExchange signal lines: `pdq <hex>` (as the `threatexchange` CLI prints them), `pdq,<hex>`, or with
/// tabs; fields after the second are ignored. Signal types: `pdq`, `md5`/`video_md5`/`photo_md5`, `sha1`, `sha256`.
final class ThreatExchangeReader: HashSetReader {
    private let input: ByteInput
    private let provenance: HashProvenance

    init(input: ByteInput, options: HashSetImportOptions) {
        self.input = input
        self.provenance = HashProvenance(contributor: options.source)
    }

    func next() throws(HashSetFormatError) -> HashSetReadItem? {
        while let range = try input.nextLine() {
            let line = input.lineNumber
            if input.lastLineWasTooLong { return .rejected(LineRejection(line: line, reason: input.tooLongReason)) }
            switch input.withBytes(range, { Self.parse($0, line: line) }) {
            case .skip: continue
            case .failure(let reason): return .rejected(LineRejection(line: line, reason: reason))
            case .success(let digest, _):
                return .record(HashSetRecord(digests: [digest], provenance: provenance), line: line)
            }
        }
        return nil
    }

    /// One line's signal, read in place from its bytes (no string is made for a well-formed line).
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, line: Int) -> DigestListReader.Parsed {
        func isSeparator(_ b: UInt8) -> Bool { b == 0x20 || b == 0x2C || b == 0x09 }
        func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D }
        var start = 0
        var end = bytes.count
        while start < end, isBlank(bytes[start]) { start += 1 }
        while end > start, isBlank(bytes[end - 1]) { end -= 1 }
        if start == end || bytes[start] == 0x23 { return .skip }
        while start < end, isSeparator(bytes[start]) { start += 1 }  // `,pdq,HEX`: empty fields are dropped
        var typeEnd = start
        while typeEnd < end, !isSeparator(bytes[typeEnd]) { typeEnd += 1 }
        var valueStart = typeEnd
        while valueStart < end, isSeparator(bytes[valueStart]) { valueStart += 1 }
        var valueEnd = valueStart
        while valueEnd < end, !isSeparator(bytes[valueEnd]) { valueEnd += 1 }
        let typeBytes = UnsafeBufferPointer(rebasing: bytes[start..<typeEnd])
        let type = String(decoding: typeBytes, as: UTF8.self)
        guard valueEnd > valueStart else { return .failure("expected '<signal type> <hash>'") }
        let algorithm: HashAlgorithm
        switch type.lowercased() {
        case "pdq", "photo_pdq": algorithm = .pdq
        case "md5", "video_md5", "photo_md5": algorithm = .md5
        case "sha1": algorithm = .sha1
        case "sha256": algorithm = .sha256
        case "signal_type", "hash_type", "type", "indicator_type":
            if line == 1 { return .skip }
            return .failure("unknown signal type '\(type)'")
        default:
            return .failure("unknown signal type '\(type)'")
        }
        do {
            let value = UnsafeBufferPointer(rebasing: bytes[valueStart..<valueEnd])
            return .success(try HashDigest(algorithm, utf8: value), nil)
        } catch {
            return .failure(error.description)
        }
    }
}

/// Writes `<signal type> <hex>` lines, one per PDQ, MD5, SHA-1 or SHA-256 digest of each record.
final class ThreatExchangeWriter: HashSetWriter {
    private let output: ByteOutput

    init(output: ByteOutput) { self.output = output }

    func write(_ record: HashSetRecord) throws(HashSetFormatError) -> Bool {
        var wrote = false
        for digest in record.digests where digest.algorithm != .photodna {
            try output.append("\(digest.algorithm.rawValue) \(digest.value)")
            try output.endLine()
            wrote = true
        }
        return wrote
    }

    func finish() throws(HashSetFormatError) { try output.finish() }
}
