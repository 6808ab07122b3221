import ArgumentParser
import Foundation
import VigilApp
import VigilCore
import VigilFormats
import VigilStore

extension HashSetCommand {
    /// `vigil hashset import-vpdq PATH…`: video records from vPDQ files, the reference's lines, as a partner or
    /// `vigil hashset export-videos` writes them.
    struct ImportVPDQ: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import-vpdq",
            abstract: "Import vPDQ files (Meta's reference lines, one file per video) as video records.",
            discussion: """
                Reads FILE.vpdq (or .txt) files, or folders of them: one line per frame, frame number,quality,PDQ \
                hex,seconds, as Meta's vpdq and vigil hashset export-videos write them. A record is known by its \
                file's digest, so each file needs one: videos.csv beside it (as export-videos writes it) gives the \
                MD5, SHA-1, SHA-256, category and duration; otherwise the file's name must be the video's MD5, \
                SHA-1 or SHA-256 in hex (<MD5>.vpdq). A file with neither, or with a line that cannot be read, is \
                reported and skipped; the others are imported, 100 to a transaction. Importing again adds nothing.
                """)
        @OptionGroup var options: DatabaseOptions
        @OptionGroup var records: VideoRecordOptions
        @Option(help: "Name of the source recorded with the category (default: import-vpdq).")
        var source = "import-vpdq"
        @Argument(help: "vPDQ files or folders of them.") var paths: [String]

        func validate() throws { try records.check(paths) }

        /// What `videos.csv` says of one file.
        struct Listed: Equatable {
            var digests: [HashDigest]
            /// Why a digest cell could not be read (the file is then skipped rather than stored without it).
            var problem: String?
            var category: String?
            var duration: Double?
        }

        /// `videos.csv` as export-videos writes it (`file,item,md5,sha1,sha256,category,duration,frames`), by file
        /// name; columns are found by their header, so a partner's own listing with those names works too.
        /// nil when the text has no `file` column.
        static func listing(_ text: String) -> [String: Listed]? {
            var lines = withoutBOM(text).split(whereSeparator: \.isNewline).map(String.init)
            guard !lines.isEmpty else { return [:] }
            func fields(_ line: String) -> [String] {
                var l = line
                return l.withUTF8 { TextFields.splitCSV($0, separator: UInt8(ascii: ",")) } ?? []
            }
            let header = fields(lines.removeFirst()).map { $0.lowercased() }
            guard let file = header.firstIndex(of: "file") else { return nil }
            func column(_ name: String, _ f: [String]) -> String? {
                header.firstIndex(of: name).flatMap { $0 < f.count && !f[$0].isEmpty ? f[$0] : nil }
            }
            var out: [String: Listed] = [:]
            for line in lines {
                let f = fields(line)
                guard file < f.count else { continue }
                var digests: [HashDigest] = []
                var problem: String?
                for a in [HashAlgorithm.sha256, .sha1, .md5] {
                    guard let cell = column(a.rawValue, f) else { continue }
                    do { digests.append(try HashDigest(a, cell)) } catch {
                        problem = "videos.csv's \(a.rawValue) for it is not one (\(error.description))"
                    }
                }
                out[f[file]] = Listed(
                    digests: digests, problem: problem, category: column("category", f),
                    duration: column("duration", f).flatMap(Double.init))
            }
            return out
        }

        /// `text` without a leading byte-order mark (spreadsheets and Windows editors write one).
        static func withoutBOM(_ text: String) -> Substring {
            text.unicodeScalars.first == "\u{FEFF}" ? text.dropFirst() : text[...]
        }

        /// Largest vPDQ file read: a record carries at most ``VideoFingerprint/maxFrames`` lines of about 80 bytes.
        static let maxFileBytes = VideoFingerprint.maxFrames * 128

        /// The file digest a file's name spells: `<MD5>.vpdq`, `<SHA-1>.vpdq` or `<SHA-256>.vpdq`.
        static func digest(named name: String) -> HashDigest? {
            let stem = (name as NSString).deletingPathExtension
            let algorithm: HashAlgorithm? =
                switch stem.utf8.count {
                case 32: .md5
                case 40: .sha1
                case 64: .sha256
                default: nil
                }
            return algorithm.flatMap { try? HashDigest($0, stem) }
        }

        /// The vPDQ files a path names: the file itself, or every `.vpdq` and `.txt` file below a folder, in name
        /// order.
        static func files(_ path: String) -> [String] {
            MatchVideoCommand.videoFiles(path).filter {
                path == $0 || ["vpdq", "txt"].contains(($0 as NSString).pathExtension.lowercased())
            }
        }

        /// The record of one file, or why it is skipped.
        static func video(
            _ path: String, listed: Listed?, category: HashCategory?, provenance: HashProvenance, source: String
        ) -> Result<HashSetStore.VideoImport, String> {
            let name = (path as NSString).lastPathComponent
            if let problem = listed?.problem { return .failure(problem) }
            let digests = listed.map(\.digests).flatMap { $0.isEmpty ? nil : $0 } ?? digest(named: name).map { [$0] }
            guard let digests else {
                return .failure(
                    "a video record needs the video's MD5, SHA-1 or SHA-256: name the file <MD5>.vpdq or list it in "
                        + "videos.csv beside it")
            }
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            guard size <= maxFileBytes else {
                return .failure("\(size) bytes, more than a video record's \(VideoFingerprint.maxFrames) frames take")
            }
            guard let data = FileManager.default.contents(atPath: path) else { return .failure("cannot be read") }
            let lines = String(decoding: data, as: UTF8.self).split(
                omittingEmptySubsequences: false, whereSeparator: \.isNewline)
            let frames: [String]
            switch VideoFingerprint.normalised(lines) {
            case .success(let normalised): frames = normalised
            case .failure(let failure): return .failure("\(failure)")
            }
            guard !frames.isEmpty else { return .failure("no vPDQ lines") }
            let categories = category.map { [$0] } ?? VideoRecordOptions.categories(listed?.category, source: source)
            var record = HashSetRecord(digests: digests, categories: categories, provenance: provenance)
            record.fileName = name
            return .success(HashSetStore.VideoImport(record: record, frames: frames, duration: listed?.duration))
        }

        func run() async throws {
            var work: [(path: String, listed: Listed?)] = []
            var listings: [String: [String: Listed]] = [:]
            for path in paths {
                for file in Self.files(path) {
                    let folder = (file as NSString).deletingLastPathComponent
                    let name = (file as NSString).lastPathComponent
                    if listings[folder] == nil {
                        let csv = (folder as NSString).appendingPathComponent("videos.csv")
                        let text = FileManager.default.contents(atPath: csv).map { String(decoding: $0, as: UTF8.self) }
                        let listing = text.flatMap(Self.listing)
                        if text != nil, listing == nil {
                            Self.warn("\(csv): no 'file' column; the files' names must be their digests")
                        }
                        listings[folder] = listing ?? [:]
                    }
                    let listed = listings[folder]?[name]
                    if listed == nil, listings[folder]?.isEmpty == false, Self.digest(named: name) != nil {
                        Self.warn("\(file): not in videos.csv beside it; the digest its name spells is used")
                    }
                    work.append((file, listed))
                }
            }
            let fixed = records.categories(source: source).first
            let provenance = records.provenance
            let (bank, confirm, src) = (records.bank, records.confirm, source)
            let submitter = records.submitter
            // Files videos.csv lists first: when two files are one video, the one with its category and duration
            // stands.
            let list = work.filter { $0.listed != nil } + work.filter { $0.listed == nil }
            let (summary, skipped) = try await runStoreCommand(options) { ctx in
                let store = HashSetStore(db: ctx.database, clock: SystemClock())
                let intake = try await HashSetCommand.intake(
                    store, bank: bank, confirm: confirm, reviewsRequired: ctx.configuration.hashReviewsRequired)
                var summary = HashSetStore.ImportSummary()
                var skipped = 0
                var batch: [HashSetStore.VideoImport] = []
                var batchFrames = 0
                var seen: Set<HashDigest> = []
                func flush() async throws {
                    try await VideoRecordOptions.store(
                        batch, in: store, source: src, actor: submitter, intake: intake, into: &summary,
                        command: "import-vpdq")
                    batch.removeAll()
                    batchFrames = 0
                }
                for item in list {
                    switch Self.video(
                        item.path, listed: item.listed, category: fixed, provenance: provenance, source: src)
                    {
                    case .success(let video):
                        // Two files naming one video: the first one's frames stand (the store keeps the first).
                        if let twice = video.record.digests.first(where: seen.contains) {
                            skipped += 1
                            Self.warn(
                                "\(item.path): skipped: another file of this import is the video with \(twice.algorithm.rawValue) "
                                    + twice.value)
                            continue
                        }
                        seen.formUnion(video.record.digests)
                        batch.append(video)
                        batchFrames += video.frames.count
                    case .failure(let why):
                        skipped += 1
                        Self.warn("\(item.path): skipped: \(why)")
                    }
                    // As VICS imports: at most 100 videos or 500,000 frames to a transaction.
                    if batch.count >= 100 || batchFrames >= 500_000 { try await flush() }
                }
                try await flush()
                return (summary, skipped)
            }
            try VideoRecordOptions.report(summary, skipped: skipped, command: "import-vpdq")
        }

        static func warn(_ text: String) {
            FileHandle.standardError.write(Data("vigil hashset import-vpdq: \(text)\n".utf8))
        }
    }
}

/// What `import-videos` and `import-vpdq` share: where the records go and what they are said to be.
struct VideoRecordOptions: ParsableArguments {
    @Option(help: "The bank new records join.") var bank = HashBank.defaultName
    @Option(help: "A category for every video, as SCHEME:CODE (for example projectvic-us:1; instead of videos.csv's).")
    var category: String?
    @Option(help: "The contributor recorded in each record's provenance.") var contributor: String?
    @Option(help: "The case the videos belong to, recorded in each record's provenance.") var caseID: String?
    @Option(help: "User name of the staff member the import is from (they may not review its records).")
    var submittedBy: String?
    @Flag(help: "Confirm new records on import (only into a bank marked reviewed).") var confirm = false

    /// Refuses a malformed category and paths that do not exist.
    func check(_ paths: [String]) throws {
        if let category, NationalCategoryMapping().category(parsing: category, source: nil) == nil {
            throw ValidationError("--category takes SCHEME:CODE, for example projectvic-us:1")
        }
        for path in paths where !FileManager.default.fileExists(atPath: path) {
            throw ValidationError("no such file or folder: \(path)")
        }
    }

    /// `--category` as the records' category (none when not given).
    func categories(source: String) -> [HashCategory] { Self.categories(category, source: source) }

    /// A `SCHEME:CODE` text as a record's categories: none when absent or not of that form.
    static func categories(_ text: String?, source: String) -> [HashCategory] {
        text.flatMap { NationalCategoryMapping().category(parsing: $0, source: source) }.map { [$0] } ?? []
    }

    var provenance: HashProvenance { HashProvenance(contributor: contributor, caseID: caseID) }
    var submitter: AuditActor { submittedBy.map { .user($0) } ?? .system }

    /// Imports a batch of videos (nothing when empty). On a failure, what earlier batches stored stays: how much
    /// is said, so a re-run (which adds nothing twice) is understood.
    static func store(
        _ batch: [HashSetStore.VideoImport], in store: HashSetStore, source: String, actor: AuditActor,
        intake: HashSetStore.Intake, into summary: inout HashSetStore.ImportSummary, command: String
    ) async throws {
        guard !batch.isEmpty else { return }
        do {
            try await store.importVideos(batch, source: source, actor: actor, intake: intake, into: &summary)
        } catch {
            FileHandle.standardError.write(
                Data(
                    ("\nvigil hashset \(command): stopped; stored before the failure: added \(summary.added), "
                        + "updated \(summary.updated), unchanged \(summary.unchanged)\n").utf8))
            throw error
        }
    }

    /// Prints what an import did; a run that stored nothing (every file skipped, or none given) exits 1.
    static func report(_ summary: HashSetStore.ImportSummary, skipped: Int, command: String) throws {
        print(
            "videos: added \(summary.added), updated \(summary.updated), unchanged \(summary.unchanged), skipped \(skipped)"
        )
        if summary.added + summary.updated + summary.unchanged == 0 {
            FileHandle.standardError.write(Data("vigil hashset \(command): no video to import\n".utf8))
            throw ExitCode(1)
        }
    }
}
