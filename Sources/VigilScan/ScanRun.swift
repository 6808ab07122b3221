import Foundation
import VigilCore
import VigilMatch
import VigilMedia

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What `vigil scan` was asked to do.
public struct ScanConfiguration: Sendable {
    /// The drive, mount point or folder examined.
    public var root: String
    /// The case folder the outputs go to (created if missing).
    public var outputDirectory: String
    public var caseID: String
    public var examiner: String
    /// Files examined at once.
    public var jobs: Int
    /// PDQ Hamming radius for near matches, 0–63.
    public var radius: Int
    /// Embed greyscale thumbnails of new media and near matches in the report (blurred until clicked).
    public var thumbnails: Bool
    /// Skip files already recorded in the output folder's journal (same path, size and modification time).
    public var resume: Bool
    /// The decompression-bomb cap.
    public var maxPixels: Int
    /// Decode images at reduced size (JPEG DCT scaling to about 512 px): several times faster, may move a few PDQ
    /// bits (well inside the near-match radius).
    public var fastDecode: Bool
    /// The tool's name and version, for the manifest.
    public var tool: String
    public var toolVersion: String
    /// The machine the scan ran on.
    public var host: String
    /// The hash set consulted: a one-line description and its details (database fingerprint or list files).
    public var hashSet: String
    public var hashSetDetails: [String: String]

    /// A configuration with defaults for everything but the paths and the people.
    public init(
        root: String, outputDirectory: String, caseID: String, examiner: String, jobs: Int = 1, radius: Int = 31,
        thumbnails: Bool = false, resume: Bool = false, maxPixels: Int = HashOptions.pillowMaxPixels,
        fastDecode: Bool = false, tool: String = "vigil", toolVersion: String = "", host: String = "",
        hashSet: String = "",
        hashSetDetails: [String: String] = [:]
    ) {
        self.root = root
        self.outputDirectory = outputDirectory
        self.caseID = caseID
        self.examiner = examiner
        self.jobs = jobs
        self.radius = radius
        self.thumbnails = thumbnails
        self.resume = resume
        self.maxPixels = maxPixels
        self.fastDecode = fastDecode
        self.tool = tool
        self.toolVersion = toolVersion
        self.host = host
        self.hashSet = hashSet
        self.hashSetDetails = hashSetDetails
    }
}

/// Progress of the examination, reported from worker threads.
public struct ScanProgress: Sendable {
    public var files: Int
    public var totalFiles: Int
    public var bytes: Int
    public var totalBytes: Int
}

/// Why a scan could not run at all (per-file trouble never stops it: it becomes a ``ScanProblem``).
public enum ScanError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The output folder lies inside the examined tree (the scan would examine and alter its own evidence).
    case outputInsideRoot(String)
    /// The output folder already holds a scan and `--resume` was not given.
    case outputNotEmpty(String)
    /// The examined path does not exist or cannot be read.
    case unreadableRoot(String, String)
    /// Writing an output file failed.
    case cannotWrite(String, String)
    /// Another scan is writing to the same output folder right now.
    case outputBusy(String)

    public var description: String {
        switch self {
        case .outputInsideRoot(let dir):
            "the output folder \(dir) is inside the examined tree; choose a folder outside it"
        case .outputNotEmpty(let dir):
            "\(dir) already holds a scan; give --resume to continue it, or choose an empty folder"
        case .unreadableRoot(let path, let why): "cannot examine \(path): \(why)"
        case .cannotWrite(let path, let why): "cannot write \(path): \(why)"
        case .outputBusy(let dir): "another scan is writing to \(dir) now; wait for it or choose another folder"
        }
    }
}

/// What a finished scan produced.
public struct ScanOutcome: Sendable {
    public var summary: ScanSummary
    public var results: [ScanResult]
    public var problems: [ScanProblem]
    /// Files taken from the journal instead of being read again (`--resume`).
    public var resumed: Int
    /// The manifest's own SHA-256, to note in the case file.
    public var manifestSHA256: String
}

/// Runs `vigil scan`: walks the tree read-only, fingerprints every file once (digests, PDQ, clues) on
/// `jobs` threads while journaling each result, matches everything against the known set, classifies, and writes
/// the case folder (report, results, VICS export, manifest).
public struct ScanRun: Sendable {
    /// The output files, in the order they are written; the manifest covers all of them.
    public static let reportFile = "report.html"
    public static let resultsJSONFile = "results.json"
    public static let resultsCSVFile = "results.csv"
    public static let vicsFile = "new-media.vics.json"
    public static let manifestFile = "manifest.json"
    /// One JSON line per examined file, written as files finish, read by `--resume`.
    public static let journalFile = "journal.jsonl"

    public let configuration: ScanConfiguration
    public let knownSet: any KnownSet
    public let clock: any VigilClock

    /// A run of `configuration` against `knownSet`, timed by `clock`.
    public init(configuration: ScanConfiguration, knownSet: any KnownSet, clock: any VigilClock) {
        self.configuration = configuration
        self.knownSet = knownSet
        self.clock = clock
    }

    /// Scans and writes the outputs.
    /// - Parameter progress: Called from worker threads after each file.
    /// - Throws: ``ScanError`` when the scan cannot run or its outputs cannot be written.
    public func run(progress: (@Sendable (ScanProgress) -> Void)? = nil) async throws -> ScanOutcome {
        let c = configuration
        let started = clock.now()
        let out = c.outputDirectory
        var info = stat()
        guard RawPath.statFile(c.root, &info) == 0 else {
            throw ScanError.unreadableRoot(c.root, String(cString: strerror(errno)))
        }
        try prepareOutput()
        let lock = try OutputLock(directory: out)
        defer { lock.release() }

        // 1. Walk (read-only, links not followed), then stat each file once for sizes and resume.
        let walk = FileWalker.walk([c.root])
        var problems = walk.problems.map { ScanProblem(path: $0.path, reason: $0.error.description) }
        var sizes: [Int] = []
        var modified: [Double?] = []
        sizes.reserveCapacity(walk.files.count)
        for path in walk.files {
            var s = stat()
            if RawPath.lstatFile(path, &s) == 0 {
                sizes.append(Int(s.st_size))
                modified.append(Self.modificationTime(s))
            } else {
                sizes.append(0)
                modified.append(nil)
            }
        }

        // 2. Resume: files recorded in the journal with the same size and modification time are not read again.
        let journalPath = out + "/" + Self.journalFile
        var recorded: [String: ScanFile] = [:]
        if c.resume { recorded = Journal.read(journalPath) }
        var done: [ScanFile?] = Array(repeating: nil, count: walk.files.count)
        var pending: [Int] = []
        for (i, path) in walk.files.enumerated() {
            // A video journaled by a build without vPDQ (no frames and no problem) is read again for its frames.
            if let r = recorded[path], r.size == sizes[i], r.modified == modified[i],
                !(r.video != nil && r.vpdq == nil && r.problem == nil)
            {
                done[i] = r
            } else {
                pending.append(i)
            }
        }
        let resumed = walk.files.count - pending.count

        // 3. Fingerprint the rest, journaling each file as it finishes.
        let journal = try Journal(path: journalPath, keeping: c.resume ? Array(done.compactMap { $0 }) : [])
        let options = HashOptions(
            content: .all, mode: c.fastDecode ? .fast : .exact, maxPixels: c.maxPixels, jobs: max(1, c.jobs),
            readsClues: true)
        let paths = pending.map { walk.files[$0] }
        let pendingModified = pending.map { modified[$0] }
        let totalBytes = pending.reduce(0) { $0 + sizes[$1] }
        let counter = ProgressCounter(totalFiles: paths.count, totalBytes: totalBytes, report: progress)
        let outcomes = await Self.hashOffThread(files: paths, options: options) { index, outcome in
            let file = ScanFile(path: paths[index], modified: pendingModified[index], outcome: outcome)
            journal.append(file)
            counter.finished(bytes: file.size)
        }
        journal.finish()
        for (k, i) in pending.enumerated() {
            done[i] = ScanFile(path: walk.files[i], modified: modified[i], outcome: outcomes[k])
        }
        let files = done.compactMap { $0 }
        for f in files { if let p = f.problem { problems.append(ScanProblem(path: f.path, reason: p)) } }
        problems.sort { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }

        // 4. Match and classify.
        let hits = try await match(files)
        let videoHits = try await matchVideos(files)
        var results = Classifier.classify(files, hits: hits, videoHits: videoHits)
        if c.thumbnails {
            for i in results.indices where results[i].fileClass == .newMedia || results[i].fileClass == .nearMatch {
                if results[i].file.video != nil, results[i].file.vpdq != nil {
                    // A video: a contact sheet of four frames (nil when it cannot be decoded that far).
                    let sheet = try? VideoStills.greyJPEGs(path: results[i].file.path, count: 4, maxSide: 96)
                    results[i].contactSheet = sheet?.isEmpty == false ? sheet : nil
                    continue
                }
                guard let type = MediaType(rawValue: results[i].file.type), type.isImage else { continue }
                results[i].thumbnail = try? Thumbnail.greyJPEG(
                    path: results[i].file.path, type: type, maxSide: 128, maxPixels: c.maxPixels)
            }
        }
        let finished = clock.now()
        let summary = ScanSummary(
            results: results, problems: problems.count, seconds: finished.timeIntervalSince(started))

        // 5. Outputs, then the manifest over all of them.
        let context = ReportContext(
            configuration: c, started: started, finished: finished, summary: summary, results: results,
            problems: problems)
        try write(ResultsWriter.json(context), to: Self.resultsJSONFile)
        try write(ResultsWriter.csv(context), to: Self.resultsCSVFile)
        try write(ResultsWriter.vics(context), to: Self.vicsFile)
        try write(HTMLReport.render(context), to: Self.reportFile)
        let outputs = [Self.reportFile, Self.resultsJSONFile, Self.resultsCSVFile, Self.vicsFile, Self.journalFile]
        let manifest = try Manifest.make(context: context, outputDirectory: out, outputs: outputs)
        try write(manifest.bytes, to: Self.manifestFile)
        return ScanOutcome(
            summary: summary, results: results, problems: problems, resumed: resumed, manifestSHA256: manifest.sha256)
    }

    /// Looks every file's digests up, in batches.
    private func match(_ files: [ScanFile]) async throws -> [[KnownHit]] {
        var queries: [HashDigest] = []
        var owner: [Int] = []
        for (i, f) in files.enumerated() {
            for q in f.queries {
                queries.append(q)
                owner.append(i)
            }
        }
        var hits = [[KnownHit]](repeating: [], count: files.count)
        let batch = 50_000
        var start = 0
        while start < queries.count {
            let end = min(start + batch, queries.count)
            let found = try await knownSet.match(Array(queries[start..<end]), radius: configuration.radius)
            for (k, list) in found.enumerated() { hits[owner[start + k]] += list }
            start = end
        }
        return hits
    }

    /// The share of either video's frames that makes a near match (vPDQ's default query share).
    static let videoShare = 80.0

    /// Asks which known videos each video file shows, by its vPDQ frames (vPDQ's rule, the scan's radius).
    private func matchVideos(_ files: [ScanFile]) async throws -> [[KnownVideoHit]] {
        var out = [[KnownVideoHit]](repeating: [], count: files.count)
        let positions = files.indices.filter { !(files[$0].vpdq ?? []).isEmpty }
        guard !positions.isEmpty else { return out }
        let videos = positions.map { files[$0].vpdq!.compactMap { VPDQFrame(line: $0)?.videoFrame } }
        // Every video sharing a frame is asked for (shares 0), then kept when the file is mostly a known video or
        // holds most of one (a compilation): vPDQ's 80% either way. Frames within at most 31 bits: wider, a few
        // plain frames would pair with every frame of the set. A known set with negative banks has already removed
        // the known videos a benign one explains.
        let found = try await knownSet.matchVideos(
            videos, rule: VideoMatchRule(radius: min(configuration.radius, 31), queryShare: 0, targetShare: 0))
        for (k, i) in positions.enumerated() where k < found.count {
            out[i] = found[k].filter {
                $0.comparison.queryShare >= Self.videoShare || $0.comparison.targetShare >= Self.videoShare
            }
        }
        return out
    }

    private func prepareOutput() throws {
        let c = configuration
        // Checked before anything is created: nothing may be written inside the evidence.
        if let root = Self.realPath(c.root), let out = Self.resolvedPath(c.outputDirectory),
            out == root || out.hasPrefix(root == "/" ? "/" : root + "/")
        {
            throw ScanError.outputInsideRoot(c.outputDirectory)
        }
        do {
            try FileManager.default.createDirectory(atPath: c.outputDirectory, withIntermediateDirectories: true)
        } catch {
            throw ScanError.cannotWrite(c.outputDirectory, error.localizedDescription)
        }
        if !c.resume, FileManager.default.fileExists(atPath: c.outputDirectory + "/" + Self.journalFile) {
            throw ScanError.outputNotEmpty(c.outputDirectory)
        }
    }

    /// The lock file that keeps two scans from writing to one folder at once (released when the scan ends, or when
    /// its process dies).
    public static let lockFile = ".vigil-scan.lock"

    private func write(_ text: String, to name: String) throws { try write(Array(text.utf8), to: name) }

    private func write(_ bytes: [UInt8], to name: String) throws {
        let path = configuration.outputDirectory + "/" + name
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw ScanError.cannotWrite(path, error.localizedDescription)
        }
    }

    /// The real path of `path`, which may not exist yet: its nearest existing ancestor resolved, the rest appended.
    static func resolvedPath(_ path: String) -> String? {
        var head = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var tail: [String] = []
        while Self.realPath(head) == nil {
            guard let slash = head.lastIndex(of: "/"), slash != head.startIndex else { return nil }
            let component = String(head[head.index(after: slash)...])
            if !component.isEmpty && component != "." { tail.insert(component, at: 0) }
            head = String(head[..<slash])
        }
        guard let base = Self.realPath(head) else { return nil }
        return tail.reduce(base == "/" ? "" : base) { $0 + "/" + $1 }
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func modificationTime(_ s: stat) -> Double {
        #if os(Linux)
            Double(s.st_mtim.tv_sec) + Double(s.st_mtim.tv_nsec) / 1e9
        #else
            Double(s.st_mtimespec.tv_sec) + Double(s.st_mtimespec.tv_nsec) / 1e9
        #endif
    }

    /// `HashRun.hash` blocks; it runs on its own thread so the caller's executor stays free.
    private static func hashOffThread(
        files: [String], options: HashOptions, finished: @escaping HashRun.Finished
    ) async -> [FileOutcome] {
        await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(returning: HashRun.hash(files: files, options: options, finished: finished))
            }
            thread.start()
        }
    }
}

/// An exclusive `flock` on the output folder's lock file for the length of a scan.
final class OutputLock: Sendable {
    private let fd: Int32

    init(directory: String) throws {
        let path = directory + "/" + ScanRun.lockFile
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ScanError.cannotWrite(path, String(cString: strerror(errno))) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw ScanError.outputBusy(directory)
        }
    }

    func release() { close(fd) }
}

/// Counts finished files and bytes for the progress callback.
private final class ProgressCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var files = 0
    private var bytes = 0
    private let totalFiles: Int
    private let totalBytes: Int
    private let report: (@Sendable (ScanProgress) -> Void)?

    init(totalFiles: Int, totalBytes: Int, report: (@Sendable (ScanProgress) -> Void)?) {
        self.totalFiles = totalFiles
        self.totalBytes = totalBytes
        self.report = report
    }

    func finished(bytes size: Int) {
        guard let report else { return }
        let snapshot = lock.withLock { () -> ScanProgress in
            files += 1
            bytes += size
            return ScanProgress(files: files, totalFiles: totalFiles, bytes: bytes, totalBytes: max(totalBytes, bytes))
        }
        report(snapshot)
    }
}

/// The resume journal: one JSON ``ScanFile`` per line, appended by worker threads as files finish, so an
/// interrupted scan loses at most the files being read.
final class Journal: @unchecked Sendable {
    private let lock = NSLock()
    private var fd: Int32
    private let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    /// Starts the journal at `path` with the `kept` entries (a resumed scan's earlier files) and nothing else.
    init(path: String, keeping kept: [ScanFile]) throws {
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ScanError.cannotWrite(path, String(cString: strerror(errno))) }
        for f in kept { append(f) }
    }

    func append(_ file: ScanFile) {
        lock.withLock {
            guard fd >= 0, var line = try? encoder.encode(file) else { return }
            line.append(0x0A)
            line.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                    if n > 0 { offset += n } else if errno != EINTR { break }
                }
            }
        }
    }

    func finish() {
        lock.withLock {
            if fd >= 0 {
                _ = fsync(fd)
                _ = close(fd)
                fd = -1
            }
        }
    }

    /// The entries of an existing journal by path; unreadable lines (a line cut by a crash) are skipped.
    static func read(_ path: String) -> [String: ScanFile] {
        guard let data = FileManager.default.contents(atPath: path) else { return [:] }
        let decoder = JSONDecoder()
        var out: [String: ScanFile] = [:]
        for line in data.split(separator: 0x0A) {
            if let f = try? decoder.decode(ScanFile.self, from: Data(line)) { out[f.path] = f }
        }
        return out
    }
}
