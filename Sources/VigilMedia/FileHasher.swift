import Foundation
import PDQ

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Plain POSIX file reading, in chunks of `chunkSize`.
public enum FileReader {
    /// Bytes read (and digested) per step: large enough to amortise system calls, small enough that the chunk
    /// stays in L2 cache while MD5, SHA-1 and SHA-256 each walk over it.
    public static let chunkSize = 256 << 10
    /// Bytes asked of each `read` call when streaming.
    public static let readSize = 1 << 20
}

/// Fingerprints files one at a time. Holds the scratch buffers and decoder handles of one worker thread, so it
/// must not be shared between threads; `HashRun` gives each worker its own.
public final class FileHasher {
    public let options: HashOptions
    private var file = Scratch<UInt8>()
    private var pixels = Scratch<UInt8>()
    private let pdq = PDQHasher()
    private lazy var turbo: TurboJPEG? = TurboJPEG()

    /// A hasher applying `options` (its `jobs` field is ignored here).
    public init(options: HashOptions) {
        self.options = options
        file.reserve(FileReader.readSize)
    }

    /// Fingerprints one file. Never throws: every failure becomes the outcome's `problem`.
    public func hash(path: String) -> FileOutcome {
        let fd = openReadOnly(path, O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else { return FileOutcome(problem: HashProblem(path: path, error: systemError("open"))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            return FileOutcome(problem: HashProblem(path: path, error: systemError("stat")))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            return FileOutcome(problem: HashProblem(path: path, error: .notRegularFile(kind: fileKind(info.st_mode))))
        }
        clues = nil
        video = nil
        var outcome: FileOutcome
        do {
            outcome = try hash(fd: fd, path: path, declaredSize: Int(info.st_size))
        } catch {
            outcome = FileOutcome(problem: HashProblem(path: path, error: error))
        }
        if options.readsClues, outcome.record != nil {
            #if os(Linux)
                outcome.record?.times = FileTimes(
                    modified: seconds(info.st_mtim), accessed: seconds(info.st_atim), changed: seconds(info.st_ctim))
            #else
                outcome.record?.times = FileTimes(
                    modified: seconds(info.st_mtimespec), accessed: seconds(info.st_atimespec),
                    changed: seconds(info.st_ctimespec))
            #endif
            outcome.record?.clues = clues
            outcome.record?.video = video
        }
        return outcome
    }

    private var clues: MediaClues?
    private var video: VideoContainer?

    private func hash(fd: Int32, path: String, declaredSize: Int) throws(MediaError) -> FileOutcome {
        #if canImport(Glibc)
            _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
        #endif
        let wantDigests = options.content != .pdqOnly
        let wantPDQ = options.content != .digestsOnly
        var total = try readFully(
            fd, into: 0, upTo: min(FileReader.chunkSize, max(declaredSize, MediaType.sniffLength)))
        let type = MediaType.sniff(UnsafeRawBufferPointer(start: file.bytes, count: min(total, MediaType.sniffLength)))
        let decode = wantPDQ && type.isImage
        let declared = type.declaredDimensions(
            UnsafeRawBufferPointer(start: file.bytes, count: min(total, MediaType.sniffLength)))
        let head = UnsafeRawBufferPointer(start: file.bytes, count: total)
        // A video by its content (the container's magic bytes; FFmpeg probes the rest), never by its name.
        let container = type.isImage ? nil : VideoContainer.sniff(head)
        if options.video == .only && container == nil { return FileOutcome() }
        let hashVideo = container != nil && options.video != .skip && wantPDQ
        if options.readsClues {
            if type.isImage {
                clues = MetadataReader.clues(in: head, type: type)
            } else {
                video = container
            }
        }

        if !decode && !wantDigests && !hashVideo {
            return FileOutcome(record: HashRecord(path: path, size: declaredSize, type: type, digests: nil, pdq: nil))
        }

        // A video with idle cores to itself decodes while its digests are read (FFmpeg opens the file anew, with its
        // own offset); it is always waited for before the descriptor goes back to the caller.
        let early =
            hashVideo && wantDigests && options.videoThreads > 1
            ? VideoJob.start(descriptor: fd, options: options) : nil
        defer { _ = early?.wait() }
        var digests: FileDigests?
        var inMemory = decode && declaredSize <= options.inMemoryLimit
        if inMemory {
            // Read the rest of the file after the first chunk; a file growing past the limit while we read
            // falls back to streaming.
            let limit = options.inMemoryLimit
            file.reserveKeeping(max(declaredSize + 1, FileReader.chunkSize), used: total)
            while total <= limit {
                if total == file.capacity { file.reserveKeeping(min(total * 2, limit + 1), used: total) }
                let room = min(file.capacity, limit + 1) - total
                let n = try readFully(fd, into: total, upTo: room)
                total += n
                if n < room { break }
            }
            if total > options.inMemoryLimit { inMemory = false }
        }
        if inMemory {
            if wantDigests {
                digests = DigestAccumulator.digests(of: UnsafeRawBufferPointer(start: file.bytes, count: total))
            }
        } else if wantDigests {
            var acc = DigestAccumulator()
            acc.update(UnsafeRawBufferPointer(start: file.bytes, count: total))
            while true {
                let n = try readFully(fd, into: 0, upTo: min(file.capacity, FileReader.readSize))
                if n == 0 { break }
                acc.update(UnsafeRawBufferPointer(start: file.bytes, count: n))
                total += n
            }
            digests = acc.finalize()
        } else {
            total = declaredSize
        }

        var record = HashRecord(path: path, size: total, type: type, digests: digests, pdq: nil)
        if hashVideo {
            // The file already open (and digested): the fingerprint describes the same bytes.
            switch early?.wait() ?? VideoJob.hash(descriptor: fd, options: options) {
            case .success(let vpdq):
                record.vpdq = vpdq
                return FileOutcome(record: record)
            case .failure(.noVideoStream):
                // Sound only: the digests are its fingerprint (and `--video-only` leaves it out).
                return options.video == .only ? FileOutcome() : FileOutcome(record: record)
            case .failure(let error):
                return FileOutcome(record: record, problem: HashProblem(path: path, error: .video(error.description)))
            }
        }
        guard decode else { return FileOutcome(record: record) }
        do {
            if let declared { try checkPixels(width: declared.width, height: declared.height) }
            let source: VipsSource =
                inMemory ? .buffer(UnsafeRawBufferPointer(start: file.bytes, count: total)) : .file(path)
            let (result, dihedral) = try perceptualHash(source: source, type: type)
            record.pdq = result
            record.dihedral = dihedral
            return FileOutcome(record: record)
        } catch {
            return FileOutcome(record: wantDigests ? record : nil, problem: HashProblem(path: path, error: error))
        }
    }

    /// Fingerprints bytes already in memory (a fetched image that must never be written to disk): digests, type,
    /// and the PDQ hash when it is an image. `name` labels the outcome. Never throws.
    public func hash(bytes: UnsafeRawBufferPointer, name: String) -> FileOutcome {
        let type = MediaType.sniff(UnsafeRawBufferPointer(rebasing: bytes.prefix(MediaType.sniffLength)))
        var record = HashRecord(
            path: name, size: bytes.count, type: type,
            digests: options.content == .pdqOnly ? nil : DigestAccumulator.digests(of: bytes), pdq: nil)
        guard type.isImage, options.content != .digestsOnly else { return FileOutcome(record: record) }
        do {
            if let declared = type.declaredDimensions(
                UnsafeRawBufferPointer(rebasing: bytes.prefix(MediaType.sniffLength)))
            {
                try checkPixels(width: declared.width, height: declared.height)
            }
            let (result, dihedral) = try perceptualHash(source: .buffer(bytes), type: type)
            record.pdq = result
            record.dihedral = dihedral
            return FileOutcome(record: record)
        } catch {
            return FileOutcome(record: record, problem: HashProblem(path: name, error: error))
        }
    }

    /// Decodes and hashes one image.
    func perceptualHash(source: VipsSource, type: MediaType) throws(MediaError) -> (PDQResult, [PDQHash]?) {
        if type == .jpeg, options.jpegDecoder == .turboJPEG, case .buffer(let bytes) = source, let turbo {
            let header = try turbo.header(bytes)
            try checkPixels(width: header.width, height: header.height)
            if !header.isCMYK {
                let denominator =
                    options.mode == .fast
                    ? TurboJPEG.reduction(width: header.width, height: header.height, minSide: options.fastMinSide)
                    : 1
                let grey = header.isGrey || options.mode == .fast
                let (width, height) = try turbo.decode(
                    bytes, header: header, denominator: denominator, grey: grey, into: &pixels)
                return hashPixels(
                    UnsafeBufferPointer(start: pixels.bytes, count: width * height * (grey ? 1 : 3)),
                    width: width, height: height, channels: grey ? 1 : 3)
            }
        }
        var shrink = 1
        if type == .jpeg, case .buffer(let bytes) = source, let turbo, let header = try? turbo.header(bytes) {
            // The cap applies to the full size, whatever the decoder; libvips' shrink-on-load needs the size too.
            try checkPixels(width: header.width, height: header.height)
            if options.mode == .fast {
                shrink = TurboJPEG.reduction(width: header.width, height: header.height, minSide: options.fastMinSide)
            }
        }
        return try Vips.withPixels(from: source, format: type, shrink: shrink, maxPixels: options.maxPixels) {
            pixels, width, height, bands in
            hashPixels(pixels, width: width, height: height, channels: bands)
        }
    }

    private func checkPixels(width: Int, height: Int) throws(MediaError) {
        let (product, overflow) = width.multipliedReportingOverflow(by: height)
        if overflow || product > options.maxPixels {
            throw .tooManyPixels(width: width, height: height, cap: options.maxPixels)
        }
    }

    private func hashPixels(_ pixels: UnsafeBufferPointer<UInt8>, width: Int, height: Int, channels: Int)
        -> (PDQResult, [PDQHash]?)
    {
        if options.dihedral {
            let (result, variants) = pdq.hashWithDihedral(
                pixels: pixels, width: width, height: height, channels: channels)
            return (result, variants)
        }
        return (pdq.hash(pixels: pixels, width: width, height: height, channels: channels), nil)
    }

    /// Reads until `count` bytes arrived at `offset` or the file ended; retries interrupted calls.
    private func readFully(_ fd: Int32, into offset: Int, upTo count: Int) throws(MediaError) -> Int {
        var done = 0
        while done < count {
            let n = read(fd, file.bytes + offset + done, count - done)
            if n > 0 {
                done += n
            } else if n == 0 {
                break
            } else if errno == EINTR || errno == EAGAIN {
                continue
            } else {
                throw systemError("read")
            }
        }
        return done
    }
}

#if os(Linux)
    /// Linux's `O_NOATIME` (not exported by Glibc's Swift overlay): reading does not move the access time, which
    /// examiners may need as found. Only the file's owner (or a privileged process) may ask for it.
    let noAccessTimeFlag: Int32 = 0o1000000
#else
    let noAccessTimeFlag: Int32 = 0
#endif

/// Opens `path` (text form, any bytes, any length: ``RawPath``) read-only without moving its access time where the
/// platform allows (`O_NOATIME`); when the
/// system refuses that flag (EPERM: not the file's owner), opens it read-only plainly.
func openReadOnly(_ path: String, _ flags: Int32) -> Int32 {
    let base = O_RDONLY | O_CLOEXEC | flags
    if noAccessTimeFlag != 0 {
        let fd = RawPath.openFile(path, base | noAccessTimeFlag)
        if fd >= 0 || errno != EPERM { return fd }
    }
    return RawPath.openFile(path, base)
}

/// One video's vPDQ, computed on a thread of its own while the caller reads the file's digests.
private final class VideoJob: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    /// Written by the job's thread before `done` is signalled; read only after waiting for it.
    private var result: Result<VideoHash, VPDQ.Failure>?
    private var waited = false

    static func hash(descriptor: Int32, options: HashOptions) -> Result<VideoHash, VPDQ.Failure> {
        Result { () throws(VPDQ.Failure) in
            try VPDQ.hash(
                descriptor: descriptor, secondsPerHash: options.secondsPerHash, limits: options.videoLimits,
                threads: options.videoThreads)
        }
    }

    static func start(descriptor: Int32, options: HashOptions) -> VideoJob {
        let job = VideoJob()
        let thread = Thread {
            job.result = hash(descriptor: descriptor, options: options)
            job.done.signal()
        }
        thread.stackSize = 8 << 20
        thread.start()
        return job
    }

    /// The job's result, once it has finished (waiting for it the first time).
    func wait() -> Result<VideoHash, VPDQ.Failure> {
        if !waited {
            done.wait()
            waited = true
        }
        return result ?? .failure(.notVideo("no result"))
    }
}

private func seconds(_ time: timespec) -> Double {
    Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

func systemError(_ operation: String, _ code: Int32 = errno) -> MediaError {
    .system(operation: operation, errno: code, message: String(cString: strerror(code)))
}

func fileKind(_ mode: mode_t) -> String {
    switch mode & S_IFMT {
    case S_IFIFO: return "FIFO"
    case S_IFSOCK: return "socket"
    case S_IFCHR: return "character device"
    case S_IFBLK: return "block device"
    case S_IFDIR: return "directory"
    case S_IFLNK: return "symbolic link"
    default: return "unknown kind"
    }
}
