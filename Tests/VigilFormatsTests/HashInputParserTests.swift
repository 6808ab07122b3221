import Foundation
import Testing
import VigilCore

@testable import VigilFormats

@Suite("Hash input for vigil match")
struct HashInputParserTests {
    func parse(_ text: String, sixtyFour: HashAlgorithm = .pdq) throws -> ([HashInput], [LineRejection]) {
        let directory = try TemporaryDirectory()
        let parser = try HashInputParser(path: directory.file("in.txt", text), sixtyFourDigitAlgorithm: sixtyFour)
        var inputs: [HashInput] = []
        var rejections: [LineRejection] = []
        while let item = try parser.next() {
            switch item {
            case .hashes(let found): inputs += found
            case .rejected(let rejection): rejections.append(rejection)
            }
        }
        return (inputs, rejections)
    }

    @Test("hex per line: length picks the algorithm, prefixes override, bad lines are rejected")
    func hexLines() throws {
        // given
        let text = """
            \(md5A)
            \(sha1A.uppercased())
            \(pdqA)
            sha256:\(sha256A)
            pdq \(pdqA)
            \(sha256A)  file name.bin
            nonsense

            """
        // when
        let (inputs, rejections) = try parse(text)
        // then
        #expect(inputs.map(\.digest.algorithm) == [.md5, .sha1, .pdq, .sha256, .pdq, .sha256])
        #expect(inputs.map(\.line) == [1, 2, 3, 4, 5, 6])
        #expect(inputs[5].path == "file name.bin")
        #expect(rejections.map(\.line) == [7])
    }

    @Test("a bare 64-digit line is SHA-256 when the caller says so")
    func sixtyFourAsSHA256() throws {
        // when
        let (inputs, _) = try parse("\(sha256A)\n", sixtyFour: .sha256)
        // then
        #expect(inputs.map(\.digest) == [digest(.sha256, sha256A)])
    }

    /// Aligned columns as `vigil hash` prints them: the first right-aligned, the others left-aligned, two spaces
    /// apart, the path last and unpadded.
    static func aligned(_ rows: [[String]]) -> String {
        let columns = rows[0].count
        var widths = [Int](repeating: 0, count: columns)
        for row in rows {
            for (index, cell) in row.enumerated() where index < columns - 1 {
                widths[index] = max(widths[index], cell.count)
            }
        }
        return rows.map { row in
            row.enumerated().map { index, cell in
                let pad = String(repeating: " ", count: index < columns - 1 ? widths[index] - cell.count : 0)
                if index == columns - 1 { return cell }
                return (index == 0 ? pad + cell : cell + pad) + "  "
            }.joined()
        }.joined(separator: "\n") + "\n"
    }

    @Test("vigil hash text output: header layout, paths with spaces, '-' for missing values, 'low' qualities")
    func hashTextOutput() throws {
        // given
        let text = Self.aligned([
            ["SIZE", "MD5", "SHA1", "SHA256", "PDQ", "QUALITY", "PATH"],
            ["1234", md5A, sha1A, sha256A, pdqA, "87", "photos/a b.jpg"],
            ["10", md5B, sha1A, sha256A, "-", "-", "docs/readme.txt"],
            ["99", md5B, sha1A, sha256A, pdqA, "20 low", " lead space.png"],
        ])
        // when
        let (inputs, rejections) = try parse(text)
        // then
        #expect(rejections.isEmpty)
        #expect(inputs.count == 11)
        #expect(inputs.filter { $0.line == 2 }.map(\.digest.algorithm) == [.md5, .sha1, .sha256, .pdq])
        #expect(
            inputs.first { $0.digest.algorithm == .pdq }
                == HashInput(
                    digest: digest(.pdq, pdqA), path: "photos/a b.jpg", quality: 87, line: 2))
        #expect(
            inputs.filter { $0.line == 3 }.map(\.path) == ["docs/readme.txt", "docs/readme.txt", "docs/readme.txt"])
        #expect(inputs.last == HashInput(digest: digest(.pdq, pdqA), path: " lead space.png", quality: 20, line: 4))
    }

    @Test("vigil hash text output with only PDQ columns, and rows without a header")
    func hashTextOutputOtherLayouts() throws {
        // given
        let pdqOnly = Self.aligned([
            ["SIZE", "PDQ", "QUALITY", "PATH"],
            ["1234", pdqA, "100", "a b.jpg"],
        ])
        let headerless = "1234  \(md5A)  \(sha1A)  \(sha256A)  \(pdqA)  87 low  c d.jpg\n"
        // when
        let (fromPDQOnly, pdqRejections) = try parse(pdqOnly)
        let (fromHeaderless, headerlessRejections) = try parse(headerless)
        // then
        #expect(pdqRejections.isEmpty && headerlessRejections.isEmpty)
        #expect(fromPDQOnly == [HashInput(digest: digest(.pdq, pdqA), path: "a b.jpg", quality: 100, line: 2)])
        #expect(fromHeaderless.count == 4)
        #expect(fromHeaderless.last == HashInput(digest: digest(.pdq, pdqA), path: "c d.jpg", quality: 87, line: 1))
    }

    @Test("vigil hash CSV and JSON-lines output")
    func hashCSVAndJSON() throws {
        // given
        let csv = """
            path,size,md5,sha1,sha256,pdq,pdq_quality,pdq_low_quality
            "dir, with comma/a.jpg",1234,\(md5A),\(sha1A),\(sha256A),\(pdqA),90,false
            b.txt,5,\(md5B),,,,,

            """
        let json = """
            {"path":"a.jpg","size":1234,"type":"jpeg","md5":"\(md5A)","sha1":"\(sha1A)",\
            "sha256":"\(sha256A)","pdq":"\(pdqA)","pdq_quality":90,"pdq_low_quality":false}
            {"path":"b.txt","size":5,"md5":"\(md5B)","sha1":null,"sha256":null,"pdq":null,"pdq_quality":null}
            {"path":"c.txt","md5":"short"}

            """
        // when
        let (fromCSV, csvRejections) = try parse(csv)
        let (fromJSON, jsonRejections) = try parse(json)
        // then
        #expect(csvRejections.isEmpty)
        #expect(fromCSV.count == 5)
        #expect(fromCSV.first { $0.digest.algorithm == .pdq }?.quality == 90)
        #expect(fromCSV[0].path == "dir, with comma/a.jpg")
        #expect(fromJSON.map(\.digest.algorithm) == [.md5, .sha1, .sha256, .pdq, .md5])
        #expect(fromJSON.last?.path == "b.txt")
        #expect(jsonRejections.map(\.line) == [3])
    }
}
