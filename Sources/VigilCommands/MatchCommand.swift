import ArgumentParser
import Foundation
import VigilApp
import VigilCore
import VigilFormats
import VigilStore

/// `vigil match`: "seen before?" for hashes from files, stdin or `vigil hash` output.
struct MatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "match",
        abstract: "Match hashes against the national hash set, or against hash-list files with no database.",
        discussion: """
            Input: hex hashes one per line (32 digits MD5, 40 SHA-1, 64 PDQ unless written sha256:HEX), md5sum-style \
            lines, or `vigil hash` output in any of its formats. Exit status: 0 when something matched, 1 when \
            nothing did, 2 on error (like grep). Videos: vigil match-video.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, csv, json }

    @OptionGroup var options: DatabaseOptions
    @Option(help: "PDQ Hamming radius, 0–63.") var radius = 31
    @Option(help: "Output: text, csv or json (one object per line).") var format: Format = .text
    @Option(
        name: .customLong("against"),
        help: "Match against this hash-list file instead of the database (repeatable; format detected).")
    var against: [String] = []
    @Option(help: "Format of the --against files when detection is not wanted.") var againstFormat: HashSetFormat?
    @Flag(help: "Also match records in review (never counted as known).")
    var includePending = false
    @Flag(help: "Report load time and queries/s on standard error.")
    var stats = false
    @Argument(help: "Files of hashes to match ('-' or none: standard input).") var inputs: [String] = []

    func validate() throws {
        guard (0...63).contains(radius) else { throw ValidationError("--radius must be between 0 and 63") }
    }

    func run() async throws {
        var matched = false
        let started = ContinuousClock.now
        if against.isEmpty {
            // Exact digests are looked up in the database as they come, so it stays open for the whole run.
            matched = try await runStoreCommand(options) { ctx in
                // The server's snapshot, when current, spares reading every PDQ hash from the database.
                let snapshot = (ctx.configuration.dataDirectory as NSString).appendingPathComponent(
                    HashSetMatcher.snapshotFileName)
                let m = try await HashSetMatcher(
                    store: HashSetStore(db: ctx.database, clock: SystemClock()), snapshotPath: snapshot,
                    jobs: ProcessInfo.processInfo.activeProcessorCount)
                return try await self.matchAll(with: m, loadSeconds: Self.seconds(ContinuousClock.now - started))
            }
        } else {
            var records: [HashSetRecord] = []
            for path in against {
                do {
                    guard let fmt = try againstFormat ?? HashSetFormat.detect(path: path) else {
                        fail("cannot tell the format of \(path); give --against-format")
                    }
                    let (r, rejected) = try fmt.makeReader(path: path).readAll()
                    if records.isEmpty { records = r } else { records += r }
                    for x in rejected.prefix(20) { warn("\(path):\(x.line): skipped: \(x.reason)") }
                } catch let e as HashSetFormatError {
                    fail("\(path): \(e.description)")
                }
            }
            let matcher = HashSetMatcher(records: records, jobs: ProcessInfo.processInfo.activeProcessorCount)
            matched = try await matchAll(with: matcher, loadSeconds: Self.seconds(ContinuousClock.now - started))
        }
        if !matched { throw ExitCode(1) }
    }

    /// Queries searched together: large enough that every core has work, small enough to stream.
    static let batchSize = 4096

    /// Matches every input; returns whether anything matched. Reading and printing overlap the search: a batch is
    /// searched while the next is read and the previous one's results are printed.
    private func matchAll(with matcher: HashSetMatcher, loadSeconds: Double) async throws -> Bool {
        var anyMatch = false
        let sources = inputs.isEmpty ? ["-"] : inputs
        let out = Output(format: format)
        out.header()
        let (radius, includePending) = (self.radius, self.includePending)
        let jobs = ProcessInfo.processInfo.activeProcessorCount
        let started = ContinuousClock.now
        var queries = 0
        var matchedQueries = 0
        var inFlight: (batch: [HashInput], search: Task<[[HashSetMatcher.Hit]], any Error>)?
        func finishInFlight() async throws {
            guard let (batch, search) = inFlight else { return }
            inFlight = nil
            for (q, h) in zip(batch, try await search.value) {
                if !h.isEmpty {
                    anyMatch = true
                    matchedQueries += 1
                }
                out.print(query: q, hits: h)
            }
        }
        for source in sources {
            let parser: HashInputParser
            do {
                parser = source == "-" ? HashInputParser(fileDescriptor: 0) : try HashInputParser(path: source)
            } catch {
                // What earlier files matched is printed before the error ends the run.
                try? await finishInFlight()
                fail("\(source): \(error.description)")
            }
            var batch: [HashInput] = []
            batch.reserveCapacity(Self.batchSize)
            func launch() async throws {
                guard !batch.isEmpty else { return }
                let digests = batch.map(\.digest)
                let search = Task {
                    try await matcher.match(digests, radius: radius, includePending: includePending, jobs: jobs)
                }
                try await finishInFlight()
                inFlight = (batch, search)
                queries += batch.count
                batch = []
                batch.reserveCapacity(Self.batchSize)
            }
            do {
                while let item = try parser.next() {
                    switch item {
                    case .hashes(let list): batch += list
                    case .rejected(let r): warn("\(source):\(r.line): skipped: \(r.reason)")
                    }
                    if batch.count >= Self.batchSize { try await launch() }
                }
            } catch {
                try? await finishInFlight()
                throw error
            }
            try await launch()
        }
        try await finishInFlight()
        if stats {
            let seconds = Self.seconds(ContinuousClock.now - started)
            let rate = seconds > 0 ? Int(Double(queries) / seconds) : queries
            warn(
                "\(matcher.indexedPDQCount) PDQ hashes ready in \(Self.format(loadSeconds)) s; \(queries) queries "
                    + "matched in \(Self.format(seconds)) s (\(rate) queries/s), \(matchedQueries) with a match")
        }
        return anyMatch
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    static func format(_ seconds: Double) -> String { String(format: "%.2f", seconds) }

    private func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("vigil match: \(message)\n".utf8))
        Foundation.exit(2)
    }

    private func warn(_ message: String) {
        FileHandle.standardError.write(Data("vigil match: \(message)\n".utf8))
    }

    /// Renders results: one line per match (text, csv), or one object per query (json).
    struct Output {
        let format: Format

        func header() {
            if format == .csv {
                Swift.print(
                    "query_algorithm,query,path,distance,matched_algorithm,item,categories,baseline,known_benign,series,contributor,case,matched,bank,review,category,version,first_seen"
                )
            }
        }

        static func iso(_ d: Date) -> String { d.formatted(.iso8601) }

        func categories(_ r: HashSetRecord) -> String {
            r.categories.map { "\($0.scheme.rawValue):\($0.code)" + ($0.nationalCategory.map { "=\($0)" } ?? "") }
                .joined(separator: ";")
        }

        func print(query q: HashInput, hits: [HashSetMatcher.Hit]) {
            switch format {
            case .text:
                for h in hits {
                    let label = q.path.map { "\($0)\t" } ?? ""
                    Swift.print(
                        "\(label)\(q.digest.algorithm.rawValue):\(q.digest.value)\tdistance \(h.distance)\titem-\(h.item)\t\(categories(h.record).isEmpty ? "uncategorised" : categories(h.record))"
                            + (h.record.baseline == true ? "\tbaseline" : "")
                            + (h.record.knownBenign ? "\tknown-benign" : "")
                            + (h.record.seriesName.map { "\tseries=\($0)" } ?? "")
                            + (h.record.provenance.contributor.map { "\tfrom=\($0)" } ?? "")
                            + "\tbank=\(h.bank)\treview=\(h.review.rawValue)\tversion=\(h.version)"
                            + (h.distance > 0 ? "\tmatched=\(h.matched.value)" : ""))
                }
            case .csv:
                for h in hits {
                    let fields = [
                        q.digest.algorithm.rawValue, q.digest.value, q.path ?? "", String(h.distance),
                        h.matched.algorithm.rawValue, "item-\(h.item)",
                        categories(h.record), String(h.record.baseline ?? false), String(h.record.knownBenign),
                        h.record.seriesName ?? "",
                        h.record.provenance.contributor ?? "", h.record.provenance.caseID ?? "", h.matched.value,
                        h.bank,
                        h.review.rawValue, h.category ?? "", String(h.version), h.firstSeen.map(Self.iso) ?? "",
                    ]
                    Swift.print(fields.map(csv).joined(separator: ","))
                }
            case .json:
                let obj: [String: Any] = [
                    "algorithm": q.digest.algorithm.rawValue, "value": q.digest.value, "path": q.path as Any,
                    "matches": hits.map { h -> [String: Any] in
                        [
                            "distance": h.distance, "item": "item-\(h.item)",
                            "matched_algorithm": h.matched.algorithm.rawValue,
                            "categories": h.record.categories.map {
                                ["scheme": $0.scheme.rawValue, "code": $0.code, "national": $0.nationalCategory as Any]
                            },
                            "baseline": h.record.baseline ?? false, "known_benign": h.record.knownBenign,
                            "series": h.record.seriesName as Any,
                            "contributor": h.record.provenance.contributor as Any,
                            "case": h.record.provenance.caseID as Any,
                            "matched": h.matched.value, "bank": h.bank, "review": h.review.rawValue,
                            "category": h.category as Any, "version": h.version,
                            "first_seen": h.firstSeen.map(Self.iso) as Any,
                        ]
                    },
                ]
                if let data = try? JSONSerialization.data(
                    withJSONObject: obj, options: [.sortedKeys, .withoutEscapingSlashes])
                {
                    Swift.print(String(decoding: data, as: UTF8.self))
                }
            }
        }

        func csv(_ s: String) -> String { CSVText.quoted(s) }
    }
}
