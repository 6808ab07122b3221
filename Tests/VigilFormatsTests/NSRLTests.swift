import Foundation
import Testing
import VigilCore

@testable import VigilFormats

#if canImport(CSQLite3)

    @Suite("NIST NSRL RDSv3")
    struct NSRLTests {
        /// A tiny RDSv3-shaped database: the FILE table and the DISTINCT_HASH view.
        static func makeDatabase(at path: String, withView: Bool = true) throws {
            let database = try SQLiteDatabase(path: path, readOnly: false)
            try database.execute(
                """
                CREATE TABLE FILE (sha256 VARCHAR NOT NULL, sha1 VARCHAR NOT NULL, md5 VARCHAR NOT NULL,
                  file_name VARCHAR NOT NULL, file_size INTEGER NOT NULL, package_id INTEGER NOT NULL);
                INSERT INTO FILE VALUES ('\(sha256A.uppercased())', '\(sha1A.uppercased())', '\(md5A.uppercased())',
                  'kernel32.dll', 1024, 1);
                INSERT INTO FILE VALUES ('\(sha256A.uppercased())', '\(sha1A.uppercased())', '\(md5A.uppercased())',
                  'kernel32.dll', 1024, 2);
                INSERT INTO FILE VALUES ('', '', '\(md5B)', 'readme.txt', 10, 3);
                INSERT INTO FILE VALUES ('', '', 'XYZ', 'bad.bin', 1, 4);
                """)
            if withView {
                try database.execute("CREATE VIEW DISTINCT_HASH AS SELECT DISTINCT sha256, sha1, md5 FROM FILE;")
            }
        }

        @Test("the DISTINCT_HASH view imports as known-benign records, bad rows rejected by row number")
        func readsDistinctHashes() throws {
            // given
            let directory = try TemporaryDirectory()
            let path = directory.path("RDS.db")
            try Self.makeDatabase(at: path)
            // when
            let (records, rejections) = try importAll(.nsrl, path)
            // then
            #expect(records.count == 2)
            #expect(records[0].digests == [digest(.md5, md5A), digest(.sha1, sha1A), digest(.sha256, sha256A)])
            #expect(records.allSatisfy { $0.knownBenign && $0.provenance.contributor == "NIST NSRL" })
            #expect(records[1].digests == [digest(.md5, md5B)])
            #expect(rejections.map(\.line) == [3])
        }

        @Test("the FILE table is read, with names and sizes, when asked or when the view is missing")
        func readsFileTable() throws {
            // given
            let directory = try TemporaryDirectory()
            let path = directory.path("RDS-noview.db")
            try Self.makeDatabase(at: path, withView: false)
            // when
            let (records, _) = try importAll(.nsrl, path, options: HashSetImportOptions(source: "RDS 2024.12.1"))
            // then
            #expect(records.count == 3)
            #expect(records[0].fileName == "kernel32.dll" && records[0].fileSize == 1024)
            #expect(records[0].provenance.contributor == "RDS 2024.12.1")
        }

        @Test("NSRL cannot be exported and a non-NSRL database is refused")
        func refusals() throws {
            // given
            let directory = try TemporaryDirectory()
            let other = directory.path("other.db")
            try SQLiteDatabase(path: other, readOnly: false).execute("CREATE TABLE t (x);")
            // when / then
            #expect(throws: HashSetFormatError.unsupported(.nsrl, operation: "export")) {
                try HashSetFormat.nsrl.makeWriter(path: directory.path("x"))
            }
            #expect(throws: HashSetFormatError.self) { try importAll(.nsrl, other) }
            #expect(throws: HashSetFormatError.self) { try importAll(.nsrl, directory.path("missing.db")) }
        }
    }
#endif
