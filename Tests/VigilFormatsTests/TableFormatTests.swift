import Foundation
import Testing
import VigilCore

@testable import VigilFormats

@Suite("ICSE CSV and Vigil CSV")
struct TableFormatTests {
    static let icseHeader =
        "MD5;SHA1;PhotoDNA;Image ID;Is distributed;Victim identified;Offender identified;Series name;"
        + "Number of submissions;File Available;Media Type;Baseline"

    static let quotedSeries = "\"Series; \"\"quoted\"\"\""

    @Test("ICSE rows parse every column, quoted fields included; bad rows are rejected with their line")
    func icseParses() throws {
        // given
        let directory = try TemporaryDirectory()
        let path = try directory.file(
            "icse.csv",
            """
            \(Self.icseHeader)
            \(md5A.uppercased());\(sha1A);AAEC+/xyz=;IMG-1;Yes;No;true;\(Self.quotedSeries);3;1;Image;Y
            \(md5B);;;IMG-2;;;;;;;Video;
            ;;;IMG-3;Yes;;;;;;;
            \(md5B);;;IMG-4;maybe;;;;;;;
            \(md5A);;;IMG-5;;;;"multi
            line series";1;;;

            """, bom: true)
        // when
        let (records, rejections) = try importAll(.icse, path, options: HashSetImportOptions(source: "ICSE"))
        // then
        #expect(records.count == 3)
        let first = try #require(records.first)
        #expect(first.digests == [digest(.md5, md5A), digest(.sha1, sha1A), digest(.photodna, "AAEC+/xyz=")])
        #expect(first.provenance == HashProvenance(contributor: "ICSE", mediaID: "IMG-1"))
        #expect(first.distributed == true && first.victimIdentified == false && first.offenderIdentified == true)
        #expect(first.seriesName == "Series; \"quoted\"")
        #expect(first.submissionCount == 3 && first.fileAvailable == true && first.baseline == true)
        #expect(first.mediaType == "Image")
        #expect(records[1].distributed == nil && records[1].mediaType == "Video")
        #expect(records[2].seriesName == "multi\nline series")
        #expect(
            rejections == [
                LineRejection(line: 4, reason: "no MD5, SHA1 or PhotoDNA"),
                LineRejection(line: 5, reason: "Is distributed: 'maybe' is not yes/no"),
            ])
    }

    @Test("ICSE round trip preserves every ICSE column")
    func icseRoundTrip() throws {
        // given
        let directory = try TemporaryDirectory()
        let path = try directory.file(
            "icse.csv",
            """
            \(Self.icseHeader)
            \(md5A);\(sha1A);AAEC+/xyz=;IMG-1;Yes;No;true;\(Self.quotedSeries);3;1;Image;Y
            \(md5B);;;IMG-2;;;;;;;Video;no

            """)
        // when
        let (first, second) = try roundTrip(.icse, path, in: directory)
        // then
        #expect(first.count == 2)
        #expect(second == first)
    }

    @Test("ICSE rows without a header are read in the standard column order")
    func icseWithoutHeader() throws {
        // given
        let directory = try TemporaryDirectory()
        let path = try directory.file("icse.csv", "\(md5A);;;IMG-9;no;;;S;;;;\n")
        // when
        let (records, rejections) = try importAll(.icse, path)
        // then
        #expect(rejections.isEmpty)
        #expect(records.first?.provenance.mediaID == "IMG-9" && records.first?.seriesName == "S")
        #expect(records.first?.distributed == false)
    }

    static var richRecord: HashSetRecord {
        HashSetRecord(
            digests: [digest(.pdq, pdqA), digest(.md5, md5A), digest(.photodna, "a|b:c%d")],
            categories: [
                HashCategory(scheme: .projectVIC, code: "1", nationalCategory: "A", source: "Project VIC"),
                HashCategory(scheme: .legacy, code: "2", nationalCategory: nil, source: "ICSE: x|y"),
                HashCategory(scheme: .national, code: "B", nationalCategory: "B", source: nil),
            ],
            provenance: HashProvenance(
                contributor: "Hotline, Inc.", foundWhere: "NL", foundAt: Date(timeIntervalSince1970: 1_700_000_000.25),
                caseID: "C-\"42\"", mediaID: "77"),
            seriesName: "Series, with comma", victimIdentified: true, offenderIdentified: false, distributed: true,
            baseline: false, knownBenign: true, fileAvailable: true, fileName: "dir/file\nname.jpg", fileSize: 12345,
            mediaType: "image/jpeg", submissionCount: 4)
    }

    @Test("Vigil CSV round trips every field of a record, conflicting categories included")
    func csvRoundTripsEverything() throws {
        // given
        let directory = try TemporaryDirectory()
        let records = [Self.richRecord, HashSetRecord(digests: [digest(.sha256, sha256A)])]
        let path = directory.path("set.csv")
        try exportAll(.csv, records, to: path)
        // when
        let (first, second) = try roundTrip(.csv, path, in: directory)
        // then
        #expect(first == records)
        #expect(second == records)
    }

    @Test("Vigil CSV reads algorithm-named columns and a bare category, and rejects bad rows with their line")
    func csvReadsSimpleTables() throws {
        // given
        let directory = try TemporaryDirectory()
        let mapping = NationalCategoryMapping([.legacy: ["1": "A"]])
        let path = try directory.file(
            "simple.csv",
            """
            md5,sha1,category,file_name,extra
            \(md5A),\(sha1A),1,a.jpg,ignored
            \(md5B),,5,,
            nothex,,1,,
            ,,1,,
            \(md5B),,1,,,

            """)
        // when
        let (records, rejections) = try importAll(
            .csv, path,
            options: HashSetImportOptions(source: "S", categoryMapping: mapping, csvCategoryScheme: .legacy))
        // then
        #expect(records.count == 3)
        #expect(records[0].digests == [digest(.md5, md5A), digest(.sha1, sha1A)])
        #expect(records[0].categories == [HashCategory(scheme: .legacy, code: "1", nationalCategory: "A", source: "S")])
        #expect(records[1].categories.first?.nationalCategory == nil && records[1].categories.first?.code == "5")
        #expect(rejections.map(\.line) == [4, 5])
    }

    @Test("a CSV without any digest column is refused as a whole")
    func csvWithoutDigestColumn() throws {
        // given
        let directory = try TemporaryDirectory()
        let path = try directory.file("bad.csv", "name,size\na,1\n")
        // when / then
        #expect(throws: HashSetFormatError.self) { try importAll(.csv, path) }
    }
}
