import ArgumentParser
import Foundation
import VigilApp
import VigilCore
import VigilMatch
import VigilMedia

/// `vigil match-video --known KNOWN… QUERY…`: which known videos each query video (or clip) shows, how much, and
/// where, with no database.
struct MatchVideoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "match-video",
        abstract: "Which known videos does each video show, how much, and where (vPDQ; no database).",
        discussion: """
            Videos are hashed here with vPDQ, or read as .vpdq files of the reference's lines. Two videos match as \
            vPDQ decides: at least --query-share percent of the query's distinct frames (quality 50 and up) within \
            --radius bits of the known video's. Exit status: 0 when a video matched, 1 when none did, 2 on error.
            """)

    typealias Format = MatchCommand.Format

    @Option(
        name: .customLong("known"),
        help: ArgumentHelp("Known videos: video files, .vpdq files or folders of them (repeatable).", valueName: "path")
    )
    var videos: [String] = []
    @Option(help: "PDQ Hamming radius for frames, 0–63.") var radius = 31
    @Option(help: "Percent of the query's distinct frames that must match.") var queryShare = 80.0
    @Option(help: "Percent of the known video's distinct frames that must match.") var targetShare = 0.0
    @Option(help: "Frames of lower PDQ quality are not compared.") var minQuality = 50
    @Option(help: "Seconds between hashed frames when a video is hashed here.") var secondsPerHash = 1.0
    @Option(help: "Output: text, csv or json (one object per query).") var format: Format = .text
    @Flag(help: "Report what was indexed, and how fast, on standard error.") var stats = false
    @Argument(help: "Query videos or .vpdq files ('-': vPDQ lines on standard input).") var inputs: [String] = []

    func validate() throws {
        guard !videos.isEmpty else { throw ValidationError("give the known videos with --known PATH") }
        guard (0...63).contains(radius) else { throw ValidationError("--radius must be between 0 and 63") }
        guard (0...100).contains(queryShare), (0...100).contains(targetShare) else {
            throw ValidationError("--query-share and --target-share are percentages, 0 to 100")
        }
        guard (0...100).contains(minQuality) else { throw ValidationError("--min-quality must be between 0 and 100") }
        guard secondsPerHash > 0, secondsPerHash.isFinite else {
            throw ValidationError("--seconds-per-hash must be a positive number of seconds")
        }
    }

    func run() throws {
        if try !matchVideos() { throw ExitCode(1) }
    }

    /// A video's frames as read from a video file (hashed with vPDQ) or from a `.vpdq` file of the reference's
    /// lines.
    static func videoFrames(_ path: String, secondsPerHash: Double) throws -> [VideoFrame] {
        if path == "-" || path.hasSuffix(".vpdq") || path.hasSuffix(".txt") {
            let data =
                path == "-"
                ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: path))
            let frames: [VideoFrame]
            do {
                frames = try VPDQLines.frames(
                    String(decoding: data, as: UTF8.self).split(
                        omittingEmptySubsequences: false, whereSeparator: \.isNewline))
            } catch { throw ValidationError("\(path): \(error.description)") }
            guard !frames.isEmpty else { throw ValidationError("\(path): no vPDQ lines") }
            return frames
        }
        do {
            return try VPDQ.hash(
                path: path, secondsPerHash: secondsPerHash, threads: ProcessInfo.processInfo.activeProcessorCount
            ).frames.map(\.videoFrame)
        } catch {
            throw ValidationError("\(path): \(error.description)")
        }
    }

    /// The files a `--videos` argument names: the file itself, or every regular file below a folder, in name order.
    static func videoFiles(_ path: String) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            return [path]
        }
        let root = URL(fileURLWithPath: path)
        var out: [String] = []
        if let e = FileManager.default.enumerator(
            at: root, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles])
        {
            // A folder from `vigil hashset export-videos` lists its videos in videos.csv: not a video.
            for case let url as URL in e
            where (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true
                && url.pathExtension.lowercased() != "csv"
            {
                out.append(url.path)
            }
        }
        return out.sorted()
    }

    /// Indexes the known videos, then answers each query; returns whether anything matched. A known video that
    /// cannot be read is reported and left out; a query that cannot be read is reported and makes the exit status 2.
    func matchVideos() throws -> Bool {
        let rule = VideoMatchRule(
            radius: radius, minimumQuality: minQuality, queryShare: queryShare, targetShare: targetShare)
        let started = ContinuousClock.now
        let index = FrameIndex()
        var names: [String] = []
        var skipped = 0
        let files = videos.flatMap(Self.videoFiles)
        for (k, file) in files.enumerated() {
            do {
                let frames = try Self.videoFrames(file, secondsPerHash: secondsPerHash)
                try index.add(video: Int64(names.count), frames: frames)
                names.append(file)
            } catch {
                skipped += 1
                FileHandle.standardError.write(Data("vigil match: known video left out: \(error)\n".utf8))
            }
            if files.count >= 20, (k + 1) % 10 == 0 || k + 1 == files.count {
                FileHandle.standardError.write(
                    Data("vigil match: indexed \(k + 1) of \(files.count) known videos\n".utf8))
            }
        }
        index.compact()
        if stats {
            FileHandle.standardError.write(
                Data(
                    String(
                        format: "vigil match: %d known videos (%d sampled frames, %d distinct) indexed in %.2f s%@\n",
                        names.count, index.frameCount, index.entryCount,
                        MatchCommand.seconds(ContinuousClock.now - started), skipped > 0 ? ", \(skipped) left out" : ""
                    ).utf8))
        }
        guard !names.isEmpty else { throw ValidationError("no known video could be read from --known") }
        var anyMatch = false
        var failed = false
        if format == .csv {
            Swift.print(
                "query,video,query_share,target_share,query_frames,video_frames,query_start,query_end,video_start,video_end"
            )
        }
        for query in inputs.isEmpty ? ["-"] : inputs {
            let frames: [VideoFrame]
            do { frames = try Self.videoFrames(query, secondsPerHash: secondsPerHash) } catch {
                FileHandle.standardError.write(Data("vigil match: \(error)\n".utf8))
                failed = true
                continue
            }
            let hits = index.search(frames, rule: rule)
            anyMatch = anyMatch || !hits.isEmpty
            VideoOutput(format: format, names: names).print(query: query, hits: hits)
        }
        if failed { throw ExitCode(2) }
        return anyMatch
    }

    struct VideoOutput {
        let format: Format
        let names: [String]

        /// Seconds as m:ss (h:mm:ss from an hour), to the tenth when the time is not whole.
        static func clock(_ seconds: Double) -> String { MatchedRange.clock(seconds, tenths: true) }

        static func percent(_ v: Double) -> String { String(format: "%.1f", v) }

        func print(query: String, hits: [FrameIndex.Hit]) {
            switch format {
            case .text:
                if hits.isEmpty { Swift.print("\(query): no known video") }
                for h in hits {
                    let c = h.comparison
                    Swift.print(
                        "\(query): shows \(names[Int(h.video)]) — \(Self.percent(c.queryShare))% of the query's frames "
                            + "(\(c.matchedQueryFrames) of \(c.queryFrames)), \(Self.percent(c.targetShare))% of the "
                            + "video's (\(c.matchedTargetFrames) of \(c.targetFrames))")
                    for r in h.ranges {
                        Swift.print(
                            "  \(Self.clock(r.queryStart))–\(Self.clock(r.queryEnd)) of the query is "
                                + "\(Self.clock(r.targetStart))–\(Self.clock(r.targetEnd)) of the video (\(r.frames) frames)"
                        )
                    }
                }
            case .csv:
                for h in hits {
                    let c = h.comparison
                    let head = [
                        CSVText.quoted(query), CSVText.quoted(names[Int(h.video)]),
                        Self.percent(c.queryShare), Self.percent(c.targetShare), String(c.queryFrames),
                        String(c.targetFrames),
                    ].joined(separator: ",")
                    if h.ranges.isEmpty { Swift.print(head + ",,,,") }
                    for r in h.ranges {
                        Swift.print(
                            head + ","
                                + [r.queryStart, r.queryEnd, r.targetStart, r.targetEnd].map {
                                    String(format: "%.3f", $0)
                                }.joined(separator: ","))
                    }
                }
            case .json:
                struct Range: Encodable {
                    let queryStart, queryEnd, videoStart, videoEnd: Double
                    let frames: Int
                }
                struct Match: Encodable {
                    let video: String
                    let queryShare, videoShare: Double
                    let queryFrames, matchedQueryFrames, videoFrames, matchedVideoFrames: Int
                    let ranges: [Range]
                }
                struct Answer: Encodable {
                    let query: String
                    let matched: Bool
                    let matches: [Match]
                }
                let answer = Answer(
                    query: query, matched: !hits.isEmpty,
                    matches: hits.map { h in
                        let c = h.comparison
                        return Match(
                            video: names[Int(h.video)], queryShare: c.queryShare, videoShare: c.targetShare,
                            queryFrames: c.queryFrames, matchedQueryFrames: c.matchedQueryFrames,
                            videoFrames: c.targetFrames, matchedVideoFrames: c.matchedTargetFrames,
                            ranges: h.ranges.map {
                                Range(
                                    queryStart: $0.queryStart, queryEnd: $0.queryEnd, videoStart: $0.targetStart,
                                    videoEnd: $0.targetEnd, frames: $0.frames)
                            })
                    })
                let e = JSONEncoder()
                e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                if let data = try? e.encode(answer) { Swift.print(String(decoding: data, as: UTF8.self)) }
            }
        }
    }
}
