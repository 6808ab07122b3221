import Foundation
import Testing
import VigilCore

@testable import VigilFormats

@Suite("md5sum, sha1sum, sha256sum and ThreatExchange lines")
struct ListFormatTests {
    @Test("md5sum text, binary, bare, escaped and tagged lines parse; bad lines are rejected with their number")
    func md5sumParses() throws {
        // given
        let directory = try TemporaryDirectory()
        let path = try directory.file(
            "list.md5",
            """
            \(md5A.uppercased())  photos/a b.jpg
            \(md5B) *bin.dat
            # comment

            \\\(md5A)  dir\\\\new\\nline.jpg
            xyz  broken.jpg
            \(md5B)
            MD5 (tagged (1).png) = \(md5A)
            \(sha1A)  wrong-length.jpg\r

            """, bom: true)
        // when
        let (records, rejections) = try importAll(.md5sum, path, options: HashSetImportOptions(source: "case-7"))
        // then
        #expect(records.map { $0.digests[0].value } == [md5A, md5B, md5A, md5B, md5A])
        #expect(records.map(\.fileName) == ["photos/a b.jpg", "bin.dat", "dir\\new\nline.jpg", nil, "tagged (1).png"])
        #expect(records.allSatisfy { $0.provenance.contributor == "case-7" })
        #expect(rejections.map(\.line) == [6, 9])
        #expect(rejections[0].reason.contains("3 characters"))
        #expect(rejections[1].reason.contains("40 characters, expected 32"))
    }

    @Test("md5sum, sha1sum and sha256sum round trip the digest and file name")
    func digestListsRoundTrip() throws {
        // given
        let directory = try TemporaryDirectory()
        let cases: [(HashSetFormat, String)] = [(.md5sum, md5A), (.sha1sum, sha1A), (.sha256sum, sha256A)]
        for (format, hex) in cases {
            let path = try directory.file(
                "in.\(format.rawValue)",
                "\(hex)  a.jpg\n\\\(hex)  back\\\\slash\n\(hex.uppercased()) *c d.png\n\(hex)\n")
            // when
            let (first, second) = try roundTrip(format, path, in: directory)
            // then
            #expect(first.count == 4)
            #expect(first.map(\.fileName) == ["a.jpg", "back\\slash", "c d.png", nil])
            #expect(second == first)
        }
    }

    @Test("a record without the list's digest is skipped by the writer")
    func writerSkipsOtherAlgorithms() throws {
        // given
        let directory = try TemporaryDirectory()
        let records = [HashSetRecord(digests: [digest(.pdq, pdqA)]), HashSetRecord(digests: [digest(.md5, md5A)])]
        // when
        let written = try exportAll(.md5sum, records, to: directory.path("out.md5"))
        // then
        #expect(written == 1)
        #expect(try String(contentsOfFile: directory.path("out.md5"), encoding: .utf8) == "\(md5A)\n")
    }

    @Test("ThreatExchange lines: space, comma, tab, extra fields; unknown types rejected; round trip")
    func threatExchange() throws {
        // given
        let directory = try TemporaryDirectory()
        let path = try directory.file(
            "te.txt",
            """
            signal_type,signal
            pdq \(pdqA)
            pdq,\(pdqA.uppercased()),extra,fields
            ,pdq,\(pdqA)
            video_md5\t\(md5A) 2024-01-01
            tmk abcdef
            pdq 1234

            """)
        // when
        let (records, rejections) = try importAll(.te, path)
        let (first, second) = try roundTrip(.te, path, in: directory)
        // then
        #expect(
            records.map(\.digests) == [
                [digest(.pdq, pdqA)], [digest(.pdq, pdqA)], [digest(.pdq, pdqA)], [digest(.md5, md5A)],
            ])
        #expect(rejections.map(\.line) == [6, 7])
        #expect(rejections[0].reason.contains("unknown signal type"))
        #expect(second == first)
    }
}

@Suite("Format detection for files given without --format")
struct DetectTests {
    @Test("each format is recognised from its first bytes")
    func detectsFormats() {
        // given
        let samples: [(String, HashSetFormat?)] = [
            ("\u{FEFF}{\"@odata.context\":\"x\",\"value\":[]}", .vics),
            ("MD5;SHA1;PhotoDNA;Image ID\n", .icse),
            ("algorithm,value,other_digests\n", .csv),
            ("md5,category\n", .csv),
            ("pdq \(pdqA)\n", .te),
            // ThreatExchange with commas, with and without its header: the first line's fields are hashes, so it is
            // not a CSV header (it used to be read as one, and every other line was skipped).
            ("pdq,\(pdqA)\npdq,\(pdqA)\n", .te),
            ("signal_type,signal_value\npdq,\(pdqA)\n", .te),
            ("md5,\(md5A)\n", .te),
            ("pdq\t\(pdqA)\n", .te),
            // Vigil's CSV with its header, and a data row of a headerless CSV (not Vigil's: read as ThreatExchange)
            ("algorithm,value\npdq,\(pdqA)\n", .csv),
            ("value,category\n\(md5A),CAT1\n", .csv),
            ("MD5;SHA1;PhotoDNA;Image ID\n\(md5A);\(sha1A);;1\n", .icse),
            ("{\"value\":[]}", .vics),
            ("MD5 (a.jpg) = \(md5A)\n", .md5sum),
            ("\(pdqA)\n", .sha256sum),
            ("# list\n\(md5A)  a.jpg\n", .md5sum),
            ("\(sha1A) *a.jpg\n", .sha1sum),
            ("\(sha256A)  a.jpg\n", .sha256sum),
            ("SQLite format 3\u{0}", .nsrl),
            ("hello world\n", nil),
        ]
        for (text, expected) in samples {
            // when
            let detected = HashSetFormat.detect(head: Array(text.utf8))
            // then
            #expect(detected == expected, "\(text.prefix(30))")
        }
    }
}
