import Foundation
import Testing
import VigilCore

@testable import VigilFormats

@Suite("Project VIC VICS JSON")
struct VICSTests {
    static let v2 = """
        {"@odata.context":"http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media",
         "value":[
          {"MediaID":1,"Category":1,"MD5":"ADEBF3FA3C9BE7F73825E1CB9E2DEA09",
           "SHA1":"2B037F69C566DFDB3A5A79E5360D085959BDDE4C","MediaSize":2835,
           "DateUpdated":"2023-06-07T02:31:49.8300Z","IsPrecategorized":"false","VictimIdentified":"true",
           "OffenderIdentified":false,"IsDistributed":true,"Series":"Synthetic ] } \\" , series ✓",
           "Tags":"tag, with ] brackets","MimeType":"image/jpeg",
           "MediaFiles":[{"FileName":"a.jpg","FilePath":"x\\\\a.jpg","MD5":"ADEBF3FA3C9BE7F73825E1CB9E2DEA09"}]},
          {"MediaID":2,"Category":null,"MD5":"not-a-hash"},
          {"MediaID":"M-3","Category":"2","PhotoDNA":"AAECAwQ=","PrecategorizationSource":"NCMEC"},
          {"MediaID":4,"Category":0}
         ]}
        """

    static let v13 = """
        {"odata.metadata":"http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Cases","value":[
          {"odata.id":"http://x.test/Cases(1)","CaseNumber":"C-1","SourceApplicationName":"tool",
           "Media":[
            {"MediaID":10,"Category":3,"MD5":"0123456789ABCDEF0123456789ABCDEF","IsDistributed":"false",
             "MediaFiles":[{"FileName":"b.png","MD5":"0123456789ABCDEF0123456789ABCDEF"}]},
            {"MediaID":11,"Category":5,"SHA1":"2B037F69C566DFDB3A5A79E5360D085959BDDE4C","VictimIdentified":"maybe"},
            {"MediaID":12,"Category":1,"SHA1":"2B037F69C566DFDB3A5A79E5360D085959BDDE4C"}
           ],
           "TotalMediaFiles":3}
        ]}
        """

    @Test("VICS 2.0 with a BOM: fields, flags as strings or booleans, rejected Media with their line")
    func readsVersion2() throws {
        // given
        let directory = try TemporaryDirectory()
        let path = try directory.file("v2.json", Self.v2, bom: true)
        let mapping = NationalCategoryMapping([.projectVIC: ["1": "A", "2": "B"]])
        // when
        let (records, rejections) = try importAll(
            .vics, path, options: HashSetImportOptions(source: "Project VIC", categoryMapping: mapping))
        // then
        #expect(records.count == 2)
        let first = try #require(records.first)
        #expect(first.digests == [digest(.md5, md5A), digest(.sha1, sha1A)])
        #expect(
            first.categories == [
                HashCategory(scheme: .projectVIC, code: "1", nationalCategory: "A", source: "Project VIC")
            ])
        #expect(first.provenance == HashProvenance(contributor: "Project VIC", mediaID: "1"))
        #expect(first.victimIdentified == true && first.offenderIdentified == false && first.distributed == true)
        #expect(first.seriesName == "Synthetic ] } \" , series ✓")
        #expect(first.fileSize == 2835 && first.fileName == "a.jpg" && first.mediaType == "image/jpeg")
        #expect(records[1].digests == [digest(.photodna, "AAECAwQ=")])
        #expect(records[1].categories.first?.source == "NCMEC")
        #expect(records[1].provenance.mediaID == "M-3")
        #expect(rejections.map(\.line) == [9, 11])
        #expect(rejections[0].reason.contains("MD5"))
        #expect(rejections[1].reason.contains("no MD5"))
    }

    @Test("VICS 1.3 cases: Media inside the case are read, legacy categories by default")
    func readsVersion13() throws {
        // given
        let directory = try TemporaryDirectory()
        let path = try directory.file("v13.json", Self.v13)
        // when
        let (records, rejections) = try importAll(.vics, path)
        // then
        #expect(records.map(\.provenance.mediaID) == ["10", "12"])
        #expect(records[0].categories.map(\.scheme) == [.legacy])
        #expect(records[0].categories.map(\.code) == ["3"])
        #expect(records[0].distributed == false && records[0].fileName == "b.png")
        #expect(rejections == [LineRejection(line: 6, reason: "VictimIdentified: 'maybe' is not true/false")])
    }

    @Test("round trip in both forms preserves every VICS field")
    func roundTrips() throws {
        // given
        let directory = try TemporaryDirectory()
        let v2 = try directory.file("v2.json", Self.v2, bom: true)
        let v13 = try directory.file("v13.json", Self.v13)
        // when
        let fromV2 = try roundTrip(.vics, v2, in: directory, exportOptions: HashSetExportOptions(vicsVersion: .v2_0))
        let fromV13 = try roundTrip(
            .vics, v13, in: directory, exportOptions: HashSetExportOptions(vicsVersion: .v1_3))
        // then
        #expect(fromV2.first.count == 2 && fromV2.second == fromV2.first)
        #expect(fromV13.first.count == 2 && fromV13.second == fromV13.first)
    }

    @Test("the exported file is valid JSON in the announced form")
    func exportIsJSON() throws {
        // given
        let directory = try TemporaryDirectory()
        let records = try importAll(.vics, directory.file("v2.json", Self.v2)).records
        // when
        let path = directory.path("out.json")
        try exportAll(.vics, records, to: path, options: HashSetExportOptions(vicsVersion: .v1_3))
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
        // then
        let root = try #require(object as? [String: Any])
        #expect((root["odata.metadata"] as? String)?.hasSuffix("#Cases") == true)
        let cases = try #require(root["value"] as? [[String: Any]])
        #expect((cases.first?["Media"] as? [Any])?.count == 2)
    }

    @Test("a Media object split across read chunks is reassembled")
    func largeFileAcrossChunks() throws {
        // given: 5,000 Media (about 1.3 MB), more than one read chunk
        let directory = try TemporaryDirectory()
        var text = "{\"@odata.context\":\"x/2.0.xml#Media\",\"value\":["
        for index in 0..<5_000 {
            if index > 0 { text += ",\n" }
            let md5 = hex32(index)
            let series = String(repeating: "s", count: 200)
            text += "{\"MediaID\":\(index),\"Category\":\(index % 5),\"MD5\":\"\(md5)\",\"Series\":\"\(series)\"}"
        }
        text += "]}"
        let path = try directory.file("big.json", text)
        // when
        let (records, rejections) = try importAll(.vics, path)
        // then
        #expect(rejections.isEmpty)
        #expect(records.count == 5_000)
        #expect(records.last?.digests.first?.value == hex32(4_999))
    }

    static let pdqA = String(repeating: "a5", count: 32)
    static let pdqB = String(repeating: "3C", count: 32)
    static let videos = """
        {"@odata.context":"http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media",
         "value":[
          {"MediaID":20,"Category":1,"MD5":"00000000000000000000000000000020","MimeType":"video/mp4",
           "vPDQ":["0,100,\(pdqA),0.000","30,90,\(pdqB),1.000"],"VideoDuration":2.5},
          {"MediaID":21,"MD5":"00000000000000000000000000000021","vPDQ":"\(pdqA),80,0.5\\n\(pdqB),70,1.5"},
          {"MediaID":22,"MD5":"00000000000000000000000000000022","vPDQ":["0,100,\(pdqA),0.000","1,101,\(pdqB),1"]},
          {"MediaID":23,"PhotoDNA":"AAECAwQ=","vPDQ":["0,100,\(pdqA),0.000"]},
          {"MediaID":24,"MD5":"00000000000000000000000000000024","vPDQ":[]},
          {"MediaID":25,"MD5":"00000000000000000000000000000025","PDQ":"\(pdqB)"},
          {"MediaID":26,"MD5":"00000000000000000000000000000026","vPDQ":["0,100,\(pdqA),0"],"VideoDuration":"long"}
         ]}
        """

    @Test("video Media carry their vPDQ frames and duration both ways; a bad frame rejects only its Media")
    func videoRecords() throws {
        // given
        let directory = try TemporaryDirectory()
        let path = try directory.file("videos.json", Self.videos)
        // when
        let (records, rejections) = try importAll(.vics, path)
        // then: two videos (the reference's lines, and the compact form in one string), a file without frames and an
        // image with PDQ
        try #require(records.count == 4, "\(rejections)")
        #expect(
            records[0].video
                == VideoFingerprint(
                    frames: ["0,100,\(Self.pdqA),0.000", "30,90,\(Self.pdqB.lowercased()),1.000"], duration: 2.5))
        #expect(records[1].video?.frames == ["\(Self.pdqA),80,0.500", "\(Self.pdqB.lowercased()),70,1.500"])
        #expect(records[2].video == nil, "an empty vPDQ list is no fingerprint; the file digests stand")
        #expect(records[3].video == nil && records[3].digest(.pdq)?.value == Self.pdqB.lowercased())
        let reasons = rejections.map(\.reason)
        #expect(reasons.count == 3, "\(rejections)")
        #expect(reasons.contains { $0.contains("vPDQ line 2") }, "a quality of 101, named by its frame")
        #expect(reasons.contains { $0.contains("needs the file's MD5") }, "a video is known by its file digests")
        #expect(reasons.contains { $0.contains("VideoDuration") })
        // and exported, the frames come back as they went in
        let out = directory.path("out.json")
        try exportAll(.vics, records, to: out, options: HashSetExportOptions(vicsVersion: .v2_0))
        let again = try importAll(.vics, out)
        #expect(again.rejections.isEmpty)
        #expect(again.records.map(\.video) == records.map(\.video))
        #expect(again.records.map(\.digests) == records.map(\.digests))
    }

    @Test("a file that is not JSON is refused")
    func notJSON() throws {
        // given
        let directory = try TemporaryDirectory()
        let path = try directory.file("bad.json", "MD5;SHA1\n")
        // when / then
        #expect(throws: HashSetFormatError.self) { try importAll(.vics, path) }
    }
}

func hex32(_ value: Int) -> String {
    let text = String(value, radix: 16)
    return String(repeating: "0", count: 32 - text.count) + text
}
