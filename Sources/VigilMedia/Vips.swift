import CVips

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Process-wide libvips state. libvips is started once, lazily, and told not to cache operations
/// (every file is decoded once) and not to spawn its own worker threads (Vigil parallelises per file).
enum Vips {
    /// `true` when libvips started; `false` leaves every non-JPEG image undecodable with a clear reason.
    static let isReady: Bool = {
        guard vigil_vips_init() == 0 else { return false }
        vigil_vips_silence_warnings()
        vips_concurrency_set(1)
        vips_cache_set_max(0)
        vips_cache_set_max_mem(0)
        return true
    }()

    /// Clears libvips' error buffer and returns `reason`. libvips keeps one error buffer for the whole process,
    /// so with parallel workers its text may belong to another file; a fixed reason per failing step keeps the
    /// output true and identical whatever the number of jobs.
    static func failure(_ reason: String) -> String {
        vips_error_clear()
        return reason
    }

    /// Frees this thread's libvips buffers; call when a worker thread ends.
    static func threadShutdown() {
        if isReady { vips_thread_shutdown() }
    }
}

/// Where a libvips decode reads from.
enum VipsSource {
    case buffer(UnsafeRawBufferPointer)
    case file(String)
}

extension Vips {
    /// The libvips loaders allowed for each sniffed type: nothing else (SVG, PDF, CSV, Matlab, FITS …) may ever
    /// be reached with untrusted bytes, whatever libvips itself would guess.
    static func allowedLoaders(for format: MediaType) -> [String] {
        switch format {
        case .jpeg: return ["jpeg"]
        case .png: return ["png"]
        case .gif: return ["gif"]
        case .webp: return ["webp"]
        case .tiff: return ["tiff"]
        case .bmp: return ["magick"]
        case .heif, .avif: return ["heif"]
        case .other: return []
        }
    }

    /// `loader` is a GType name such as "VipsForeignLoadJpegBuffer" or "VipsForeignLoadNsgifFile".
    static func checkLoader(_ loader: UnsafePointer<CChar>?, for format: MediaType) throws(MediaError) {
        guard let loader else {
            _ = failure("")
            throw .unsupportedFormat(format)
        }
        let name = String(cString: loader)
        let family = name.lowercased().replacingPrefix("vipsforeignload")
        guard let family,
            allowedLoaders(for: format).contains(where: { family.hasPrefix($0) || family.hasPrefix("ns" + $0) })
        else {
            throw .undecodable(format: format, reason: "libvips would read it as \(name); refused")
        }
    }

    /// Decodes the first frame/page of an image to interleaved 8-bit pixels (1...4 bands) and hands them to
    /// `body` while they are alive.
    /// - Parameters:
    ///   - shrink: JPEG-only shrink-on-load factor (1 = full size).
    ///   - maxPixels: the decompression-bomb cap, checked on the header before any pixel is decoded.
    static func withPixels<R>(
        from source: VipsSource, format: MediaType, shrink: Int, maxPixels: Int,
        _ body: (_ pixels: UnsafeBufferPointer<UInt8>, _ width: Int, _ height: Int, _ bands: Int) -> R
    ) throws(MediaError) -> R {
        guard isReady else { throw .undecodable(format: format, reason: "libvips failed to start") }
        let loaded: UnsafeMutablePointer<VipsImage>?
        let loader: UnsafePointer<CChar>?
        // A name that is not UTF-8 or a path past PATH_MAX reaches libvips as /proc/self/fd/N, open until done.
        var held: Int32?
        defer { if let held { close(held) } }
        switch source {
        case .buffer(let bytes):
            guard let base = bytes.baseAddress, bytes.count > 0 else {
                throw .undecodable(format: format, reason: "empty file")
            }
            loader = vips_foreign_find_load_buffer(base, bytes.count)
            try checkLoader(loader, for: format)
            loaded = vigil_vips_load_buffer(base, bytes.count, Int32(shrink))
        case .file(let path):
            let (name, descriptor) = RawPath.loadable(path)
            held = descriptor
            loader = vips_foreign_find_load(name)
            try checkLoader(loader, for: format)
            loaded = vigil_vips_load_file(name, Int32(shrink))
        }
        guard let header = loaded else {
            throw .undecodable(
                format: format, reason: failure("libvips could not read the header (corrupt, truncated or unsupported)")
            )
        }
        defer { vigil_vips_unref(header) }
        var image = header
        let width = Int(vips_image_get_width(image))
        let height = Int(vips_image_get_height(image))
        guard width > 0, height > 0 else { throw .undecodable(format: format, reason: "empty image") }
        guard width.multipliedReportingOverflow(by: height).partialValue <= maxPixels, width <= maxPixels,
            height <= maxPixels
        else {
            throw .tooManyPixels(width: width, height: height, cap: maxPixels)
        }

        // Normalise to 8-bit grey or sRGB (with or without alpha); each step replaces `image`.
        var owned: [UnsafeMutablePointer<VipsImage>] = []
        defer { owned.forEach { vigil_vips_unref($0) } }
        func step(
            _ op: (UnsafeMutablePointer<VipsImage>, UnsafeMutablePointer<UnsafeMutablePointer<VipsImage>?>) -> Int32
        )
            throws(MediaError)
        {
            var out: UnsafeMutablePointer<VipsImage>?
            guard op(image, &out) == 0, let next = out else {
                throw .undecodable(format: format, reason: failure("libvips conversion failed"))
            }
            owned.append(next)
            image = next
        }
        let interpretation = vips_image_get_interpretation(image)
        let bandFormat = vips_image_get_format(image)
        let plain: [VipsInterpretation] = [
            VIPS_INTERPRETATION_sRGB, VIPS_INTERPRETATION_B_W,
            VIPS_INTERPRETATION_MULTIBAND,
        ]
        if bandFormat == VIPS_FORMAT_USHORT && vips_image_get_bands(image) == 1 {
            // 16-bit grey: Pillow (the reference pipeline's decoder) clips values to 255 instead of scaling,
            // so hashes only match the world's if we do the same. 16-bit RGB(A) and grey+alpha keep the high byte
            // below, as Pillow does for those.
            try step { vigil_vips_cast_uchar($0, $1) }
        } else if bandFormat != VIPS_FORMAT_UCHAR || !plain.contains(interpretation) {
            let bands = vips_image_get_bands(image)
            let target =
                (interpretation == VIPS_INTERPRETATION_B_W || interpretation == VIPS_INTERPRETATION_GREY16
                    || (bands <= 2 && interpretation != VIPS_INTERPRETATION_CMYK))
                ? VIPS_INTERPRETATION_B_W : VIPS_INTERPRETATION_sRGB
            try step { vigil_vips_colourspace($0, $1, target) }
        }
        if vips_image_get_format(image) != VIPS_FORMAT_UCHAR {
            try step { vigil_vips_cast_uchar($0, $1) }
        }
        if vips_image_get_bands(image) > 4 {
            try step { vigil_vips_extract_bands($0, $1, 0, 3) }
        }
        let bands = Int(vips_image_get_bands(image))
        let outWidth = Int(vips_image_get_width(image))
        let outHeight = Int(vips_image_get_height(image))

        var size = 0
        guard let memory = vips_image_write_to_memory(image, &size) else {
            throw .undecodable(
                format: format, reason: failure("libvips could not decode the pixels (corrupt or truncated data)"))
        }
        defer { g_free(memory) }
        guard size >= outWidth * outHeight * bands else {
            throw .undecodable(format: format, reason: "libvips returned fewer pixels than declared")
        }
        let pixels = UnsafeBufferPointer(start: memory.assumingMemoryBound(to: UInt8.self), count: size)
        return body(pixels, outWidth, outHeight, bands)
    }
}

extension String {
    /// The rest of the string after `prefix`, or `nil` when it does not start with it.
    fileprivate func replacingPrefix(_ prefix: String) -> String? {
        hasPrefix(prefix) ? String(dropFirst(prefix.count)) : nil
    }
}

/// Small greyscale thumbnails for examiners' reports (`vigil scan --thumbnails`).
public enum Thumbnail {
    /// A greyscale JPEG of the image at `path` no larger than `maxSide` on either side, without metadata.
    /// Only the loader allowed for the sniffed `type` may read the file, and the decompression-bomb cap is checked
    /// on the header before any pixel is decoded.
    /// - Throws: ``MediaError`` when the image cannot be decoded.
    public static func greyJPEG(path: String, type: MediaType, maxSide: Int, maxPixels: Int) throws(MediaError)
        -> [UInt8]
    {
        guard Vips.isReady else { throw .undecodable(format: type, reason: "libvips failed to start") }
        let bytes = try readSmallFile(path, limit: 64 << 20)
        let result = bytes.withUnsafeBytes { raw -> Result<[UInt8], MediaError> in
            do throws(MediaError) {
                return .success(try thumbnail(raw, type: type, maxSide: maxSide, maxPixels: maxPixels))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    private static func thumbnail(_ raw: UnsafeRawBufferPointer, type: MediaType, maxSide: Int, maxPixels: Int)
        throws(MediaError) -> [UInt8]
    {
        do {
            guard let base = raw.baseAddress, raw.count > 0 else {
                throw .undecodable(format: type, reason: "empty file")
            }
            try Vips.checkLoader(vips_foreign_find_load_buffer(base, raw.count), for: type)
            guard let header = vigil_vips_load_buffer(base, raw.count, 1) else {
                throw .undecodable(format: type, reason: Vips.failure("libvips could not read the header"))
            }
            let width = Int(vips_image_get_width(header))
            let height = Int(vips_image_get_height(header))
            vigil_vips_unref(header)
            guard width.multipliedReportingOverflow(by: height).partialValue <= maxPixels else {
                throw .tooManyPixels(width: width, height: height, cap: maxPixels)
            }
            var small: UnsafeMutablePointer<VipsImage>?
            guard vigil_vips_thumbnail_buffer(base, raw.count, &small, Int32(maxSide)) == 0, let image = small else {
                throw .undecodable(format: type, reason: Vips.failure("libvips could not make a thumbnail"))
            }
            return try encodeGrey(image, type: type)
        }
    }

    /// Reads a whole file of at most `limit` bytes (read-only, without moving its access time where allowed).
    private static func readSmallFile(_ path: String, limit: Int) throws(MediaError) -> [UInt8] {
        let fd = openReadOnly(path, O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else { throw systemError("open") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, Int(info.st_size) <= limit else {
            throw .undecodable(format: .other, reason: "too large for a thumbnail")
        }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, $0.count - done) }
            if n > 0 {
                done += n
            } else if n == 0 {
                break
            } else if errno != EINTR && errno != EAGAIN {
                throw systemError("read")
            }
        }
        return Array(bytes[0..<done])
    }

    /// Greyscale 8-bit, one band, baseline JPEG; takes ownership of `start`.
    private static func encodeGrey(_ start: UnsafeMutablePointer<VipsImage>, type: MediaType) throws(MediaError)
        -> [UInt8]
    {
        var image = start
        var owned = [image]
        defer { owned.forEach { vigil_vips_unref($0) } }
        var grey: UnsafeMutablePointer<VipsImage>?
        guard vigil_vips_colourspace(image, &grey, VIPS_INTERPRETATION_B_W) == 0, let g = grey else {
            throw .undecodable(format: type, reason: Vips.failure("libvips conversion failed"))
        }
        owned.append(g)
        image = g
        if vips_image_get_bands(image) > 1 {
            var first: UnsafeMutablePointer<VipsImage>?
            guard vigil_vips_extract_bands(image, &first, 0, 1) == 0, let f = first else {
                throw .undecodable(format: type, reason: Vips.failure("libvips conversion failed"))
            }
            owned.append(f)
            image = f
        }
        if vips_image_get_format(image) != VIPS_FORMAT_UCHAR {
            var cast: UnsafeMutablePointer<VipsImage>?
            guard vigil_vips_cast_uchar(image, &cast) == 0, let c = cast else {
                throw .undecodable(format: type, reason: Vips.failure("libvips conversion failed"))
            }
            owned.append(c)
            image = c
        }
        var buffer: UnsafeMutableRawPointer?
        var length = 0
        guard vigil_vips_jpegsave_buffer(image, &buffer, &length, 70) == 0, let buffer else {
            throw .undecodable(format: type, reason: Vips.failure("libvips could not encode the thumbnail"))
        }
        defer { g_free(buffer) }
        return Array(UnsafeRawBufferPointer(start: buffer, count: length))
    }
}
