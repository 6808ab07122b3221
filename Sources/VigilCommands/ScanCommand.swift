import ArgumentParser
import Foundation
import VigilApp
import VigilCore
import VigilFormats
import VigilMatch
import VigilMedia
import VigilScan
import VigilStore

/// `vigil scan PATH --case ID --examiner NAME --out DIR` and `vigil scan verify DIR`.
/// All the work is in `VigilScan`; this type maps options, loads the hash set and prints.
struct ScanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Triage seized media: examine a drive or folder read-only against the national hash set.",
        usage: """
            vigil scan PATH --case ID --examiner NAME --out DIR [--against LIST …] [--ignore LIST …] [--jobs N]
                              [--radius R] [--thumbnails] [--resume] [--exact]
              vigil scan verify DIR [--examined]
            """,
        discussion: "Every option of a scan: `vigil scan run --help`.",
        subcommands: [ScanPathCommand.self, ScanVerifyCommand.self],
        defaultSubcommand: ScanPathCommand.self
    )
}

struct ScanPathCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Examine PATH and write the case folder (the default: `vigil scan PATH …`).",
        discussion: """
            Walks PATH read-only (no symbolic link is followed, access times are kept where the system allows, \
            special files are recorded, not opened), digests every file (MD5, SHA-1, SHA-256), PDQ-hashes every \
            image and matches everything against the national hash set in the database, or against --against \
            hash-list files with no database. Files on a known-benign list (NSRL, --ignore) are set aside.
            Writes to DIR: report.html, results.json, results.csv, new-media.vics.json, journal.jsonl and \
            manifest.json (check it later with `vigil scan verify DIR`).
            Exit status: 0 every file examined, 1 examined with problems (listed in the report and on stderr), \
            2 usage error or the scan could not run.
            """)

    @OptionGroup var options: DatabaseOptions
    @Argument(help: "The mounted drive, image mount point or folder to examine.") var path: String
    @Option(name: .customLong("case"), help: "Case identifier, recorded in every output.") var caseID: String
    @Option(help: "Examiner's name, recorded in every output.") var examiner: String
    @Option(name: .customLong("out"), help: "Output folder (created; must lie outside PATH).") var out: String
    @Option(name: .shortAndLong, help: "Files examined in parallel (default: all cores).") var jobs: Int?
    @Option(help: "PDQ Hamming radius for near matches, 0–63.") var radius = 31
    @Option(
        name: .customLong("against"),
        help: "Match against this hash-list file instead of the database (repeatable; format detected).")
    var against: [String] = []
    @Option(help: "Format of the --against files when detection is not wanted.") var againstFormat: HashSetFormat?
    @Option(
        name: .customLong("ignore"),
        help: "A known-benign hash list (any format vigil reads, NSRL included): its files are set aside (repeatable).")
    var ignore: [String] = []
    @Flag(help: "Embed small greyscale thumbnails of new media and near matches in the report, blurred until clicked.")
    var thumbnails = false
    @Flag(help: "Continue a scan in the same --out folder: files already recorded there are not read again.")
    var resume = false
    @Option(help: "Refuse images declaring more pixels than this (decompression-bomb cap).")
    var maxPixels = 89_478_485
    @Flag(
        help: """
            Decode images at full size. By default JPEGs are decoded at reduced size (about 512 px, DCT scaling):             twice as fast overall, with PDQ hashes a few bits from the reference pipeline's (median 4 or fewer),             well inside the near-match radius; digests are never affected.
            """)
    var exact = false

    func validate() throws {
        guard (0...63).contains(radius) else { throw ValidationError("--radius must be between 0 and 63") }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1.") }
        if maxPixels < 1 { throw ValidationError("--max-pixels must be at least 1.") }
        if caseID.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--case must not be empty.") }
        if examiner.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("--examiner must not be empty.")
        }
    }

    func run() async throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        // Absolute, so that the manifest names the evidence unambiguously (links are kept as the examiner wrote).
        let cwd = FileManager.default.currentDirectoryPath
        let path = RawPath.argument(path)
        let root = path.hasPrefix("/") ? path : (cwd as NSString).appendingPathComponent(path)
        let output = out.hasPrefix("/") ? out : (cwd as NSString).appendingPathComponent(out)
        var config = ScanConfiguration(
            root: root, outputDirectory: output, caseID: caseID, examiner: examiner, jobs: jobs ?? cores,
            radius: radius,
            thumbnails: thumbnails, resume: resume, maxPixels: maxPixels, fastDecode: !exact, tool: "vigil",
            toolVersion: VigilVersion.current, host: ProcessInfo.processInfo.hostName)
        let ignoreRecords = try readLists(ignore, format: nil).map { r -> HashSetRecord in
            var benign = r.record
            benign.knownBenign = true
            return benign
        }
        var details: [String: String] = [:]
        for (i, file) in ignore.enumerated() {
            details["ignore \(i + 1)"] = "\(file) (SHA-256 \(sha256(ofFile: file)))"
        }
        let ignoreSet = ignoreRecords.isEmpty ? nil : HashSetMatcher(records: ignoreRecords, jobs: cores)

        let outcome: ScanOutcome
        if against.isEmpty {
            let base = config
            let listDetails = details
            do {
                outcome = try await runStoreCommand(options) { ctx in
                    let store = HashSetStore(db: ctx.database, clock: SystemClock())
                    let snapshot = (ctx.configuration.dataDirectory as NSString).appendingPathComponent(
                        HashSetMatcher.snapshotFileName)
                    let matcher = try await HashSetMatcher(store: store, snapshotPath: snapshot, jobs: cores)
                    let fingerprint = try await store.fingerprint()
                    var c = base
                    c.hashSet = "national hash set in \(DatabaseTarget(ctx.configuration))"
                    c.hashSetDetails = listDetails.merging(
                        [
                            "items": String(fingerprint.items), "pdq digests": String(fingerprint.pdqDigests),
                            "version": "\(fingerprint.maxItemID)-\(fingerprint.maxUpdatedAt)",
                        ], uniquingKeysWith: { a, _ in a })
                    let known = MatcherKnownSet(main: matcher, ignore: ignoreSet, label: { "item-\($0)" }, jobs: cores)
                    return try await self.scan(c, known: known)
                }
            } catch let code as ExitCode where code == ExitCode(1) {
                throw ExitCode(2)  // the database could not be opened (runStoreCommand printed why)
            }
        } else {
            let records = try readLists(against, format: againstFormat)
            var sources: [String] = []
            for (i, file) in against.enumerated() {
                details["list \(i + 1)"] = "\(file) (SHA-256 \(sha256(ofFile: file)))"
                sources.append(file)
            }
            config.hashSet = "hash lists: " + sources.joined(separator: ", ")
            details["items"] = String(records.count)
            config.hashSetDetails = details
            let labels = records.map { "\($0.file)#\($0.line)" }
            let known = MatcherKnownSet(
                main: HashSetMatcher(records: records.map(\.record), jobs: cores), ignore: ignoreSet,
                label: { labels[Int($0) - 1] }, jobs: cores)
            outcome = try await scan(config, known: known)
        }

        let s = outcome.summary
        var text = "vigil scan: \(s.files) files, \(s.bytes) bytes in \(String(format: "%.1f", s.seconds)) s"
        if outcome.resumed > 0 { text += " (\(outcome.resumed) taken from the journal)" }
        text += "\n  known \(s.count(.known)), near matches \(s.count(.nearMatch)), new media \(s.count(.newMedia))"
        text += ", known-benign \(s.count(.knownBenign)), other \(s.count(.other)), problems \(s.problems)\n"
        text += "  report: \((output as NSString).appendingPathComponent(ScanRun.reportFile))\n"
        text += "  manifest SHA-256: \(outcome.manifestSHA256)\n"
        print(text, terminator: "")
        if !outcome.problems.isEmpty {
            let lines = outcome.problems.map { "vigil scan: \(RawPath.display($0.path)): \($0.reason)\n" }.joined()
            FileHandle.standardError.write(Data(lines.utf8))
            throw ExitCode(1)
        }
    }

    private func scan(_ config: ScanConfiguration, known: MatcherKnownSet) async throws -> ScanOutcome {
        let bar = isatty(STDERR_FILENO) == 1 ? ScanProgressBar() : nil
        do {
            var progress: (@Sendable (ScanProgress) -> Void)?
            if let bar { progress = { bar.update($0) } }
            let outcome = try await ScanRun(configuration: config, knownSet: known, clock: SystemClock())
                .run(progress: progress)
            bar?.clear()
            return outcome
        } catch let e as ScanError {
            bar?.clear()
            fail(e.description)
        } catch {
            bar?.clear()
            fail("the scan stopped: \(error)")  // the hash set could not be read; no partial report is claimed
        }
    }

    /// Reads hash lists into records, each with its file and line for reports.
    private func readLists(_ files: [String], format: HashSetFormat?) throws -> [(
        record: HashSetRecord, file: String, line: Int
    )] {
        var out: [(HashSetRecord, String, Int)] = []
        for file in files {
            do {
                guard let fmt = try format ?? HashSetFormat.detect(path: file) else {
                    fail("cannot tell the format of \(file); give --against-format")
                }
                let reader = try fmt.makeReader(path: file)
                var rejected = 0
                while let item = try reader.next() {
                    switch item {
                    case .record(let r, let line): out.append((r, (file as NSString).lastPathComponent, line))
                    case .rejected(let r):
                        rejected += 1
                        if rejected <= 20 { warn("\(file):\(r.line): skipped: \(r.reason)") }
                    }
                }
            } catch let e as HashSetFormatError {
                fail("\(file): \(e.description)")
            }
        }
        return out
    }

    private func sha256(ofFile path: String) -> String {
        guard let data = FileManager.default.contents(atPath: path) else { return "unreadable" }
        return Manifest.sha256Hex(data)
    }

    private func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("vigil scan: \(message)\n".utf8))
        Foundation.exit(2)
    }

    private func warn(_ message: String) {
        FileHandle.standardError.write(Data("vigil scan: \(message)\n".utf8))
    }
}

/// `vigil scan verify DIR`.
struct ScanVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Re-check a scan's output folder against its manifest.json.",
        discussion: """
            Checks the manifest's own SHA-256, then the size and SHA-256 of every output file it lists; with \
            --examined, also re-reads every examined file (read-only) and compares its SHA-256.
            Exit status: 0 everything matches, 1 something differs (each difference on stderr), 2 usage error.
            """)

    @Argument(help: "The scan's output folder (the --out of `vigil scan`).") var directory: String
    @Flag(help: "Also re-hash the examined files (the evidence must be mounted at the same path).") var examined = false

    func run() async throws {
        let v = Manifest.verify(directory: directory, examinedFiles: examined)
        if v.passed {
            print("scan output verified: \(v.checked.count) checks passed")
            for line in v.checked { print("  \(line)") }
        } else {
            let lines = v.failures.map { "  \($0)\n" }.joined()
            FileHandle.standardError.write(Data("scan output does NOT verify:\n\(lines)".utf8))
            throw ExitCode(1)
        }
    }
}

/// The national set (or hash lists) plus the ignore lists, as `VigilScan` consults them.
struct MatcherKnownSet: KnownSet {
    let main: HashSetMatcher
    let ignore: HashSetMatcher?
    let label: @Sendable (Int64) -> String
    let jobs: Int

    func match(_ queries: [HashDigest], radius: Int) async throws -> [[KnownHit]] {
        var out = try await main.match(queries, radius: radius, jobs: jobs).map { hits in
            hits.map { KnownHit(item: label($0.item), record: $0.record, distance: $0.distance, matched: $0.matched) }
        }
        if let ignore {
            let exact = try await ignore.match(queries, radius: 0, jobs: jobs)
            for (i, hits) in exact.enumerated() {
                for h in hits where h.matched.algorithm != .pdq {
                    out[i].append(
                        KnownHit(item: "ignore-list#\(h.item)", record: h.record, distance: 0, matched: h.matched))
                }
            }
        }
        return out
    }

    /// The set's video records each video shows (confirmed records of enabled match banks), less those a negative
    /// bank's video explains (``HashSetMatcher/answerVideo(_:rule:includePending:)``).
    func matchVideos(_ videos: [[VideoFrame]], rule: VideoMatchRule) async throws -> [[KnownVideoHit]] {
        var out: [[KnownVideoHit]] = []
        for frames in videos {
            out.append(
                try await main.matchVideo(frames, rule: rule).map {
                    KnownVideoHit(item: label($0.item), record: $0.record, comparison: $0.comparison, ranges: $0.ranges)
                })
        }
        return out
    }
}

/// A progress bar on stderr: files, files/s, MB/s and the time left, redrawn at most five times a second.
private final class ScanProgressBar: @unchecked Sendable {
    private let lock = NSLock()
    private let start = SystemClock().now()
    private var last = Date.distantPast

    func update(_ p: ScanProgress) {
        lock.lock()
        defer { lock.unlock() }
        let now = SystemClock().now()
        guard p.files == p.totalFiles || now.timeIntervalSince(last) >= 0.2 else { return }
        last = now
        let elapsed = max(now.timeIntervalSince(start), 0.001)
        let fraction =
            p.totalBytes > 0 ? Double(p.bytes) / Double(p.totalBytes) : Double(p.files) / Double(max(1, p.totalFiles))
        let width = 24
        let filled = Int(Double(width) * min(1, fraction))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let left = fraction > 0.001 ? elapsed * (1 - fraction) / fraction : 0
        let rates = String(
            format: "%.0f files/s  %.1f MB/s", Double(p.files) / elapsed, Double(p.bytes) / elapsed / 1e6)
        let line = "\r[\(bar)] \(p.files)/\(p.totalFiles) files  \(rates)  \(Self.duration(left)) left\u{1B}[K"
        FileHandle.standardError.write(Data(line.utf8))
    }

    func clear() { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }

    static func duration(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? "\(t / 3600)h\(t % 3600 / 60)m" : t >= 60 ? "\(t / 60)m\(t % 60)s" : "\(t)s"
    }
}
