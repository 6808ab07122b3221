import Foundation
import Testing
import VigilCore
import VigilMedia

@testable import VigilScan

/// A hash set held in memory: exact digests by equality, PDQ by Hamming distance.
struct FakeSet: KnownSet {
    var items: [(String, HashSetRecord)]

    func match(_ queries: [HashDigest], radius: Int) async throws -> [[KnownHit]] {
        queries.map { q in
            items.flatMap { name, record in
                record.digests.compactMap { d -> KnownHit? in
                    if q.algorithm == .pdq, d.algorithm == .pdq {
                        let distance = zip(q.value.utf8, d.value.utf8).reduce(0) { total, pair in
                            total + (Int(hexValue(pair.0)) ^ Int(hexValue(pair.1))).nonzeroBitCount
                        }
                        return distance <= radius
                            ? KnownHit(item: name, record: record, distance: distance, matched: d) : nil
                    }
                    return d == q ? KnownHit(item: name, record: record, distance: 0, matched: d) : nil
                }
            }
        }
    }

    private func hexValue(_ c: UInt8) -> UInt8 { c <= 0x39 ? c - 0x30 : c - 0x57 }
}

/// A fresh folder under the system's temporary directory.
struct Folder {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "vigil-scan-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func write(_ text: String, to relative: String) throws {
        let full = path + "/" + relative
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: full))
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

@Suite("Scan runs, outputs and the manifest")
struct ScanRunTests {
    /// An evidence tree of small text files: one known (its MD5 is in the set), one benign, two copies of one file.
    func makeEvidence(_ root: Folder) throws -> FakeSet {
        try root.write("known content\n", to: "case/known.bin")
        try root.write("benign content\n", to: "case/readme.txt")
        try root.write("same\n", to: "a/copy1.txt")
        try root.write("same\n", to: "b/copy2.txt")
        try root.write("<script>alert(1)</script>\n", to: "odd/<img src=x onerror=alert(1)>.txt")
        let known = try HashDigest(.md5, Manifest.md5Hex("known content\n"))
        let benign = try HashDigest(.md5, Manifest.md5Hex("benign content\n"))
        return FakeSet(items: [
            ("item-7", item([known], category: "1", series: "Series A")),
            ("nsrl", item([benign], benign: true)),
        ])
    }

    func configuration(_ root: Folder, _ out: Folder, resume: Bool = false) -> ScanConfiguration {
        ScanConfiguration(
            root: root.path + "/", outputDirectory: out.path + "/case-1", caseID: "CASE-1", examiner: "A. Examiner",
            jobs: 2, resume: resume, toolVersion: "test", host: "test-host", hashSet: "fake")
    }

    @Test("a scan classifies, writes every output, and verify passes until one byte changes")
    func scanAndVerify() async throws {
        // given
        let root = try Folder()
        let out = try Folder()
        defer {
            root.remove()
            out.remove()
        }
        let set = try makeEvidence(root)
        let clock = ManualClock(Date(timeIntervalSince1970: 1_800_000_000))
        // when
        let outcome = try await ScanRun(configuration: configuration(root, out), knownSet: set, clock: clock).run()
        // then
        let byName = Dictionary(uniqueKeysWithValues: outcome.results.map { ($0.file.name, $0) })
        #expect(byName["known.bin"]?.fileClass == .known)
        #expect(byName["known.bin"]?.hits.first?.item == "item-7")
        #expect(byName["readme.txt"]?.fileClass == .knownBenign)
        #expect(byName["copy1.txt"]?.duplicateGroup == byName["copy2.txt"]?.duplicateGroup)
        #expect(outcome.summary.files == 5)
        let dir = out.path + "/case-1"
        for name in [
            ScanRun.reportFile, ScanRun.resultsJSONFile, ScanRun.resultsCSVFile, ScanRun.vicsFile, ScanRun.manifestFile,
        ] {
            #expect(FileManager.default.fileExists(atPath: dir + "/" + name), "\(name) written")
        }
        let first = Manifest.verify(directory: dir)
        #expect(first.passed, "\(first.failures)")
        #expect(first.manifestSHA256 == outcome.manifestSHA256)
        #expect(Manifest.verify(directory: dir, examinedFiles: true).passed)

        // when one byte of an output changes
        let csv = dir + "/" + ScanRun.resultsCSVFile
        var bytes = [UInt8](FileManager.default.contents(atPath: csv)!)
        bytes[bytes.count / 2] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: csv))
        // then
        let second = Manifest.verify(directory: dir)
        #expect(!second.passed)
        #expect(second.failures.contains { $0.hasPrefix("results.csv: SHA-256") })

        // and when the manifest itself changes (its own hash no longer fits)
        let manifest = dir + "/" + ScanRun.manifestFile
        let text = String(decoding: FileManager.default.contents(atPath: manifest)!, as: UTF8.self)
        try Data(text.replacingOccurrences(of: "A. Examiner", with: "B. Examiner").utf8).write(
            to: URL(fileURLWithPath: manifest))
        #expect(Manifest.verify(directory: dir).failures.contains { $0.contains("it was changed") })
    }

    @Test("the report is self-contained, shows no imagery by default, and escapes hostile file names")
    func reportIsSafe() async throws {
        let root = try Folder()
        let out = try Folder()
        defer {
            root.remove()
            out.remove()
        }
        let set = try makeEvidence(root)
        _ = try await ScanRun(configuration: configuration(root, out), knownSet: set, clock: ManualClock()).run()
        let html = String(
            decoding: FileManager.default.contents(atPath: out.path + "/case-1/report.html")!, as: UTF8.self)
        #expect(html.contains("default-src 'none'"))
        #expect(!html.contains("<script"))
        #expect(!html.contains("<img"))
        #expect(!html.contains("src=\"http") && !html.contains("href=\"http"))
        #expect(html.contains("&lt;img src=x onerror=alert(1)&gt;.txt"))
        #expect(html.contains("id=\"figure-files\">5<"))
    }

    @Test("--resume reads nothing again that the journal holds unchanged, and rereads a changed file")
    func resume() async throws {
        let root = try Folder()
        let out = try Folder()
        defer {
            root.remove()
            out.remove()
        }
        let set = try makeEvidence(root)
        _ = try await ScanRun(configuration: configuration(root, out), knownSet: set, clock: ManualClock()).run()
        // a second scan into the same folder without --resume is refused
        await #expect(throws: ScanError.self) {
            _ = try await ScanRun(configuration: configuration(root, out), knownSet: set, clock: ManualClock()).run()
        }
        try root.write("changed and longer\n", to: "a/copy1.txt")
        let again = try await ScanRun(
            configuration: configuration(root, out, resume: true), knownSet: set, clock: ManualClock()
        ).run()
        #expect(again.resumed == 4)
        #expect(again.summary.files == 5)
        #expect(again.results.first { $0.file.name == "copy1.txt" }?.duplicateGroup == nil)
        #expect(Manifest.verify(directory: out.path + "/case-1").passed)
    }

    @Test("a second scan into a folder another scan is writing to is refused")
    func busy() async throws {
        let root = try Folder()
        let out = try Folder()
        defer {
            root.remove()
            out.remove()
        }
        try root.write("x", to: "f.txt")
        let held = try OutputLock(directory: out.path)
        defer { held.release() }
        let c = ScanConfiguration(root: root.path, outputDirectory: out.path, caseID: "C", examiner: "E", resume: true)
        await #expect(throws: ScanError.outputBusy(out.path)) {
            _ = try await ScanRun(configuration: c, knownSet: FakeSet(items: []), clock: ManualClock()).run()
        }
    }

    @Test("an output folder inside the examined tree is refused")
    func outputInsideRoot() async throws {
        let root = try Folder()
        defer { root.remove() }
        try root.write("x", to: "f.txt")
        var c = ScanConfiguration(root: root.path, outputDirectory: root.path + "/out", caseID: "C", examiner: "E")
        c.jobs = 1
        await #expect(throws: ScanError.outputInsideRoot(root.path + "/out")) {
            _ = try await ScanRun(configuration: c, knownSet: FakeSet(items: []), clock: ManualClock()).run()
        }
    }
}

@Suite("JSON and times in the outputs")
struct OutputEncodingTests {
    @Test("strings with quotes, backslashes, control characters and non-ASCII survive a JSON round trip")
    func jsonEscapes() throws {
        var j = JSONOut()
        let hostile = "a\"b\\c\n\t\u{01}é/😀"
        j.beginObject()
        j.member("s", hostile)
        j.key("list")
        j.beginArray()
        j.number(1)
        j.number(2.5)
        j.null()
        j.beginObject()
        j.endObject()
        j.endArray()
        j.member("never", Double.nan)
        j.endObject()
        let parsed = try #require(JSONSerialization.jsonObject(with: Data(j.bytes)) as? [String: Any])
        #expect(parsed["s"] as? String == hostile)
        #expect((parsed["list"] as? [Any])?.count == 4)
        #expect(parsed["never"] is NSNull)
    }

    @Test("timestamps are ISO 8601 in UTC")
    func timestamps() {
        #expect(ReportContext.timestamp(Date(timeIntervalSince1970: 1_800_000_000)) == "2027-01-15T08:00:00Z")
        #expect(ReportContext.timestamp(Date(timeIntervalSince1970: 0.9)) == "1970-01-01T00:00:00Z")
    }
}

/// Names that are not UTF-8 and trees deeper than PATH_MAX: a forensic scan examines them like any other file.
@Suite("Scans of awkward names and deep trees")
struct AwkwardNamesTests {
    /// Makes `name` (raw bytes) with `content` inside the folder `dir` is open on.
    static func writeFile(_ dir: Int32, _ name: [UInt8], _ content: String) {
        let fd = (name + [0]).withUnsafeBufferPointer {
            $0.baseAddress!.withMemoryRebound(to: CChar.self, capacity: $0.count) {
                openat(dir, $0, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            }
        }
        precondition(fd >= 0)
        _ = Array(content.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    /// Folders `depth` deep under `root`, each a 12-character name, made with mkdirat/openat (the whole path is far
    /// longer than PATH_MAX); returns a descriptor on the deepest.
    static func deepFolder(under root: String, depth: Int) -> Int32 {
        var dir = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        for _ in 0..<depth {
            _ = mkdirat(dir, "folder-01234", 0o755)
            let next = openat(dir, "folder-01234", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            close(dir)
            dir = next
        }
        return dir
    }

    static func removeTree(_ path: String) {
        let rm = Process()
        rm.executableURL = URL(fileURLWithPath: "/bin/rm")
        rm.arguments = ["-rf", path]
        try? rm.run()
        rm.waitUntilExit()
    }

    @Test("text form and bytes round-trip exactly; reports show \\xNN")
    func roundTrip() {
        let samples: [[UInt8]] = [
            Array("plain.txt".utf8), [0x63, 0x61, 0x66, 0xE9, 0x2E, 0x62, 0x69, 0x6E], [0xFF, 0xFE, 0x00 + 0x41],
            [0xED, 0xA0, 0x80], Array("\u{F7E9}real-pua".utf8), [0xC0, 0xAF], Array("日本語".utf8),
        ]
        for raw in samples {
            let text = RawPath.decode(raw)
            #expect(RawPath.bytes(text) == raw, "\(raw)")
        }
        #expect(RawPath.display(RawPath.decode([0x63, 0x61, 0x66, 0xE9])) == "caf\\xe9")
        #expect(RawPath.isPlain(RawPath.decode(Array("日本語".utf8))))
        #expect(RawPath.base64(RawPath.decode([0xFF])) == "/w==")
    }

    @Test("a known item under a name that is not UTF-8 and 600 folders deep is found, named exactly, and re-verified")
    func awkward() async throws {
        let root = try Folder()
        let out = try Folder()
        defer {
            Self.removeTree(root.path)
            out.remove()
        }
        let top = open(root.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        Self.writeFile(top, [0x63, 0x61, 0x66, 0xE9, 0x2E, 0x62, 0x69, 0x6E], "known latin-1 content\n")
        close(top)
        let deep = Self.deepFolder(under: root.path, depth: 600)
        Self.writeFile(deep, Array("deep.bin".utf8), "known deep content\n")
        close(deep)
        let set = FakeSet(items: [
            ("latin", item([try HashDigest(.md5, Manifest.md5Hex("known latin-1 content\n"))], category: "1")),
            ("deep", item([try HashDigest(.md5, Manifest.md5Hex("known deep content\n"))], category: "1")),
        ])
        let config = ScanConfiguration(
            root: root.path, outputDirectory: out.path + "/case-1", caseID: "CASE-2", examiner: "A. Examiner",
            jobs: 2, toolVersion: "test", host: "test-host", hashSet: "fake")
        let outcome = try await ScanRun(configuration: config, knownSet: set, clock: ManualClock()).run()
        #expect(outcome.problems.isEmpty, "\(outcome.problems.map(\.reason))")
        let known = outcome.results.filter { $0.fileClass == .known }.map { $0.hits.first?.item }
        #expect(Set(known.compactMap { $0 }) == ["latin", "deep"])
        let latin = try #require(outcome.results.first { $0.hits.first?.item == "latin" })
        #expect(RawPath.bytes(latin.file.path).suffix(8) == [0x63, 0x61, 0x66, 0xE9, 0x2E, 0x62, 0x69, 0x6E])
        let deepResult = try #require(outcome.results.first { $0.hits.first?.item == "deep" })
        #expect(deepResult.file.path.utf8.count > 7_000, "longer than PATH_MAX")
        let dir = out.path + "/case-1"
        let results = String(decoding: FileManager.default.contents(atPath: dir + "/results.json")!, as: UTF8.self)
        #expect(results.contains(#"caf\\xe9.bin"#), "shown escaped")
        #expect(results.contains(#""path_base64":""#), "kept exactly")
        let verify = Manifest.verify(directory: dir, examinedFiles: true)
        #expect(verify.passed, "\(verify.failures)")
        #expect(verify.checked.contains("\(outcome.results.count) examined files unchanged"))
    }
}
