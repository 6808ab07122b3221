import PDQ
import Testing
import VigilMedia

@Suite("Output formats")
struct HashFormatterTests {
    static let digests = FileDigests(
        md5: "900150983cd24fb0d6963f7d28e17f72", sha1: "a9993e364706816aba3e25717850c26c9cd0d89d",
        sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    static let hash = PDQHash(words: (0x0123_4567_89AB_CDEF, 0, UInt64.max, 42))
    static let records = [
        HashRecord(
            path: "a \"quoted\", name.jpg", size: 3, type: .jpeg, digests: digests,
            pdq: PDQResult(hash: hash, quality: 30)),
        HashRecord(path: "notes.txt", size: 12345, type: .other, digests: digests, pdq: nil),
    ]

    @Test("CSV has a header, quotes awkward paths, leaves PDQ empty for non-images and flags low quality")
    func csv() {
        // given
        let formatter = HashFormatter(format: .csv, options: HashOptions())
        // when
        let lines = formatter.render(Self.records).split(separator: "\n").map(String.init)
        // then
        #expect(
            lines == [
                "path,size,md5,sha1,sha256,pdq,pdq_quality,pdq_low_quality",
                "\"a \"\"quoted\"\", name.jpg\",3,\(Self.digests.md5),\(Self.digests.sha1),\(Self.digests.sha256),"
                    + "\(Self.hash.hex),30,true",
                "notes.txt,12345,\(Self.digests.md5),\(Self.digests.sha1),\(Self.digests.sha256),,,",
            ])
    }

    @Test("JSON is one escaped object per line with nulls for what is missing")
    func json() {
        // given
        let formatter = HashFormatter(format: .json, options: HashOptions(content: .pdqOnly))
        let record = HashRecord(path: "tab\there\u{1}.png", size: 1, type: .png, digests: nil, pdq: nil)
        // when
        let line = formatter.jsonLine(record)
        // then
        #expect(
            line == #"{"path":"tab\there\u0001.png","size":1,"type":"png","pdq":null,"pdq_quality":null,"#
                + #""pdq_low_quality":null}"#)
    }

    @Test("text aligns columns under a header and marks low quality")
    func text() {
        // given
        let formatter = HashFormatter(format: .text, options: HashOptions())
        // when
        let lines = formatter.render(Self.records).split(separator: "\n").map(String.init)
        // then
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix(" SIZE  MD5 "))
        #expect(lines[1].hasPrefix("    3  \(Self.digests.md5)"))
        #expect(lines[1].contains("\(Self.hash.hex)  30 low   a \"quoted\", name.jpg"))
        #expect(lines[2].hasPrefix("12345  "))
        // the path column starts at the same offset on every line
        let pathColumn = lines[0].count - "PATH".count
        #expect(lines[1].count - Self.records[0].path.count == pathColumn)
        #expect(lines[2].count - Self.records[1].path.count == pathColumn)
    }

    @Test("dihedral variants add seven columns after the plain hash")
    func dihedralColumns() {
        // given
        let formatter = HashFormatter(format: .csv, options: HashOptions(dihedral: true))
        var record = Self.records[1]
        record.pdq = PDQResult(hash: Self.hash, quality: 90)
        record.dihedral = Array(repeating: Self.hash, count: 8)
        // when
        let line = formatter.csvLine(record)
        // then
        #expect(
            formatter.csvHeader.hasSuffix(
                ",pdq_rot90,pdq_rot180,pdq_rot270,pdq_flipx,pdq_flipy,pdq_flipplus1,pdq_flipminus1"))
        #expect(line.split(separator: ",").count == formatter.csvHeader.split(separator: ",").count)
        #expect(line.hasSuffix(String(repeating: "," + Self.hash.hex, count: 7)))
    }
}
