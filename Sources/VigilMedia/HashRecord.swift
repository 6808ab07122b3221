import PDQ

/// What `vigil hash` computes, and how.
public struct HashOptions: Sendable, Equatable {
    /// Which fingerprints to compute.
    public enum Content: Sendable, Equatable {
        /// MD5, SHA-1 and SHA-256 of every file, and PDQ of every image.
        case all
        /// Only the three digests; images are not decoded.
        case digestsOnly
        /// Only PDQ; files are read just far enough to decode images.
        case pdqOnly
    }

    /// How images are decoded.
    public enum Mode: Sendable, Equatable {
        /// Full-size decode: hashes agree with the reference pipeline given the same decoder.
        case exact
        /// Decode at reduced size (JPEG: DCT scaling to a longer side of about `fastMinSide`), moving a few bits.
        case fast
    }

    /// Which library decodes JPEG. TurboJPEG is the default because it measured faster (see bench/hash).
    public enum JPEGDecoder: Sendable, Equatable {
        case turboJPEG
        case vips
    }

    /// Pillow's default decompression-bomb limit, 89,478,485 pixels (about 0.25 GiB of 24-bit RGB).
    public static let pillowMaxPixels = 89_478_485

    public var content: Content
    public var mode: Mode
    /// Adds the 8 dihedral PDQ variants to each image record.
    public var dihedral: Bool
    /// Images declaring more pixels than this are refused before decoding.
    public var maxPixels: Int
    /// Parallel workers (files hashed at once); at least 1.
    public var jobs: Int
    public var jpegDecoder: JPEGDecoder
    /// Whether videos are fingerprinted (vPDQ), and whether other files are.
    public enum VideoMode: Sendable, Equatable {
        /// Videos get vPDQ besides their digests; other files as usual.
        case include
        /// Only videos are fingerprinted and reported (`--video-only`).
        case only
        /// Videos get their digests only (`--no-video`).
        case skip
    }

    public var video: VideoMode
    /// vPDQ's sampling interval (the reference's default, 1 s).
    public var secondsPerHash: Double
    /// Bounds on each video (pixels, frames, seconds).
    public var videoLimits: VideoLimits
    /// Threads decoding each video: ``HashRun`` sets it to the cores its workers leave idle (a single long video
    /// gets every core; a tree of files one each).
    public var videoThreads = 1
    /// Images up to this size are read into memory once (digests and decode from the same bytes); larger
    /// ones are digested in a streaming pass and decoded by libvips from the file.
    public var inMemoryLimit: Int
    /// In fast mode, the shortest longer side a reduced decode may have.
    public var fastMinSide: Int
    /// Also records each file's times, the EXIF/XMP clues of images and the container of videos
    /// (`vigil scan`); read from the bytes already read for the digests, so it costs no extra I/O.
    public var readsClues: Bool

    /// Options with the defaults `vigil hash` uses (except `jobs`, which the command sets to the core count).
    public init(
        content: Content = .all, mode: Mode = .exact, dihedral: Bool = false,
        maxPixels: Int = HashOptions.pillowMaxPixels, jobs: Int = 1, jpegDecoder: JPEGDecoder = .turboJPEG,
        inMemoryLimit: Int = 64 << 20, fastMinSide: Int = 512, readsClues: Bool = false,
        video: VideoMode = .include, secondsPerHash: Double = VPDQ.defaultSecondsPerHash,
        videoLimits: VideoLimits = VideoLimits()
    ) {
        self.video = video
        self.secondsPerHash = secondsPerHash
        self.videoLimits = videoLimits
        self.content = content
        self.mode = mode
        self.dihedral = dihedral
        self.maxPixels = maxPixels
        self.jobs = jobs
        self.jpegDecoder = jpegDecoder
        self.inMemoryLimit = inMemoryLimit
        self.fastMinSide = fastMinSide
        self.readsClues = readsClues
    }
}

/// The fingerprints of one file.
public struct HashRecord: Sendable, Equatable {
    /// The path as walked (root argument joined with the relative path).
    public var path: String
    /// Bytes read (equal to the file size unless the file changed while being read).
    public var size: Int
    /// The sniffed type.
    public var type: MediaType
    /// `nil` with `--pdq-only`.
    public var digests: FileDigests?
    /// `nil` for non-images, with `--digests-only`, and for images that failed to decode (also a problem).
    public var pdq: PDQResult?
    /// The 8 dihedral variants (reference order) when asked for.
    public var dihedral: [PDQHash]?
    /// The file's times (only with ``HashOptions/readsClues``).
    public var times: FileTimes?
    /// EXIF/XMP clues of an image (only with ``HashOptions/readsClues``, and when the file has some).
    public var clues: MediaClues?
    /// The video container a non-image file was recognised as (only with ``HashOptions/readsClues``).
    public var video: VideoContainer?
    /// A video's vPDQ fingerprint and facts (duration, codec, dimensions), unless videos are skipped.
    public var vpdq: VideoHash?

    /// PDQ's convention: a hash with quality below 50 should not be used for matching. It is reported, flagged.
    public static let minimumUsefulQuality = 50

    /// Whether the PDQ hash exists and falls below `minimumUsefulQuality`.
    public var isLowQuality: Bool { pdq.map { $0.quality < Self.minimumUsefulQuality } ?? false }

    /// A record with the given fields.
    public init(
        path: String, size: Int, type: MediaType, digests: FileDigests?, pdq: PDQResult?, dihedral: [PDQHash]? = nil
    ) {
        self.path = path
        self.size = size
        self.type = type
        self.digests = digests
        self.pdq = pdq
        self.dihedral = dihedral
    }
}

/// One file that could not be (fully) fingerprinted, and why.
public struct HashProblem: Sendable, Equatable {
    public var path: String
    public var error: MediaError

    /// A problem for `path`.
    public init(path: String, error: MediaError) {
        self.path = path
        self.error = error
    }

    /// "PATH: reason", the line printed on stderr.
    public var line: String { "\(RawPath.display(path)): \(error)" }
}

/// The result of hashing one file: a record, a problem, or both (an undecodable image still has digests).
public struct FileOutcome: Sendable, Equatable {
    public var record: HashRecord?
    public var problem: HashProblem?

    /// An outcome with the given parts.
    public init(record: HashRecord? = nil, problem: HashProblem? = nil) {
        self.record = record
        self.problem = problem
    }
}
