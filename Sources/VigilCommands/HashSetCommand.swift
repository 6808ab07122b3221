import ArgumentParser
import Foundation
import VigilApp
import VigilCore
import VigilFormats
import VigilMedia
import VigilStore

extension HashSetFormat: ExpressibleByArgument {}

/// `vigil hashset …`: the national hash set in the database.
struct HashSetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hashset", abstract: "Import, export and count the national hash set.",
        subcommands: [Import.self, ImportVideos.self, ImportVPDQ.self, Export.self, ExportVideos.self, Stats.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Import a hash list into the national set (idempotent: importing the same file twice adds nothing).",
            discussion:
                "Formats: \(HashSetFormat.allCases.map(\.rawValue).joined(separator: ", ")). nsrl imports NIST NSRL RDSv3 SQLite files as known-benign."
        )
        @OptionGroup var options: DatabaseOptions
        @Option(help: "File format.") var format: HashSetFormat
        @Option(help: "Name of the source recorded with each category (default: the file name).") var source: String?
        @Option(help: "Records per transaction (at most 50000).") var batch = 25_000
        @Option(help: "The bank new records join (see vigil bank list; default national, known-benign for nsrl).")
        var bank: String?
        @Option(
            help:
                "User name of the staff member the import is from (they may not review its records)."
        ) var submittedBy: String?
        @Flag(
            help:
                "Confirm new records on import (only into a bank marked reviewed; otherwise they wait for review)."
        ) var confirm = false
        @Argument(help: "The file to import.") var file: String

        func run() async throws {
            let (fmt, path, size) = (format, file, max(1, min(batch, 50_000)))
            let src = source ?? (file as NSString).lastPathComponent
            let reader: any HashSetReader
            do { reader = try fmt.makeReader(path: path, options: HashSetImportOptions(source: src)) } catch {
                FileHandle.standardError.write(Data("vigil hashset import: \(error.description)\n".utf8))
                throw ExitCode(1)
            }
            let interactive = isatty(2) == 1
            let box = UncheckedBox(reader)
            // NSRL lists known software, not material to assess: into the known-benign bank, confirmed (its source,
            // NIST, reviewed it), unless told otherwise.
            let bankName = bank ?? (format == .nsrl ? HashBank.knownBenignName : HashBank.defaultName)
            let submitter: AuditActor = submittedBy.map { .user($0) } ?? .system
            let confirm = confirm || (format == .nsrl && bank == nil)
            let summary = try await runStoreCommand(options) { ctx in
                let store = HashSetStore(db: ctx.database, clock: SystemClock())
                let intake = try await HashSetCommand.intake(
                    store, bank: bankName, confirm: confirm, reviewsRequired: ctx.configuration.hashReviewsRequired)
                var summary = HashSetStore.ImportSummary()
                var lines = 0
                while let b = try box.value.nextBatch(maxRecords: size) {
                    try await store.importBatch(
                        b.records.map(\.record), source: src, actor: submitter, intake: intake, into: &summary)
                    summary.rejected += b.rejections.map { ($0.line, $0.reason) }
                    lines += b.records.count + b.rejections.count
                    if interactive { FileHandle.standardError.write(Data("\r\(lines) records read…".utf8)) }
                }
                if interactive { FileHandle.standardError.write(Data("\r".utf8)) }
                return summary
            }
            for r in summary.rejected.prefix(1000) {
                FileHandle.standardError.write(Data("\(path):\(r.line): rejected: \(r.reason)\n".utf8))
            }
            if summary.rejected.count > 1000 {
                FileHandle.standardError.write(
                    Data("… and \(summary.rejected.count - 1000) more rejected lines\n".utf8))
            }
            print(
                "added \(summary.added), updated \(summary.updated), unchanged \(summary.unchanged), rejected \(summary.rejected.count)"
            )
            if summary.added + summary.updated + summary.unchanged == 0 && !summary.rejected.isEmpty {
                throw ExitCode(1)
            }
        }
    }

    /// Where an import's new records go, checked before anything is written: the bank must exist, and only a bank
    /// marked reviewed may have its imports confirmed.
    static func intake(_ store: HashSetStore, bank: String, confirm: Bool, reviewsRequired: Int) async throws
        -> HashSetStore.Intake
    {
        let target = try await store.bank(named: bank)
        if confirm, !target.reviewed {
            throw StoreError.invalid(
                "the bank '\(bank)' is not marked reviewed, so an import cannot confirm its records (vigil bank set \(bank) --reviewed true)"
            )
        }
        return confirm
            ? .confirmed(bank: bank) : .pending(bank: bank, reviewsRequired: target.reviewed ? 1 : reviewsRequired)
    }

    struct ImportVideos: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import-videos",
            abstract: "Fingerprint videos and add them to the national set as video records.",
            discussion: """
                Each video under the paths becomes a record: the file's MD5, SHA-1 and SHA-256 and its vPDQ frames \
                (decoded with FFmpeg's libraries). Files that are not videos, or cannot be decoded, are reported and \
                skipped. The videos themselves are not stored. Records merge by digest, so importing a video twice \
                adds nothing.
                """)
        @OptionGroup var options: DatabaseOptions
        @OptionGroup var records: VideoRecordOptions
        @Option(help: "Name of the source recorded with the category (default: import-videos).")
        var source = "import-videos"
        @Option(help: "Seconds between hashed frames (vPDQ's default 1).") var secondsPerHash = 1.0
        @Argument(help: "Video files or folders of them.") var paths: [String]

        func validate() throws {
            guard secondsPerHash > 0, secondsPerHash.isFinite else {
                throw ValidationError("--seconds-per-hash must be a positive number of seconds")
            }
            try records.check(paths)
        }

        /// A MIME type for FFmpeg's container names (`mov,mp4,m4a,3gp,3g2,mj2`, `matroska,webm`, `avi`, …).
        static func mediaType(container: String) -> String {
            let names = container.split(separator: ",")
            if names.contains("mp4") { return "video/mp4" }
            if names.contains("webm") { return "video/webm" }
            if names.contains("avi") { return "video/x-msvideo" }
            if names.contains("mpegts") { return "video/mp2t" }
            return "video/x-" + (names.first.map(String.init) ?? "unknown")
        }

        /// The record of one video file, or why it is skipped.
        static func fingerprint(
            _ file: String, _ hasher: FileHasher, categories: [HashCategory], provenance: HashProvenance
        ) throws -> Result<HashSetStore.VideoImport, String> {
            let outcome = hasher.hash(path: file)
            if let v = outcome.record?.vpdq, v.frames.count > VideoFingerprint.maxFrames {
                return .failure(
                    "\(v.frames.count) frames, more than a video record carries (\(VideoFingerprint.maxFrames)); a "
                        + "larger --seconds-per-hash takes fewer")
            }
            guard let r = outcome.record, let d = r.digests, let v = r.vpdq, !v.frames.isEmpty else {
                return .failure(outcome.problem.map { "\($0.error)" } ?? "not a video")
            }
            var record = HashSetRecord(
                digests: [
                    try HashDigest(.sha256, d.sha256), try HashDigest(.sha1, d.sha1), try HashDigest(.md5, d.md5),
                ],
                categories: categories, provenance: provenance)
            record.fileName = (file as NSString).lastPathComponent
            record.fileSize = Int64(r.size)
            record.mediaType = mediaType(container: v.facts.container)
            return .success(
                HashSetStore.VideoImport(record: record, frames: v.frames.map(\.line), duration: v.facts.duration))
        }

        /// Videos fingerprinted and not yet written, at most: a long run commits as it goes, so an interruption
        /// loses only the last few (a re-run skips none and adds nothing twice: records merge by digest).
        static let batchSize = 20

        func run() async throws {
            let files = paths.flatMap(MatchVideoCommand.videoFiles)
            let categories = records.categories(source: source)
            let provenance = records.provenance
            let (bank, confirm, src, seconds) = (records.bank, records.confirm, source, secondsPerHash)
            let submitter = records.submitter
            let interactive = isatty(2) == 1
            let (summary, skipped) = try await runStoreCommand(options) { ctx in
                let store = HashSetStore(db: ctx.database, clock: SystemClock())
                // The bank is checked before the first video is decoded: hours of hashing never end in "no such bank".
                let intake = try await HashSetCommand.intake(
                    store, bank: bank, confirm: confirm, reviewsRequired: ctx.configuration.hashReviewsRequired)
                // One video at a time, each decoded on every core.
                var hashing = HashOptions(video: .only, secondsPerHash: seconds)
                hashing.videoThreads = ProcessInfo.processInfo.activeProcessorCount
                let hasher = FileHasher(options: hashing)
                var summary = HashSetStore.ImportSummary()
                var batch: [HashSetStore.VideoImport] = []
                var skipped = 0
                func flush() async throws {
                    try await VideoRecordOptions.store(
                        batch, in: store, source: src, actor: submitter, intake: intake, into: &summary,
                        command: "import-videos")
                    batch.removeAll()
                }
                for (k, file) in files.enumerated() {
                    switch try Self.fingerprint(file, hasher, categories: categories, provenance: provenance) {
                    case .success(let video): batch.append(video)
                    case .failure(let why):
                        skipped += 1
                        FileHandle.standardError.write(
                            Data(
                                "\(interactive ? "\r" : "")vigil hashset import-videos: \(file): skipped: \(why)\n".utf8
                            ))
                    }
                    if batch.count >= Self.batchSize { try await flush() }
                    if interactive {
                        FileHandle.standardError.write(Data("\r\(k + 1) of \(files.count) files fingerprinted…".utf8))
                    }
                }
                try await flush()
                if interactive { FileHandle.standardError.write(Data("\r".utf8)) }
                return (summary, skipped)
            }
            try VideoRecordOptions.report(summary, skipped: skipped, command: "import-videos")
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Export the national set in a format partners load.")
        @OptionGroup var options: DatabaseOptions
        @Option(help: "File format (not nsrl).") var format: HashSetFormat
        @Flag(help: "Leave out known-benign (NSRL) items.") var withoutBenign = false
        @Flag(help: "Also export records still in review (by default only confirmed records leave).")
        var includePending = false
        @Argument(help: "The file to write ('-' for standard output).") var file: String

        func validate() throws {
            if !format.supportsExport { throw ValidationError("\(format.rawValue) can be imported but not exported") }
        }

        func run() async throws {
            let (fmt, path, skipBenign) = (format, file, withoutBenign)
            let states: Set<HashReviewState> = includePending ? [.confirmed, .pending, .escalated] : [.confirmed]
            let writer: any HashSetWriter
            do {
                writer = path == "-" ? try fmt.makeWriter(fileDescriptor: 1) : try fmt.makeWriter(path: path)
            } catch {
                FileHandle.standardError.write(Data("vigil hashset export: \(error.description)\n".utf8))
                throw ExitCode(1)
            }
            let box = UncheckedBox(writer)
            let (written, skipped) = try await runStoreCommand(options) { ctx in
                let writer = box.value
                var written = 0, skipped = 0
                // Only what matches: enabled match banks (never a negative or switched-off bank's records).
                let store = HashSetStore(db: ctx.database, clock: SystemClock())
                let banks = try await store.banks().filter { $0.enabled && $0.kind == .match }.map(\.name)
                // VICS carries a video's frames: videos are written after the other records, their frames read a
                // hundred videos at a time (a long video has thousands of lines).
                let videoItems = fmt == .vics ? Set(try await store.videoRows(afterRow: 0).map(\.item)) : []
                var videos: [(Int64, HashSetRecord)] = []
                try await store.forEachItem(states: states, banks: banks, withoutCategories: HashReview.internalOnly) {
                    id, record in
                    if skipBenign && record.knownBenign { return }
                    if videoItems.contains(id) { return videos.append((id, record)) }
                    if try writer.write(record) { written += 1 } else { skipped += 1 }
                }
                for start in stride(from: 0, to: videos.count, by: 100) {
                    let chunk = videos[start..<min(start + 100, videos.count)]
                    let frames = try await store.videos(items: chunk.map(\.0))
                    for (id, record) in chunk {
                        var record = record
                        record.video = frames[id].map { VideoFingerprint(frames: $0.frames, duration: $0.duration) }
                        if try writer.write(record) { written += 1 } else { skipped += 1 }
                    }
                }
                try writer.finish()
                return (written, skipped)
            }
            if path != "-" {
                print(
                    "exported \(written) records to \(path)"
                        + (skipped > 0 ? " (\(skipped) had nothing this format can carry)" : ""))
            }
        }
    }

    struct ExportVideos: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export-videos",
            abstract: "Export video records' vPDQ as Meta's reference writes it, one file per video.",
            discussion: """
                Each video record of an enabled match bank (confirmed only, unless --include-pending) becomes \
                DIR/<MD5>.vpdq: one line per frame, frame number,quality,PDQ hex,seconds, as vpdq writes them. \
                DIR/videos.csv lists each file with its item, digests, category, duration and frame count. The \
                folder is what vigil match-video --known and vigil hashset import-vpdq read, and what tools built \
                on Meta's vpdq read. VICS (vigil hashset export --format vics) carries the same frames with the \
                records.
                """)
        @OptionGroup var options: DatabaseOptions
        @Flag(help: "Also export records still in review (by default only confirmed records leave).")
        var includePending = false
        @Argument(help: "The folder to write (created).") var directory: String

        func run() async throws {
            let dir = directory
            let states: Set<HashReviewState> = includePending ? [.confirmed, .pending, .escalated] : [.confirmed]
            // The folder is the export: a previous export's files are replaced (a withdrawn record's file must not
            // linger), anything else in it is refused rather than mixed in.
            let fm = FileManager.default
            let present = (try? fm.contentsOfDirectory(atPath: dir)) ?? []
            let foreign = present.filter { !$0.hasSuffix(".vpdq") && $0 != "videos.csv" }
            if !foreign.isEmpty {
                FileHandle.standardError.write(
                    Data(
                        ("vigil hashset export-videos: \(dir) holds other files (\(foreign.prefix(3).joined(separator: ", ")))"
                            + "; give an empty or new folder\n").utf8))
                throw ExitCode(1)
            }
            do {
                try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
                for name in present { try fm.removeItem(atPath: (dir as NSString).appendingPathComponent(name)) }
            } catch {
                FileHandle.standardError.write(
                    Data("vigil hashset export-videos: \(error.localizedDescription)\n".utf8))
                throw ExitCode(1)
            }
            let written = try await runStoreCommand(options) { ctx -> Int in
                let store = HashSetStore(db: ctx.database, clock: SystemClock())
                let banks = Set(try await store.banks().filter { $0.enabled && $0.kind == .match }.map(\.name))
                let rows = try await store.videoRows(afterRow: 0)
                var csv = "file,item,md5,sha1,sha256,category,duration,frames\n"
                var written = 0
                for start in stride(from: 0, to: rows.count, by: 100) {
                    let ids = rows[start..<min(start + 100, rows.count)].map(\.item)
                    let items = try await store.items(ids: ids)
                    let frames = try await store.videos(items: ids)
                    for id in ids {
                        guard let item = items[id], let video = frames[id], banks.contains(item.bank),
                            states.contains(item.review.state),
                            !(item.review.category.map(HashReview.internalOnly.contains) ?? false),
                            let name = [.md5, .sha1, .sha256].lazy.compactMap({ item.record.digest($0)?.value }).first
                        else { continue }
                        let file = name + ".vpdq"
                        let text = video.frames.joined(separator: "\n") + "\n"
                        try Data(text.utf8).write(
                            to: URL(fileURLWithPath: (dir as NSString).appendingPathComponent(file)))
                        let category = item.record.categories.first.map { "\($0.scheme.rawValue):\($0.code)" } ?? ""
                        let fields = [
                            file, "item-\(id)", item.record.digest(.md5)?.value ?? "",
                            item.record.digest(.sha1)?.value ?? "", item.record.digest(.sha256)?.value ?? "", category,
                            video.duration.map { String(format: "%.3f", $0) } ?? "", String(video.frames.count),
                        ]
                        csv += fields.map { CSVText.quoted($0) }.joined(separator: ",") + "\n"
                        written += 1
                    }
                }
                try Data(csv.utf8).write(
                    to: URL(fileURLWithPath: (dir as NSString).appendingPathComponent("videos.csv")))
                return written
            }
            print("exported \(written) videos to \(dir) (one .vpdq file each; videos.csv lists them)")
        }
    }

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Count items and digests in the national set.")
        @OptionGroup var options: DatabaseOptions
        func run() async throws {
            let (items, digests, videos) = try await runStoreCommand(options) { ctx in
                let store = HashSetStore(db: ctx.database, clock: SystemClock())
                let (items, digests) = try await store.counts()
                return (items, digests, try await store.videoCounts())
            }
            print("items: \(items)")
            for (alg, n) in digests.sorted(by: { $0.key < $1.key }) { print("\(alg): \(n)") }
            print("videos: \(videos.videos) (\(videos.frames) vPDQ frames)")
        }
    }
}

/// Carries a non-Sendable value (a reader or writer used by one task at a time) into a `@Sendable` closure.
final class UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
