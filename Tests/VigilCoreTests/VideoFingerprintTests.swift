import Testing
import VigilCore

private let vpdqHex = String(repeating: "0123456789abcdef", count: 4)

@Suite("vPDQ lines: the one reader every import, match and file goes through")
struct VideoFingerprintTests {
    static let hex = vpdqHex

    @Test("the reference's lines and the compact form are read and normalised; blank lines and comments skipped")
    func forms() throws {
        let lines = [
            "# vpdq of clip.mp4", "", "0,100,\(Self.hex.uppercased()),0", "  1 , 87 , \(Self.hex) , 1.0 ",
            "\(Self.hex),55,2.5",
        ]
        let read = try VideoFingerprint.lines(lines).get()
        #expect(read.map(\.frameNumber) == [0, 1, nil])
        #expect(read.map(\.quality) == [100, 87, 55])
        #expect(read.allSatisfy { $0.hex == Self.hex })
        #expect(
            try VideoFingerprint.normalised(lines).get() == [
                "0,100,\(Self.hex),0.000", "1,87,\(Self.hex),1.000", "\(Self.hex),55,2.500",
            ])
    }

    @Test("a byte-order mark before the first line is read through (spreadsheets write one); anywhere else it is not")
    func byteOrderMark() throws {
        let first = try VideoFingerprint.lines(["\u{FEFF}0,100,\(Self.hex),0", "1,100,\(Self.hex),1"]).get()
        #expect(first.count == 2 && first[0].frameNumber == 0)
        // A mark alone on the first line is a blank line.
        #expect(try VideoFingerprint.lines(["\u{FEFF}", "0,100,\(Self.hex),0"]).get().count == 1)
        let second = VideoFingerprint.lines(["0,100,\(Self.hex),0", "\u{FEFF}1,100,\(Self.hex),1"])
        #expect(throws: VideoFingerprint.LineFailure.self) { try second.get() }
        if case .failure(let failure) = second { #expect(failure.line == 2) }
    }

    @Test(
        "a bad line fails with its number counted from 1, blank lines included: quality, time, hash, field count",
        arguments: [
            "0,101,\(vpdqHex),0", "0,-1,\(vpdqHex),0", "0,100,\(vpdqHex),-1", "0,100,\(vpdqHex),inf",
            "0,100,\(vpdqHex),x",
            "0,100,\(vpdqHex.dropLast()),0", "0,100,\(vpdqHex.dropLast())g,0", "-1,100,\(vpdqHex),0", "0,100",
            "\(vpdqHex),100",
        ])
    func badLine(_ line: String) {
        let result = VideoFingerprint.lines(["0,100,\(Self.hex),0", "", line])
        guard case .failure(let failure) = result else {
            Issue.record("\(line) was read")
            return
        }
        #expect(failure.line == 3 && !failure.tooMany)
        #expect(failure.description.hasPrefix("line 3: not a vPDQ line"))
    }

    @Test("more frames than the limit is a failure of its own, at the first line over it")
    func limit() {
        let lines = (0..<5).map { "\($0),100,\(Self.hex),\($0)" }
        #expect((try? VideoFingerprint.lines(lines, limit: 5).get())?.count == 5)
        guard case .failure(let failure) = VideoFingerprint.lines(lines, limit: 4) else {
            Issue.record("five frames read under a limit of four")
            return
        }
        #expect(failure.tooMany && failure.line == 5)
        #expect(failure.description.contains("more than \(VideoFingerprint.maxFrames) frames"))
    }

    @Test("a category written SCHEME:CODE is parsed once for every importer; anything else is refused")
    func category() {
        let mapping = NationalCategoryMapping([.projectVIC: ["1": "A"]])
        let vic = mapping.category(parsing: "projectvic-us:1", source: "partner")
        #expect(vic == HashCategory(scheme: .projectVIC, code: "1", nationalCategory: "A", source: "partner"))
        // The code may hold a colon; spaces around either part go.
        #expect(mapping.category(parsing: " national : B:2 ", source: nil)?.code == "B:2")
        #expect(mapping.category(parsing: "national:B", source: nil)?.nationalCategory == "B")
        for bad in ["", "1", "projectvic-us:", ":1", "projectvic-us"] {
            #expect(mapping.category(parsing: bad, source: nil) == nil, "\(bad)")
        }
    }
}
