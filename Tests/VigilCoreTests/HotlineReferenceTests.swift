import Foundation
import Testing
import VigilCore

/// Hands out fixed bytes, so references and nonces are predictable in tests.
struct HotlineTestTokens: TokenSource {
    var bytes: [UInt8]
    func randomBytes(_ count: Int) -> [UInt8] { (0..<count).map { bytes[$0 % bytes.count] } }
}

@Suite("Hotline: report references")
struct HotlineReferenceTests {
    @Test("a reference is R-, four symbols, a dash and four symbols of the 32-symbol alphabet, from 40 random bits")
    func format() throws {
        // given five random bytes
        let tokens = HotlineTestTokens(bytes: [0x39, 0xE9, 0x0A, 0x3F, 0xAD])
        // when a reference is drawn
        let reference = ReportReference(randomFrom: tokens)
        // then it carries exactly those 40 bits, written as 8 symbols
        #expect(reference.value == 0x39_E90A_3FAD)
        #expect(reference.description.count == 11)
        #expect(reference.description.hasPrefix("R-"))
        #expect(Array(reference.description)[6] == "-")
        #expect(
            reference.compact.allSatisfy { ReportReference.alphabet.contains(UInt8(ascii: $0.unicodeScalars.first!)) })
        #expect(try ReportReference(parsing: reference.description) == reference)
    }

    @Test("the alphabet has 32 symbols and none of the look-alike letters I, L, O or U")
    func alphabet() {
        let symbols = Set(ReportReference.alphabet)
        #expect(symbols.count == 32)
        for letter in "ILOU" { #expect(!symbols.contains(UInt8(ascii: letter.unicodeScalars.first!))) }
    }

    @Test("every value from 0 to 2^40-1 round-trips through its text (spot checks at the edges and inside)")
    func roundTrip() throws {
        for value: UInt64 in [0, 1, 31, 32, 0xFFFFF, 0x12_3456_789A, (1 << 40) - 1] {
            let reference = try ReportReference(value: value)
            #expect(try ReportReference(parsing: reference.description).value == value)
            #expect(try ReportReference(parsing: reference.compact).value == value)
        }
        #expect(try ReportReference(value: 0).description == "R-0000-0000")
        #expect(try ReportReference(value: (1 << 40) - 1).description == "R-ZZZZ-ZZZZ")
        #expect(throws: ReportReferenceError.outOfRange) { try ReportReference(value: 1 << 40) }
    }

    @Test("people's spellings are read: lower case, no dashes, spaces, no prefix, O for 0, I and L for 1")
    func tolerant() throws {
        let expected = try ReportReference(parsing: "R-7KQ4-M2XD")
        for typed in [
            "r-7kq4-m2xd", "R7KQ4M2XD", "7KQ4M2XD", "7kq4-m2xd", " R - 7KQ4 M2XD ", "R–7KQ4–M2XD", "7KQ4\u{00A0}M2XD",
        ] {
            #expect(try ReportReference(parsing: typed) == expected, "\(typed)")
        }
        #expect(try ReportReference(parsing: "R-O0I1-L000") == ReportReference(parsing: "R-0011-1000"))
        #expect(ReportReference("r-7kq4-m2xd") == expected)
    }

    @Test("10,000 values round-trip however they are mistyped (case, dashes, spaces, look-alike letters)")
    func mistyped() throws {
        var seed: UInt64 = 42
        func next() -> UInt64 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return seed >> 24
        }
        for _ in 0..<10_000 {
            let reference = try ReportReference(value: next() & ((1 << 40) - 1))
            var typed = ""
            for c in reference.description {
                switch next() % 8 {
                case 0: typed += c.lowercased()
                case 1 where c == "-": continue
                case 2 where c == "0": typed += ["O", "o"][Int(next() % 2)]
                case 3 where c == "1": typed += ["I", "i", "L", "l"][Int(next() % 4)]
                case 4: typed += " \(c)"
                default: typed.append(c)
                }
            }
            #expect(try ReportReference(parsing: typed) == reference, "\(typed)")
        }
    }

    @Test("malformed references are refused with the reason")
    func malformed() {
        #expect(throws: ReportReferenceError.empty) { try ReportReference(parsing: " - ") }
        #expect(throws: ReportReferenceError.wrongLength(7)) { try ReportReference(parsing: "R-7KQ4-M2X") }
        #expect(throws: ReportReferenceError.wrongLength(9)) { try ReportReference(parsing: "X7KQ4M2XD") }
        #expect(throws: ReportReferenceError.wrongLength(9)) { try ReportReference(parsing: "R-7KQ4-M2XDD") }
        #expect(throws: ReportReferenceError.invalidCharacter("U")) { try ReportReference(parsing: "R-7KQ4-M2XU") }
        #expect(throws: ReportReferenceError.invalidCharacter("*")) { try ReportReference(parsing: "R-7KQ4-M2X*") }
        #expect(throws: ReportReferenceError.invalidCharacter("٧")) { try ReportReference(parsing: "R-٧KQ4-M2XD") }
        #expect(throws: ReportReferenceError.self) {
            try ReportReference(parsing: String(repeating: "7", count: 10_000))
        }
        #expect(!ReportReference.isValid("R-7KQ4"))
        #expect(ReportReference.isValid("R-7KQ4-M2XD"))
    }

    @Test("a reference encodes as its display form in JSON and refuses a bad one on decoding")
    func codable() throws {
        let reference = try ReportReference(parsing: "R-7KQ4-M2XD")
        let data = try JSONEncoder().encode([reference])
        #expect(String(decoding: data, as: UTF8.self) == #"["R-7KQ4-M2XD"]"#)
        #expect(try JSONDecoder().decode([ReportReference].self, from: Data(#"["r7kq4m2xd"]"#.utf8)) == [reference])
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([ReportReference].self, from: Data(#"["R-7KQ4"]"#.utf8))
        }
    }

    @Test("references from the system source differ")
    func random() {
        let source = SystemTokenSource()
        let drawn = Set((0..<200).map { _ in ReportReference(randomFrom: source) })
        #expect(drawn.count == 200)
    }
}
