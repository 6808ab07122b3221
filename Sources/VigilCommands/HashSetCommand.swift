import ArgumentParser
import Foundation
import VigilApp
import VigilCore
import VigilFormats
import VigilStore

extension HashSetFormat: ExpressibleByArgument {}

/// `vigil hashset …`: the national hash set in the database.
struct HashSetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hashset", abstract: "Import, export and count the national hash set.",
        subcommands: [Import.self, Export.self, Stats.self])

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
                // Checked before anything is written.
                let target = try await store.bank(named: bankName)
                if confirm, !target.reviewed {
                    throw StoreError.invalid(
                        "the bank '\(bankName)' is not marked reviewed, so an import cannot confirm its records (vigil bank set \(bankName) --reviewed true)"
                    )
                }
                let intake: HashSetStore.Intake =
                    confirm
                    ? .confirmed(bank: bankName)
                    : .pending(
                        bank: bankName,
                        reviewsRequired: target.reviewed ? 1 : ctx.configuration.hashReviewsRequired)
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
                try await store.forEachItem(states: states, banks: banks, withoutCategories: HashReview.internalOnly) {
                    _, record in
                    if skipBenign && record.knownBenign { return }
                    if try writer.write(record) { written += 1 } else { skipped += 1 }
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

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Count items and digests in the national set.")
        @OptionGroup var options: DatabaseOptions
        func run() async throws {
            let (items, digests) = try await runStoreCommand(options) { ctx in
                try await HashSetStore(db: ctx.database, clock: SystemClock()).counts()
            }
            print("items: \(items)")
            for (alg, n) in digests.sorted(by: { $0.key < $1.key }) { print("\(alg): \(n)") }
        }
    }
}

/// Carries a non-Sendable value (a reader or writer used by one task at a time) into a `@Sendable` closure.
final class UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
