import Foundation
import VigilCore

#if canImport(CSQLite3)
    import CSQLite3

    /// A minimal read-mostly SQLite connection over the system library.
    final class SQLiteDatabase {
        private(set) var handle: OpaquePointer?

        init(path: String, readOnly: Bool) throws(HashSetFormatError) {
            let flags = readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
            var db: OpaquePointer?
            let status = sqlite3_open_v2(path, &db, flags, nil)
            guard status == SQLITE_OK, let db else {
                let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
                sqlite3_close(db)
                throw .sqlite("\(path): \(message)")
            }
            handle = db
        }

        deinit { sqlite3_close(handle) }

        /// Runs statements that return no rows.
        func execute(_ sql: String) throws(HashSetFormatError) {
            var error: UnsafeMutablePointer<CChar>?
            guard sqlite3_exec(handle, sql, nil, nil, &error) == SQLITE_OK else {
                let message = error.map { String(cString: $0) } ?? "error"
                sqlite3_free(error)
                throw .sqlite(message)
            }
        }

        func prepare(_ sql: String) throws(HashSetFormatError) -> OpaquePointer {
            var statement: OpaquePointer?
            guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
                throw .sqlite(String(cString: sqlite3_errmsg(handle)))
            }
            return statement
        }

        /// Whether a table or view of this name exists.
        func hasRelation(_ name: String) throws(HashSetFormatError) -> Bool {
            let statement = try prepare("SELECT 1 FROM sqlite_master WHERE name = ?1 COLLATE NOCASE")
            defer { sqlite3_finalize(statement) }
            sqlite3_bind_text(statement, 1, name, -1, unsafeBitCast(-1, to: sqlite3_destructor_type.self))
            return sqlite3_step(statement) == SQLITE_ROW
        }

        var lastError: String { String(cString: sqlite3_errmsg(handle)) }
    }

    /// Reads a NIST NSRL RDSv3 SQLite database as known-benign records: the `DISTINCT_HASH` view (sha256, sha1, md5)
    /// or, when asked or when the view is missing, the `FILE` table (with file name and size).
    final class NSRLReader: HashSetReader {
        private let database: SQLiteDatabase
        private let statement: OpaquePointer
        private let withFileColumns: Bool
        private let provenance: HashProvenance
        private var row = 0

        init(path: String, options: HashSetImportOptions) throws(HashSetFormatError) {
            database = try SQLiteDatabase(path: path, readOnly: true)
            let hasView = try database.hasRelation("DISTINCT_HASH")
            let hasFile = try database.hasRelation("FILE")
            guard hasView || hasFile else {
                throw .malformed("\(path) has neither a DISTINCT_HASH view nor a FILE table")
            }
            withFileColumns = options.nsrlReadsFileTable && hasFile || !hasView
            statement = try database.prepare(
                withFileColumns
                    ? "SELECT sha256, sha1, md5, file_name, file_size FROM FILE"
                    : "SELECT sha256, sha1, md5 FROM DISTINCT_HASH")
            provenance = HashProvenance(contributor: options.source ?? "NIST NSRL")
        }

        deinit { sqlite3_finalize(statement) }

        func next() throws(HashSetFormatError) -> HashSetReadItem? {
            let status = sqlite3_step(statement)
            if status == SQLITE_DONE { return nil }
            guard status == SQLITE_ROW else { throw .sqlite(database.lastError) }
            row += 1
            var digests: [HashDigest] = []
            do {
                for (column, algorithm) in [(Int32(2), HashAlgorithm.md5), (1, .sha1), (0, .sha256)] {
                    guard let text = sqlite3_column_text(statement, column) else { continue }
                    let length = Int(sqlite3_column_bytes(statement, column))
                    if length == 0 { continue }
                    digests.append(try HashDigest(algorithm, utf8: UnsafeBufferPointer(start: text, count: length)))
                }
            } catch {
                return .rejected(LineRejection(line: row, reason: error.description))
            }
            guard !digests.isEmpty else { return .rejected(LineRejection(line: row, reason: "row has no hash")) }
            var record = HashSetRecord(digests: digests, provenance: provenance, knownBenign: true)
            if withFileColumns {
                if let name = sqlite3_column_text(statement, 3) {
                    record.fileName = String(cString: name)
                }
                if sqlite3_column_type(statement, 4) != SQLITE_NULL {
                    record.fileSize = sqlite3_column_int64(statement, 4)
                }
            }
            return .record(record, line: row)
        }
    }
#else
    /// NSRL import needs the `CSQLite3` system-library module; without it the reader reports the format unsupported.
    final class NSRLReader: HashSetReader {
        init(path: String, options: HashSetImportOptions) throws(HashSetFormatError) {
            throw .unsupported(.nsrl, operation: "import (built without SQLite)")
        }

        func next() throws(HashSetFormatError) -> HashSetReadItem? { nil }
    }
#endif
