import ArgumentParser
import Foundation
import VigilCore
import VigilMedia

/// `vigil hash PATH…`: MD5, SHA-1, SHA-256 and PDQ of every file under the paths, one record per file.
/// All the work is in `VigilMedia.HashRun`; this type only maps options and prints.
struct HashCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash",
        abstract: "Fingerprint files: MD5, SHA-1, SHA-256, PDQ of images and vPDQ of videos.",
        discussion: """
            Directories are walked recursively; symbolic links inside them are not followed. Output is sorted \
            by path whatever --jobs is. Files that fail are listed on stderr, one line each, and the rest \
            go on. PDQ quality below 50 is reported and flagged (such hashes should not be used for matching). \
            Videos (recognised by their content) are decoded with FFmpeg's libraries: vPDQ hashes a frame every \
            --seconds-per-hash seconds, as Meta's reference does; --format vpdq prints its lines.
            Exit status: 0 all files hashed, 1 some files failed, 2 usage error.
            """
    )

    @Argument(help: "Files and directories to hash.")
    var paths: [String]

    @Option(
        name: .shortAndLong,
        help: "Files hashed in parallel (default: all cores); with fewer files, each video decodes on the cores left.")
    var jobs: Int?

    @Option(help: "Output format: text, csv, json (one object per line) or vpdq (videos' frame lines).")
    var format: String = "text"

    @Flag(help: "Fingerprint only videos (other files are left out).")
    var videoOnly = false

    @Flag(help: "Do not decode videos (their digests only).")
    var noVideo = false

    @Option(help: "vPDQ: seconds between hashed frames (default 1, as the reference).")
    var secondsPerHash: Double = VPDQ.defaultSecondsPerHash

    @Flag(help: "Compute only the PDQ hash of images.")
    var pdqOnly = false

    @Flag(help: "Compute only MD5, SHA-1 and SHA-256; do not decode images.")
    var digestsOnly = false

    @Flag(help: "Add the 8 dihedral PDQ variants (rotations and flips).")
    var dihedral = false

    @Flag(help: "Decode images at reduced size (about 512 px): faster, may move a few PDQ bits.")
    var fast = false

    @Option(help: "Refuse images declaring more pixels than this (decompression-bomb cap).")
    var maxPixels: Int = HashOptions.pillowMaxPixels

    func validate() throws {
        if pdqOnly && digestsOnly { throw ValidationError("--pdq-only and --digests-only exclude each other.") }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1.") }
        if maxPixels < 1 { throw ValidationError("--max-pixels must be at least 1.") }
        if HashFormat(rawValue: format) == nil {
            throw ValidationError("--format must be text, csv, json or vpdq.")
        }
        if videoOnly && noVideo { throw ValidationError("--video-only and --no-video exclude each other.") }
        if !(secondsPerHash > 0 && secondsPerHash <= 3600) {
            throw ValidationError("--seconds-per-hash must be more than 0 and at most 3600.")
        }
    }

    func run() async throws {
        let options = HashOptions(
            content: pdqOnly ? .pdqOnly : digestsOnly ? .digestsOnly : .all,
            mode: fast ? .fast : .exact,
            dihedral: dihedral,
            maxPixels: maxPixels,
            jobs: jobs ?? ProcessInfo.processInfo.activeProcessorCount,
            video: videoOnly ? .only : noVideo ? .skip : .include, secondsPerHash: secondsPerHash
        )
        let progress: HashRun.Progress? = isatty(STDERR_FILENO) == 1 ? ProgressLine().update : nil
        // Names that are not UTF-8 come back exactly from the raw arguments.
        let report = await HashRun.run(paths: paths.map(RawPath.argument), options: options, progress: progress)
        if progress != nil { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }

        let formatter = HashFormatter(format: HashFormat(rawValue: format) ?? .text, options: options)
        FileHandle.standardOutput.write(Data(formatter.render(report.records).utf8))
        if !report.problems.isEmpty {
            let lines = report.problems.map { "vigil hash: \($0.line)\n" }.joined()
            FileHandle.standardError.write(Data(lines.utf8))
            throw ExitCode(1)
        }
    }
}

/// "hashed 120/5000" on stderr, redrawn at most ten times a second.
private final class ProgressLine: @unchecked Sendable {
    private let lock = NSLock()
    private var last = Date.distantPast

    func update(done: Int, total: Int) {
        lock.lock()
        defer { lock.unlock() }
        let now = SystemClock().now()
        guard done == total || now.timeIntervalSince(last) >= 0.1 else { return }
        last = now
        FileHandle.standardError.write(Data("\rhashed \(done)/\(total)".utf8))
    }
}
