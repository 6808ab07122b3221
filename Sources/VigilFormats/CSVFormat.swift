import Foundation
import VigilCore

/// The columns of Vigil's hash set CSV (format `csv`), as its writer writes them.
///
/// - `algorithm`, `value`: the primary digest (`md5`, `sha1`, `sha256`, `pdq` or `photodna`);
/// - `other_digests`: further digests of the same file, `algorithm:value` joined by `|`;
/// - `categories`: `scheme:code:national:source` entries joined by `|` (each part `%`-escaped for `%`, `:`, `|`);
/// - `series_name`, `victim_identified`, `offender_identified`, `distributed`, `baseline`, `known_benign`,
///   `file_available` (`true`/`false`/empty), `file_name`, `file_size`, `media_type`, `submissions`;
/// - provenance: `contributor`, `found_where`, `found_at` (ISO 8601), `case_id`, `media_id`.
///
/// On import, columns are matched by name in any order and unknown columns are ignored; a file may instead give
/// digests in columns named after their algorithm (`md5`, `sha1`, `sha256`, `pdq`, `photodna`) and a bare
/// `category` code in the scheme ``HashSetImportOptions/csvCategoryScheme``.
public enum CSVHashSetColumns {
    /// The header the `csv` writer writes.
    public static let written: [String] = [
        "algorithm", "value", "other_digests", "categories", "series_name", "victim_identified",
        "offender_identified", "distributed", "baseline", "known_benign", "file_available", "file_name", "file_size",
        "media_type", "submissions", "contributor", "found_where", "found_at", "case_id", "media_id",
    ]
}

private let reservedInLists: Set<Character> = [":", "|"]

/// Reads Vigil's hash set CSV (see ``CSVHashSetColumns``).
final class CSVHashSetReader: HashSetReader {
    private let records: CSVRecordInput
    private let options: HashSetImportOptions
    private var columns: [String: Int]?

    init(input: ByteInput, options: HashSetImportOptions) {
        self.records = CSVRecordInput(input: input, separator: 0x2C)
        self.options = options
    }

    func next() throws(HashSetFormatError) -> HashSetReadItem? {
        while let record = try records.next() {
            let (fields, line): ([String], Int)
            switch record {
            case .rejected(let rejection): return .rejected(rejection)
            case .fields(let values, let number): (fields, line) = (values, number)
            }
            guard let columns else {
                let byName = CSVRecordInput.columnIndex(fields)
                let digestColumns = ["value"] + HashAlgorithm.allCases.map(\.rawValue)
                guard digestColumns.contains(where: { byName[$0] != nil }) else {
                    throw .malformed("CSV header on line \(line) names no digest column (value, md5, sha1, …)")
                }
                self.columns = byName
                continue
            }
            return parse(fields, columns: columns, line: line)
        }
        return nil
    }

    private func parse(_ fields: [String], columns: [String: Int], line: Int) -> HashSetReadItem {
        func value(_ name: String) -> String? {
            guard let index = columns[name], index < fields.count else { return nil }
            return TextFields.nonEmpty(fields[index])
        }
        func reject(_ reason: String) -> HashSetReadItem { .rejected(LineRejection(line: line, reason: reason)) }
        var digests: [HashDigest] = []
        func add(_ digest: HashDigest) {
            if !digests.contains(where: { $0.algorithm == digest.algorithm }) { digests.append(digest) }
        }
        do {
            if let valueText = value("value") {
                guard let name = value("algorithm"), let algorithm = HashAlgorithm(rawValue: name.lowercased()) else {
                    return reject("unknown or missing algorithm '\(value("algorithm") ?? "")'")
                }
                add(try HashDigest(algorithm, valueText))
            }
            for algorithm in HashAlgorithm.allCases {
                if let text = value(algorithm.rawValue) { add(try HashDigest(algorithm, text)) }
            }
            if let others = value("other_digests") {
                for entry in others.split(separator: "|") {
                    let parts = entry.split(separator: ":", maxSplits: 1)
                    guard parts.count == 2, let algorithm = HashAlgorithm(rawValue: parts[0].lowercased()) else {
                        return reject("other_digests: '\(entry)' is not algorithm:value")
                    }
                    add(try HashDigest(algorithm, TextFields.percentUnescape(String(parts[1]))))
                }
            }
        } catch {
            return reject(error.description)
        }
        guard !digests.isEmpty else { return reject("no digest") }
        var record = HashSetRecord(digests: digests)
        if let entries = value("categories") {
            for entry in entries.split(separator: "|", omittingEmptySubsequences: true) {
                let parts = entry.split(separator: ":", omittingEmptySubsequences: false)
                    .map { TextFields.percentUnescape(String($0)) }
                guard parts.count >= 2, !parts[0].isEmpty else {
                    return reject("categories: '\(entry)' is not scheme:code[:national[:source]]")
                }
                let scheme = CategoryScheme(rawValue: parts[0])
                var category = options.categoryMapping.category(
                    scheme: scheme, code: parts[1], source: parts.count > 3 ? TextFields.nonEmpty(parts[3]) : nil)
                if parts.count > 2, let national = TextFields.nonEmpty(parts[2]) {
                    category.nationalCategory = national
                }
                if category.source == nil { category.source = options.source }
                record.categories.append(category)
            }
        }
        if let code = value("category") {
            record.categories.append(
                options.categoryMapping.category(scheme: options.csvCategoryScheme, code: code, source: options.source))
        }
        record.seriesName = value("series_name")
        record.fileName = value("file_name")
        record.mediaType = value("media_type")
        let flags: [(String, WritableKeyPath<HashSetRecord, Bool?>)] = [
            ("victim_identified", \.victimIdentified), ("offender_identified", \.offenderIdentified),
            ("distributed", \.distributed), ("baseline", \.baseline), ("file_available", \.fileAvailable),
        ]
        for (name, keyPath) in flags {
            guard let text = value(name) else { continue }
            guard case .success(let flag) = TextFields.flag(text) else {
                return reject("\(name): '\(text)' is not yes/no")
            }
            record[keyPath: keyPath] = flag
        }
        if let text = value("known_benign") {
            guard case .success(let flag) = TextFields.flag(text) else {
                return reject("known_benign: '\(text)' is not yes/no")
            }
            record.knownBenign = flag ?? false
        }
        if let text = value("file_size") {
            guard let size = Int64(text), size >= 0 else { return reject("file_size: '\(text)' is not a size") }
            record.fileSize = size
        }
        if let text = value("submissions") {
            guard let count = Int(text), count >= 0 else { return reject("submissions: '\(text)' is not a count") }
            record.submissionCount = count
        }
        var provenance = HashProvenance(
            contributor: value("contributor") ?? options.source, foundWhere: value("found_where"),
            caseID: value("case_id"), mediaID: value("media_id"))
        if let text = value("found_at") {
            guard let date = ISOTimestamp.parse(text) else { return reject("found_at: '\(text)' is not ISO 8601") }
            provenance.foundAt = date
        }
        record.provenance = provenance
        return .record(record, line: line)
    }
}

/// Writes Vigil's hash set CSV: the header ``CSVHashSetColumns/written``, then one row per record.
final class CSVHashSetWriter: HashSetWriter {
    private let output: ByteOutput

    init(output: ByteOutput) throws(HashSetFormatError) {
        self.output = output
        try output.append(CSVHashSetColumns.written.joined(separator: ","))
        try output.endLine()
    }

    func write(_ record: HashSetRecord) throws(HashSetFormatError) -> Bool {
        guard let primary = record.primaryDigest else { return false }
        let others = record.digests.dropFirst().map {
            "\($0.algorithm.rawValue):\(TextFields.percentEscape($0.value, reserved: reservedInLists))"
        }
        let categories = record.categories.map { category in
            [category.scheme.rawValue, category.code, category.nationalCategory ?? "", category.source ?? ""]
                .map { TextFields.percentEscape($0, reserved: reservedInLists) }.joined(separator: ":")
        }
        let provenance = record.provenance
        let row: [String] = [
            primary.algorithm.rawValue, primary.value, others.joined(separator: "|"), categories.joined(separator: "|"),
            record.seriesName ?? "", TextFields.flagText(record.victimIdentified),
            TextFields.flagText(record.offenderIdentified), TextFields.flagText(record.distributed),
            TextFields.flagText(record.baseline), record.knownBenign ? "true" : "",
            TextFields.flagText(record.fileAvailable), record.fileName ?? "", record.fileSize.map(String.init) ?? "",
            record.mediaType ?? "", record.submissionCount.map(String.init) ?? "", provenance.contributor ?? "",
            provenance.foundWhere ?? "", provenance.foundAt.map(ISOTimestamp.format) ?? "", provenance.caseID ?? "",
            provenance.mediaID ?? "",
        ]
        try output.append(row.map { CSVText.quoted($0) }.joined(separator: ","))
        try output.endLine()
        return true
    }

    func finish() throws(HashSetFormatError) { try output.finish() }
}
