import Foundation
import VigilCore

/// The interchange formats a hash set can be imported from and exported to.
public enum HashSetFormat: String, Sendable, Hashable, CaseIterable {
    /// Project VIC VICS JSON (1.2/1.3 `odata.metadata` form and 2.0 `@odata.context` form).
    case vics
    /// INTERPOL ICSE CSV, `;`-separated.
    case icse
    /// `md5sum` lines: `<hex>  <path>` or `<hex> *<path>`.
    case md5sum
    /// `sha1sum` lines.
    case sha1sum
    /// `sha256sum` lines.
    case sha256sum
    /// Vigil's CSV with a header (see ``CSVHashSetColumns`` for the columns).
    case csv
    /// ThreatExchange lines: `pdq <hex>` or `pdq,<hex>`, extra fields tolerated.
    case te
    /// NIST NSRL RDSv3 SQLite database, imported as known-benign (import only).
    case nsrl

    /// Whether Vigil can write this format.
    public var supportsExport: Bool { self != .nsrl }

    /// The algorithm of a digest-list format (`md5sum`, `sha1sum`, `sha256sum`), else `nil`.
    public var listAlgorithm: HashAlgorithm? {
        switch self {
        case .md5sum: .md5
        case .sha1sum: .sha1
        case .sha256sum: .sha256
        default: nil
        }
    }
}

/// A line (or record) a reader could not accept, with its 1-based line number and the reason.
public struct LineRejection: Sendable, Hashable, CustomStringConvertible {
    /// The 1-based line number (for VICS: the line the Media object starts on; for NSRL: the row number).
    public let line: Int
    /// Why the line was rejected, in plain English.
    public let reason: String

    /// Creates a rejection.
    public init(line: Int, reason: String) {
        self.line = line
        self.reason = reason
    }

    /// `line N: reason`.
    public var description: String { "line \(line): \(reason)" }
}

/// What a reader yields: a record with the line it came from, or a rejected line.
public enum HashSetReadItem: Sendable, Hashable {
    /// An accepted record and its 1-based line number.
    case record(HashSetRecord, line: Int)
    /// A rejected line; reading continues after it.
    case rejected(LineRejection)
}

/// Errors that stop reading or writing altogether (a bad line never does: it becomes a ``LineRejection``).
public enum HashSetFormatError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file could not be opened.
    case cannotOpen(path: String, errno: Int32)
    /// Reading failed.
    case readFailed(errno: Int32)
    /// Writing failed.
    case writeFailed(errno: Int32)
    /// The format cannot do this (for example exporting NSRL).
    case unsupported(HashSetFormat, operation: String)
    /// The input is not in the format at all (for example a VICS file that is not JSON).
    case malformed(String)
    /// The SQLite library reported an error.
    case sqlite(String)

    /// A plain description.
    public var description: String {
        switch self {
        case .cannotOpen(let path, let code): "cannot open \(path): \(String(cString: strerror(code)))"
        case .readFailed(let code): "read failed: \(String(cString: strerror(code)))"
        case .writeFailed(let code): "write failed: \(String(cString: strerror(code)))"
        case .unsupported(let format, let operation): "\(format.rawValue) does not support \(operation)"
        case .malformed(let reason): "malformed input: \(reason)"
        case .sqlite(let message): "sqlite: \(message)"
        }
    }
}

/// How records are read: who they come from and how category codes map.
public struct HashSetImportOptions: Sendable, Hashable {
    /// The contributor or hash set name, recorded as provenance and as the source of every category.
    public var source: String?
    /// The operator's national category mapping.
    public var categoryMapping: NationalCategoryMapping
    /// The scheme of VICS `Category` codes; `nil` means by version (2.0: Project VIC US, 1.x: legacy 0–5).
    public var vicsCategoryScheme: CategoryScheme?
    /// The scheme of a bare `category` column in CSV files.
    public var csvCategoryScheme: CategoryScheme
    /// NSRL: read the `FILE` table (with names and sizes, one row per file) instead of the `DISTINCT_HASH` view.
    public var nsrlReadsFileTable: Bool

    /// Creates import options.
    public init(
        source: String? = nil, categoryMapping: NationalCategoryMapping = NationalCategoryMapping(),
        vicsCategoryScheme: CategoryScheme? = nil, csvCategoryScheme: CategoryScheme = .national,
        nsrlReadsFileTable: Bool = false
    ) {
        self.source = source
        self.categoryMapping = categoryMapping
        self.vicsCategoryScheme = vicsCategoryScheme
        self.csvCategoryScheme = csvCategoryScheme
        self.nsrlReadsFileTable = nsrlReadsFileTable
    }
}

/// How records are written.
public struct HashSetExportOptions: Sendable, Hashable {
    /// The VICS form written.
    public var vicsVersion: VICSVersion
    /// The scheme whose code goes into VICS `Category`; `nil` means by version (2.0: Project VIC US, 1.x: legacy).
    public var vicsCategoryScheme: CategoryScheme?

    /// Creates export options.
    public init(vicsVersion: VICSVersion = .v2_0, vicsCategoryScheme: CategoryScheme? = nil) {
        self.vicsVersion = vicsVersion
        self.vicsCategoryScheme = vicsCategoryScheme
    }
}

/// A streaming reader: pulls one record or rejection at a time, in constant memory.
public protocol HashSetReader: AnyObject {
    /// The next record or rejected line, or `nil` at the end of the input.
    /// - Throws: ``HashSetFormatError`` when the input cannot be read any further.
    func next() throws(HashSetFormatError) -> HashSetReadItem?
}

/// A streaming writer.
public protocol HashSetWriter: AnyObject {
    /// Writes what the format can carry of a record.
    /// - Returns: `false` when the record has nothing this format can carry (for example no MD5 for `md5sum`).
    @discardableResult
    func write(_ record: HashSetRecord) throws(HashSetFormatError) -> Bool
    /// Writes any trailer and flushes. Call once, after the last record.
    func finish() throws(HashSetFormatError)
}

/// Up to a batch's worth of records and the lines rejected while reading them.
public struct HashSetBatch: Sendable {
    /// The records, each with its 1-based line number.
    public var records: [(record: HashSetRecord, line: Int)] = []
    /// The lines rejected on the way.
    public var rejections: [LineRejection] = []
}

extension HashSetReader {
    /// Reads up to `maxRecords` records (and any rejections met on the way), for one transaction per batch.
    /// - Returns: The batch, or `nil` when the input is exhausted and nothing was read.
    /// The next records, at most `maxRecords` of them, and fewer once they carry `maxFrames` video frames (a VICS
    /// file of long videos holds thousands of frame lines a record).
    public func nextBatch(maxRecords: Int, maxFrames: Int = 500_000) throws(HashSetFormatError) -> HashSetBatch? {
        var batch = HashSetBatch()
        batch.records.reserveCapacity(min(maxRecords, 100_000))
        var frames = 0
        while batch.records.count < maxRecords, frames < maxFrames, let item = try next() {
            switch item {
            case .record(let record, let line):
                batch.records.append((record, line))
                frames += record.video?.frames.count ?? 0
            case .rejected(let rejection): batch.rejections.append(rejection)
            }
        }
        return batch.records.isEmpty && batch.rejections.isEmpty ? nil : batch
    }

    /// Reads everything into memory (for small inputs and tests).
    public func readAll() throws(HashSetFormatError) -> (records: [HashSetRecord], rejections: [LineRejection]) {
        var records: [HashSetRecord] = []
        var rejections: [LineRejection] = []
        while let item = try next() {
            switch item {
            case .record(let record, _): records.append(record)
            case .rejected(let rejection): rejections.append(rejection)
            }
        }
        return (records, rejections)
    }
}

extension HashSetFormat {
    /// Opens a file and returns a streaming reader for it.
    /// - Throws: ``HashSetFormatError`` when the file cannot be opened.
    public func makeReader(
        path: String, options: HashSetImportOptions = HashSetImportOptions()
    ) throws(HashSetFormatError) -> any HashSetReader {
        if self == .nsrl { return try NSRLReader(path: path, options: options) }
        let input = try ByteInput(path: path)
        return makeReader(input: input, options: options)
    }

    /// Returns a streaming reader over an open file descriptor (stdin, a pipe); the caller keeps ownership.
    /// - Throws: ``HashSetFormatError/unsupported(_:operation:)`` for NSRL, which needs a file path.
    public func makeReader(
        fileDescriptor: Int32, options: HashSetImportOptions = HashSetImportOptions()
    ) throws(HashSetFormatError) -> any HashSetReader {
        if self == .nsrl { throw .unsupported(self, operation: "reading from a stream") }
        return makeReader(input: ByteInput(fileDescriptor: fileDescriptor, closeWhenDone: false), options: options)
    }

    private func makeReader(input: ByteInput, options: HashSetImportOptions) -> any HashSetReader {
        switch self {
        case .vics: VICSReader(input: input, options: options)
        case .icse: ICSEReader(input: input, options: options)
        case .md5sum, .sha1sum, .sha256sum:
            DigestListReader(input: input, algorithm: listAlgorithm ?? .md5, options: options)
        case .csv: CSVHashSetReader(input: input, options: options)
        case .te: ThreatExchangeReader(input: input, options: options)
        case .nsrl: preconditionFailure("NSRL readers are made from a path")
        }
    }

    /// Creates (or truncates) a file and returns a streaming writer to it.
    /// - Throws: ``HashSetFormatError`` when the file cannot be created or the format cannot be exported.
    public func makeWriter(
        path: String, options: HashSetExportOptions = HashSetExportOptions()
    ) throws(HashSetFormatError) -> any HashSetWriter {
        guard supportsExport else { throw .unsupported(self, operation: "export") }
        let output = try ByteOutput(path: path)
        return try makeWriter(output: output, options: options)
    }

    /// Returns a streaming writer to an open file descriptor (stdout, a pipe); the caller keeps ownership.
    /// - Throws: ``HashSetFormatError/unsupported(_:operation:)`` for NSRL.
    public func makeWriter(
        fileDescriptor: Int32, options: HashSetExportOptions = HashSetExportOptions()
    ) throws(HashSetFormatError) -> any HashSetWriter {
        guard supportsExport else { throw .unsupported(self, operation: "export") }
        return try makeWriter(
            output: ByteOutput(fileDescriptor: fileDescriptor, closeWhenDone: false), options: options)
    }

    private func makeWriter(output: ByteOutput, options: HashSetExportOptions) throws(HashSetFormatError)
        -> any HashSetWriter
    {
        switch self {
        case .vics: return try VICSWriter(output: output, options: options)
        case .icse: return try ICSEWriter(output: output)
        case .md5sum, .sha1sum, .sha256sum: return DigestListWriter(output: output, algorithm: listAlgorithm ?? .md5)
        case .csv: return try CSVHashSetWriter(output: output)
        case .te: return ThreatExchangeWriter(output: output)
        case .nsrl: throw .unsupported(self, operation: "export")
        }
    }
}
