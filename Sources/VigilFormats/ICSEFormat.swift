import Foundation
import VigilCore

/// Splits an input into CSV records, joining physical lines when a quoted field spans them (at most
/// ``maxJoinedLines`` lines, so that one stray quote cannot swallow the rest of a file).
final class CSVRecordInput {
    private let input: ByteInput
    private let separator: UInt8
    static let maxJoinedLines = 64

    enum Record {
        case fields([String], line: Int)
        case rejected(LineRejection)
    }

    init(input: ByteInput, separator: UInt8) {
        self.input = input
        self.separator = separator
    }

    /// A header row as a map from lowercased, trimmed column name to index.
    static func columnIndex(_ header: [String]) -> [String: Int] {
        var byName: [String: Int] = [:]
        for (index, name) in header.enumerated() {
            let key = TextFields.trim(name).lowercased()
            if byName[key] == nil { byName[key] = index }
        }
        return byName
    }

    /// The next record's fields and the number of the line it starts on; empty lines are skipped.
    func next() throws(HashSetFormatError) -> Record? {
        while let range = try input.nextLine() {
            let line = input.lineNumber
            if input.lastLineWasTooLong { return .rejected(LineRejection(line: line, reason: input.tooLongReason)) }
            if range.isEmpty { continue }
            if let fields = input.withBytes(range, { TextFields.splitCSV($0, separator: separator) }) {
                return .fields(fields, line: line)
            }
            var joined = input.withBytes(range) { Array($0) }
            while true {
                if input.lineNumber - line + 1 >= Self.maxJoinedLines || joined.count > input.maxLineLength {
                    let reason = "quoted field not closed; lines \(line)–\(input.lineNumber) skipped"
                    return .rejected(LineRejection(line: line, reason: reason))
                }
                guard let more = try input.nextLine() else {
                    return .rejected(LineRejection(line: line, reason: "quoted field not closed before the end"))
                }
                if input.lastLineWasTooLong {
                    let reason = "quoted field not closed; lines \(line)–\(input.lineNumber) skipped"
                    return .rejected(LineRejection(line: line, reason: reason))
                }
                joined.append(0x0A)
                input.withBytes(more) { joined.append(contentsOf: $0) }
                if let fields = joined.withUnsafeBufferPointer({ TextFields.splitCSV($0, separator: separator) }) {
                    return .fields(fields, line: line)
                }
            }
        }
        return nil
    }
}

/// The columns of INTERPOL's ICSE CSV export, in order.
enum ICSEColumn: String, CaseIterable {
    case md5 = "MD5"
    case sha1 = "SHA1"
    case photoDNA = "PhotoDNA"
    case imageID = "Image ID"
    case distributed = "Is distributed"
    case victimIdentified = "Victim identified"
    case offenderIdentified = "Offender identified"
    case seriesName = "Series name"
    case submissions = "Number of submissions"
    case fileAvailable = "File Available"
    case mediaType = "Media Type"
    case baseline = "Baseline"
}

/// Reads INTERPOL ICSE CSV (`;`-separated). A header row is matched by name (any order, case-insensitive);
/// without one the columns are taken in the standard order.
final class ICSEReader: HashSetReader {
    private let records: CSVRecordInput
    private let options: HashSetImportOptions
    private var columns: [ICSEColumn: Int]?

    init(input: ByteInput, options: HashSetImportOptions) {
        self.records = CSVRecordInput(input: input, separator: 0x3B)
        self.options = options
    }

    func next() throws(HashSetFormatError) -> HashSetReadItem? {
        while let record = try records.next() {
            let (fields, line): ([String], Int)
            switch record {
            case .rejected(let rejection): return .rejected(rejection)
            case .fields(let values, let number): (fields, line) = (values, number)
            }
            if columns == nil {
                let names = CSVRecordInput.columnIndex(fields)
                var byName: [ICSEColumn: Int] = [:]
                for column in ICSEColumn.allCases { byName[column] = names[column.rawValue.lowercased()] }
                if byName.count >= 2 {
                    columns = byName
                    continue
                }
                columns = Dictionary(uniqueKeysWithValues: ICSEColumn.allCases.enumerated().map { ($1, $0) })
            }
            return parse(fields, line: line)
        }
        return nil
    }

    private func parse(_ fields: [String], line: Int) -> HashSetReadItem {
        func value(_ column: ICSEColumn) -> String? {
            guard let index = columns?[column], index < fields.count else { return nil }
            return TextFields.nonEmpty(fields[index])
        }
        var digests: [HashDigest] = []
        do {
            if let md5 = value(.md5) { digests.append(try HashDigest(.md5, md5)) }
            if let sha1 = value(.sha1) { digests.append(try HashDigest(.sha1, sha1)) }
            if let photoDNA = value(.photoDNA) { digests.append(try HashDigest(.photodna, photoDNA)) }
        } catch {
            return .rejected(LineRejection(line: line, reason: error.description))
        }
        guard !digests.isEmpty else { return .rejected(LineRejection(line: line, reason: "no MD5, SHA1 or PhotoDNA")) }
        var record = HashSetRecord(digests: digests)
        record.provenance = HashProvenance(contributor: options.source, mediaID: value(.imageID))
        record.seriesName = value(.seriesName)
        record.mediaType = value(.mediaType)
        let flags: [(ICSEColumn, WritableKeyPath<HashSetRecord, Bool?>)] = [
            (.distributed, \.distributed), (.victimIdentified, \.victimIdentified),
            (.offenderIdentified, \.offenderIdentified), (.fileAvailable, \.fileAvailable), (.baseline, \.baseline),
        ]
        for (column, keyPath) in flags {
            guard let text = value(column) else { continue }
            switch TextFields.flag(text) {
            case .success(let flag): record[keyPath: keyPath] = flag
            case .failure:
                return .rejected(LineRejection(line: line, reason: "\(column.rawValue): '\(text)' is not yes/no"))
            }
        }
        if let text = value(.submissions) {
            guard let count = Int(text), count >= 0 else {
                return .rejected(LineRejection(line: line, reason: "Number of submissions: '\(text)' is not a count"))
            }
            record.submissionCount = count
        }
        return .record(record, line: line)
    }
}

/// Writes INTERPOL ICSE CSV: the header, then one `;`-separated row per record with an MD5, SHA-1 or PhotoDNA.
/// Flags are written `true`/`false`, unknown values empty.
final class ICSEWriter: HashSetWriter {
    private let output: ByteOutput

    init(output: ByteOutput) throws(HashSetFormatError) {
        self.output = output
        try output.append(ICSEColumn.allCases.map(\.rawValue).joined(separator: ";"))
        try output.endLine()
    }

    func write(_ record: HashSetRecord) throws(HashSetFormatError) -> Bool {
        let md5 = record.digest(.md5)?.value
        let sha1 = record.digest(.sha1)?.value
        let photoDNA = record.digest(.photodna)?.value
        guard md5 != nil || sha1 != nil || photoDNA != nil else { return false }
        let row: [String] = [
            md5 ?? "", sha1 ?? "", photoDNA ?? "", record.provenance.mediaID ?? "",
            TextFields.flagText(record.distributed), TextFields.flagText(record.victimIdentified),
            TextFields.flagText(record.offenderIdentified), record.seriesName ?? "",
            record.submissionCount.map(String.init) ?? "", TextFields.flagText(record.fileAvailable),
            record.mediaType ?? "", TextFields.flagText(record.baseline),
        ]
        try output.append(row.map { CSVText.quoted($0, separator: ";") }.joined(separator: ";"))
        try output.endLine()
        return true
    }

    func finish() throws(HashSetFormatError) { try output.finish() }
}
