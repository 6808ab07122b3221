import Foundation
import Testing
import VigilCore

@testable import VigilStore

/// The hand-written record reader must give exactly what `JSONDecoder` gives: for everything the writer writes, and
/// (by falling back) for everything else.
@Suite struct HashSetRecordJSONTests {
    static func jsonDecoder(_ text: String) throws -> HashSetRecord {
        try HashSetStore.decoder.decode(HashSetRecord.self, from: Data(text.utf8))
    }

    /// Texts that test escapes: quotes, backslashes, slashes, control characters, non-ASCII and astral scalars.
    static let awkward = [
        "", "plain", "quote \" and backslash \\", "a/b", "tab\tnew\nline\r", "\u{01}\u{1F}", "Zoë — ünïcødé",
        "emoji 🧒🏽", "日本語", "\u{7F}", "end\\",
    ]

    static func randomRecord(_ g: inout SystemRandomNumberGenerator) -> HashSetRecord {
        func text() -> String? {
            Bool.random(using: &g) ? nil : awkward.randomElement(using: &g)! + String(Int.random(in: 0..<99, using: &g))
        }
        func flag() -> Bool? { [nil, true, false].randomElement(using: &g)! }
        var digests: [HashDigest] = []
        if Bool.random(using: &g) {
            digests.append(try! HashDigest(.md5, String(repeating: "aB", count: 16)))
        }
        digests.append(
            try! HashDigest(.pdq, String((0..<64).map { _ in "0123456789abcdef".randomElement(using: &g)! })))
        if Bool.random(using: &g) { digests.append(try! HashDigest(.photodna, "opaque \"text\" / \\ é")) }
        let categories = (0..<Int.random(in: 0...3, using: &g)).map { _ in
            HashCategory(
                scheme: [.projectVIC, .legacy, .national].randomElement(using: &g)!, code: text() ?? "1",
                nationalCategory: text(), source: text())
        }
        return HashSetRecord(
            digests: digests, categories: categories,
            provenance: HashProvenance(
                contributor: text(), foundWhere: text(),
                foundAt: Bool.random(using: &g)
                    ? Date(timeIntervalSince1970: [0, 1_700_000_000, 1_700_000_000.25, -5.5].randomElement(using: &g)!)
                    : nil,
                caseID: text(), mediaID: text()),
            seriesName: text(), victimIdentified: flag(), offenderIdentified: flag(), distributed: flag(),
            baseline: flag(), knownBenign: Bool.random(using: &g), fileAvailable: flag(), fileName: text(),
            fileSize: Bool.random(using: &g) ? Int64.random(in: 0...Int64.max, using: &g) : nil, mediaType: text(),
            submissionCount: Bool.random(using: &g) ? Int.random(in: 0...1000, using: &g) : nil)
    }

    @Test func readsWhatTheWriterWritesAsJSONDecoderDoes() throws {
        var g = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let record = Self.randomRecord(&g)
            let text = HashSetRecordJSON.encode(record)
            var copy = text
            let direct = copy.withUTF8 { bytes -> HashSetRecord? in
                var reader = JSONReader(bytes: bytes)
                return reader.hashSetRecord()
            }
            // The fast path must take every record the writer writes, and agree with JSONDecoder and the original.
            #expect(direct == record, "\(text)")
            #expect(try Self.jsonDecoder(text) == record)
            #expect(try HashSetRecordJSON.decode(text) == record)
        }
    }

    /// What the reader does not expect goes to JSONDecoder: the same record, or the same failure.
    @Test(arguments: [
        // Another key order, white space, nulls for optional fields, escapes the writer never uses.
        #"{ "provenance" : { "contributor" : null, "foundAt" : 1.5e3 }, "knownBenign" : false, "digests" : [ { "value" : "\u0061bc", "algorithm" : "photodna" } ], "categories" : [ ], "seriesName" : null, "fileSize" : null }"#,
        // A key the reader does not know (a future or older field): JSONDecoder ignores it.
        #"{"categories":[],"digests":[],"future":{"x":[1,2]},"knownBenign":true,"provenance":{}}"#,
        // A value JSONDecoder reads but the reader leaves to it: a size with an exponent.
        #"{"categories":[],"digests":[],"fileSize":1e3,"knownBenign":true,"provenance":{}}"#,
        // A surrogate pair.
        #"{"categories":[],"digests":[],"fileName":"\ud83e\uddd2","knownBenign":false,"provenance":{}}"#,
    ])
    func leavesTheRestToJSONDecoder(_ text: String) throws {
        #expect(try HashSetRecordJSON.decode(text) == Self.jsonDecoder(text))
    }

    @Test(arguments: [
        #"{"categories":[],"digests":[],"provenance":{}}"#,  // knownBenign missing
        #"{"categories":[],"digests":[{"algorithm":"crc32","value":"00"}],"knownBenign":false,"provenance":{}}"#,
        #"{"categories":[],"digests":[],"knownBenign":false,"provenance":{}} trailing"#,
        #"{"categories":[],"digests":[],"knownBenign":false,"provenance":{},"fileName":"\ud800"}"#,
        #"{"categories":[],"digests":[],"knownBenign":"no","provenance":{}}"#,
        "",
    ])
    func failsWhereJSONDecoderFails(_ text: String) {
        #expect(throws: (any Error).self) { try Self.jsonDecoder(text) }
        #expect(throws: (any Error).self) { try HashSetRecordJSON.decode(text) }
    }

    @Test("a string that is not UTF-8 is refused, with or without escapes, as JSONDecoder refuses it")
    func invalidUTF8() {
        for body in [[0xFF], [0x5C, 0x6E, 0xC3]] as [[UInt8]] {
            let bytes = Array(#"{"a":""#.utf8) + body + Array(#""}"#.utf8)
            let read = bytes.withUnsafeBufferPointer { buffer -> Bool in
                var r = JSONReader(bytes: buffer)
                return r.object { _, r in r.string() != nil }
            }
            #expect(!read)
            #expect(throws: (any Error).self) { try JSONDecoder().decode([String: String].self, from: Data(bytes)) }
        }
    }
}
