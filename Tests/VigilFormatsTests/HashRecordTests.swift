import Foundation
import Testing
import VigilCore

@testable import VigilFormats

@Suite("Hash digests and categories")
struct HashRecordTests {
    @Test("hex values are lowercased and lengths checked per algorithm")
    func normalisesAndValidates() throws {
        // given / when
        let upper = try HashDigest(.md5, "  ADEBF3FA3C9BE7F73825E1CB9E2DEA09 ")
        // then
        #expect(upper.value == md5A)
        #expect(throws: HashDigestError.wrongLength(.sha1, expected: 40, actual: 32)) { try HashDigest(.sha1, md5A) }
        #expect(throws: HashDigestError.notHexadecimal(.pdq)) {
            try HashDigest(.pdq, String(repeating: "g", count: 64))
        }
        #expect(throws: HashDigestError.empty(.sha256)) { try HashDigest(.sha256, "   ") }
        #expect(try HashDigest(.photodna, " AbC+/= ").value == "AbC+/=")
    }

    @Test("the operator's table maps original codes to national categories and keeps the code")
    func mapsCategories() {
        // given
        let mapping = NationalCategoryMapping([.projectVIC: ["1": "A"], .legacy: ["1": "A", "2": "B"]])
        // when
        let mapped = mapping.category(scheme: .legacy, code: "2", source: "ICSE")
        let unmapped = mapping.category(scheme: .projectVIC, code: "4", source: nil)
        // then
        #expect(mapped == HashCategory(scheme: .legacy, code: "2", nationalCategory: "B", source: "ICSE"))
        #expect(unmapped.code == "4" && unmapped.nationalCategory == nil)
        #expect(CategoryScheme.projectVIC.label(for: "1") == "Child abuse material (CAM)")
        #expect(CategoryScheme.legacy.label(for: "5") == "Non-pertinent")
    }

    @Test("ISO 8601 timestamps parse with offsets and fractions and format back exactly")
    func timestamps() throws {
        // given
        let text = "2023-06-07T02:31:49.8300+02:00"
        // when
        let date = try #require(ISOTimestamp.parse(text))
        let formatted = ISOTimestamp.format(date)
        // then
        #expect(formatted == "2023-06-07T00:31:49.830Z")
        #expect(ISOTimestamp.parse(formatted) == date)
        #expect(ISOTimestamp.parse("2024-02-29") == Date(timeIntervalSince1970: 1_709_164_800))
        #expect(ISOTimestamp.parse("yesterday") == nil)
    }
}

@Suite("Merging what several sources say about one hash")
struct HashSetRecordMergeTests {
    @Test("conflicting categories are kept side by side, true flags stay true, gaps are filled")
    func mergeKeepsConflicts() {
        // given
        var record = HashSetRecord(
            digests: [digest(.md5, md5A)],
            categories: [HashCategory(scheme: .projectVIC, code: "1", source: "Project VIC")],
            provenance: HashProvenance(contributor: "Project VIC"), victimIdentified: true, distributed: nil,
            submissionCount: 2)
        let other = HashSetRecord(
            digests: [digest(.md5, md5A), digest(.sha1, sha1A)],
            categories: [HashCategory(scheme: .legacy, code: "2", source: "ICSE")],
            provenance: HashProvenance(contributor: "ICSE", caseID: "C-1"), seriesName: "S", victimIdentified: false,
            distributed: false, submissionCount: 5)
        // when
        let changed = record.merge(other)
        // then
        #expect(changed)
        #expect(record.digests == [digest(.md5, md5A), digest(.sha1, sha1A)])
        #expect(record.categories.map(\.source) == ["Project VIC", "ICSE"])
        #expect(record.victimIdentified == true && record.distributed == false)
        #expect(record.seriesName == "S" && record.submissionCount == 5)
        #expect(record.provenance == HashProvenance(contributor: "Project VIC", caseID: "C-1"))
    }

    @Test("merging the same record again changes nothing")
    func mergeIsIdempotent() {
        // given
        let incoming = HashSetRecord(
            digests: [digest(.pdq, pdqA)], categories: [HashCategory(scheme: .national, code: "A")], baseline: true)
        var record = incoming
        // when
        let changed = record.merge(incoming)
        // then
        #expect(!changed)
        #expect(record == incoming)
    }
}
