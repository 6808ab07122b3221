import CTurboJPEG

/// A TurboJPEG decompressor, owned by one worker thread (a handle must not be shared between threads).
/// libjpeg-turbo's API is used directly for JPEG because it is several times faster than going through
/// libvips per image, and because it can decode at 1/2, 1/4 or 1/8 scale inside the IDCT (fast mode).
final class TurboJPEG {
    private var handle: tjhandle

    /// `nil` if libjpeg-turbo could not allocate a decompressor.
    init?() {
        guard let handle = tjInitDecompress() else { return nil }
        self.handle = handle
    }

    deinit { tjDestroy(handle) }

    /// A handle that has failed on a broken stream can keep failing on the next, good one (libjpeg-turbo leaves
    /// the decompressor mid-stream), so after any failure the worker starts again with a fresh handle.
    private func renew() {
        guard let fresh = tjInitDecompress() else { return }
        tjDestroy(handle)
        handle = fresh
    }

    /// The header fields needed to plan a decode.
    struct Header {
        var width: Int
        var height: Int
        var colorspace: Int32
        /// CMYK and YCCK cannot be converted to RGB by TurboJPEG; such files go through libvips.
        var isCMYK: Bool { colorspace == TJCS_CMYK.rawValue || colorspace == TJCS_YCCK.rawValue }
        var isGrey: Bool { colorspace == TJCS_GRAY.rawValue }
    }

    /// Reads the header without decoding pixels.
    func header(_ jpeg: UnsafeRawBufferPointer) throws(MediaError) -> Header {
        var width: Int32 = 0
        var height: Int32 = 0
        var subsampling: Int32 = 0
        var colorspace: Int32 = 0
        let base = jpeg.baseAddress?.assumingMemoryBound(to: UInt8.self)
        if tjDecompressHeader3(handle, base, UInt(jpeg.count), &width, &height, &subsampling, &colorspace) != 0 {
            try checkWarning()
        }
        guard width > 0, height > 0 else {
            renew()
            throw .undecodable(format: .jpeg, reason: "no image size in header")
        }
        return Header(width: Int(width), height: Int(height), colorspace: colorspace)
    }

    /// The largest libjpeg-turbo reduction (1, 1/2, 1/4, 1/8) that keeps the longer side at least `minSide`.
    static func reduction(width: Int, height: Int, minSide: Int) -> Int {
        let longer = max(width, height)
        var denominator = 1
        for candidate in [2, 4, 8] where (longer + candidate - 1) / candidate >= minSide {
            denominator = candidate
        }
        return denominator
    }

    /// Decodes at 1/`denominator` scale into `pixels` (grown as needed) as RGB (3 channels) or grey (1).
    /// A truncated stream is an error (a half-grey image must not yield a hash, and Pillow, the reference
    /// pipeline's decoder, refuses it too); libjpeg's other warnings, such as extraneous bytes before a marker,
    /// are common in camera files and are tolerated, as Pillow tolerates them.
    /// - Returns: the decoded width and height.
    func decode(
        _ jpeg: UnsafeRawBufferPointer, header: Header, denominator: Int, grey: Bool, into pixels: inout PixelBuffer
    ) throws(MediaError) -> (width: Int, height: Int) {
        let width = (header.width + denominator - 1) / denominator
        let height = (header.height + denominator - 1) / denominator
        let channels = grey ? 1 : 3
        pixels.reserve(width * height * channels)
        let format = grey ? TJPF_GRAY.rawValue : TJPF_RGB.rawValue
        let base = jpeg.baseAddress?.assumingMemoryBound(to: UInt8.self)
        let status = tjDecompress2(
            handle, base, UInt(jpeg.count), pixels.bytes, Int32(width), Int32(width * channels), Int32(height),
            Int32(format), TJFLAG_LIMITSCANS)
        if status != 0 { try checkWarning() }
        return (width, height)
    }

    /// After a call reported trouble: returns if it was only a tolerable warning, throws otherwise.
    private func checkWarning() throws(MediaError) {
        let message = errorText()
        let isWarning = tjGetErrorCode(handle) == TJERR_WARNING.rawValue
        if !isWarning || message.contains("Premature end") {
            renew()
            throw .undecodable(format: .jpeg, reason: message)
        }
    }

    private func errorText() -> String {
        guard let text = tjGetErrorStr2(handle) else { return "libjpeg-turbo error" }
        return String(cString: text)
    }
}

/// A growable scratch buffer reused across files by one worker, so steady-state decoding allocates nothing.
struct Scratch<Element>: ~Copyable {
    private(set) var bytes: UnsafeMutablePointer<Element>
    private(set) var capacity: Int

    init() {
        capacity = 0
        bytes = UnsafeMutablePointer<Element>.allocate(capacity: 1)
    }

    /// Ensures room for `count` elements; the old contents are not kept.
    mutating func reserve(_ count: Int) {
        guard count > capacity else { return }
        bytes.deallocate()
        bytes = UnsafeMutablePointer<Element>.allocate(capacity: count)
        capacity = count
    }

    /// Ensures room for `count` elements, keeping the first `used` ones.
    mutating func reserveKeeping(_ count: Int, used: Int) {
        guard count > capacity else { return }
        let grown = UnsafeMutablePointer<Element>.allocate(capacity: count)
        grown.moveInitialize(from: bytes, count: used)
        bytes.deallocate()
        bytes = grown
        capacity = count
    }

    deinit { bytes.deallocate() }
}

typealias PixelBuffer = Scratch<UInt8>
