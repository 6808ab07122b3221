import Foundation
import Testing
import VigilCore

@testable import VigilFormats

@Suite("Streaming in bounded memory")
struct StreamingTests {
    /// Writes `count` md5sum lines (distinct digests, synthetic names) and returns the path.
    static func writeMD5List(count: Int, in directory: TemporaryDirectory) throws -> String {
        let path = directory.path("big.md5")
        let writer = try HashSetFormat.md5sum.makeWriter(path: path)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for index in 0..<count {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let high = String(state, radix: 16)
            let low = String(UInt64(index), radix: 16)
            let hex =
                String(repeating: "0", count: 16 - high.count) + high + String(repeating: "0", count: 16 - low.count)
                + low
            try writer.write(HashSetRecord(digests: [try HashDigest(.md5, hex)], fileName: "dir/file-\(index).jpg"))
        }
        try writer.finish()
        return path
    }

    @Test("200,000 md5sum lines stream through a fixed 1 MiB buffer")
    func md5sumStreams() throws {
        // given
        let directory = try TemporaryDirectory()
        let lines = 200_000
        let path = try Self.writeMD5List(count: lines, in: directory)
        let reader = try HashSetFormat.md5sum.makeReader(path: path)
        // when
        let started = ContinuousClock.now
        var records = 0
        var lastLine = 0
        while let item = try reader.next() {
            guard case .record(_, let line) = item else { continue }
            records += 1
            lastLine = line
        }
        let elapsed = ContinuousClock.now - started
        // then
        #expect(records == lines && lastLine == lines)
        let buffer = try #require((reader as? DigestListReader)?.input.buffer.count)
        #expect(buffer == ByteInput.chunkSize, "the read buffer must not grow with the file")
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("md5sum streaming: \(lines) lines in \(seconds) s = \(Int(Double(lines) / seconds)) records/s (debug)")
    }

    @Test("a line longer than the buffer is still read whole")
    func longLine() throws {
        // given
        let directory = try TemporaryDirectory()
        let name = String(repeating: "n", count: ByteInput.chunkSize + 10)
        let path = try directory.file("long.md5", "\(md5A)  \(name)\n\(md5B)  short\n")
        // when
        let (records, rejections) = try importAll(.md5sum, path)
        // then
        #expect(rejections.isEmpty)
        #expect(records.map(\.fileName) == [name, "short"])
    }

    @Test("readers take an open descriptor such as stdin")
    func readsDescriptor() throws {
        // given
        let directory = try TemporaryDirectory()
        let path = try directory.file("in.te", "pdq \(pdqA)\n")
        let handle = try #require(FileHandle(forReadingAtPath: path))
        defer { try? handle.close() }
        // when
        let (records, _) = try HashSetFormat.te.makeReader(fileDescriptor: handle.fileDescriptor).readAll()
        // then
        #expect(records.map(\.digests) == [[digest(.pdq, pdqA)]])
    }
}

@Suite("Batches for one transaction each")
struct BatchTests {
    @Test("batches hold at most the asked number of records and carry the rejections met")
    func batches() throws {
        // given
        let directory = try TemporaryDirectory()
        let path = try directory.file("b.md5", "\(md5A)  a\nbad\n\(md5B)  b\n\(md5A)  c\n")
        let reader = try HashSetFormat.md5sum.makeReader(path: path)
        // when
        let first = try #require(try reader.nextBatch(maxRecords: 2))
        let second = try #require(try reader.nextBatch(maxRecords: 2))
        let end = try reader.nextBatch(maxRecords: 2)
        // then
        #expect(first.records.map(\.line) == [1, 3] && first.rejections.map(\.line) == [2])
        #expect(second.records.map(\.record.fileName) == ["c"] && second.rejections.isEmpty)
        #expect(end == nil)
    }
}

@Suite("Hostile input stays bounded")
struct BoundedInputTests {
    @Test("a line longer than the limit is rejected and skipped, and reading goes on")
    func overlongLine() throws {
        // given
        let directory = try TemporaryDirectory()
        let long = String(repeating: "x", count: 5_000)
        let path = try directory.file("long.md5", "\(md5A)  a\n\(md5B)  \(long)\n\(md5B)  c\n\(long)")
        let reader = DigestListReader(
            input: try ByteInput(path: path, maxLineLength: 1_000), algorithm: .md5,
            options: HashSetImportOptions())
        // when
        let (records, rejections) = try reader.readAll()
        // then
        #expect(records.map(\.fileName) == ["a", "c"])
        #expect(
            rejections == [
                LineRejection(line: 2, reason: "line longer than 1000 bytes"),
                LineRejection(line: 4, reason: "line longer than 1000 bytes"),
            ])
    }

    @Test("a stray quote in ICSE CSV costs a bounded number of lines, not the rest of the file")
    func strayQuote() throws {
        // given
        let directory = try TemporaryDirectory()
        var text = "MD5;SHA1;PhotoDNA;Image ID\n\(md5A);;;\"IMG-1\n"
        for _ in 0..<100 { text += "\(md5B);;;IMG-2\n" }
        let path = try directory.file("stray.csv", text)
        // when
        let (records, rejections) = try importAll(.icse, path)
        // then
        #expect(rejections.count == 1)
        #expect(rejections.first?.line == 2)
        #expect(rejections.first?.reason.contains("not closed") == true)
        #expect(records.count == 101 - CSVRecordInput.maxJoinedLines)
    }

    @Test("VICS: an oversized Media is rejected without being held, and deep nesting is refused")
    func vicsLimits() throws {
        // given
        let directory = try TemporaryDirectory()
        let huge = String(repeating: "s", count: 17 << 20)
        let big = try directory.file(
            "big.json",
            "{\"@odata.context\":\"x/2.0.xml#Media\",\"value\":[{\"MD5\":\"\(md5A)\",\"Series\":\"\(huge)\"},"
                + "{\"MD5\":\"\(md5B)\"}]}")
        let deep = try directory.file(
            "deep.json", "{\"value\":[" + String(repeating: "[", count: 300) + String(repeating: "]", count: 300) + "]}"
        )
        // when
        let (records, rejections) = try importAll(.vics, big)
        // then
        #expect(records.map(\.digests) == [[digest(.md5, md5B)]])
        #expect(rejections.first?.reason.contains("larger than") == true)
        #expect(throws: HashSetFormatError.self) { try importAll(.vics, deep) }
    }
}
