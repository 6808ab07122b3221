/// A PDQ hasher that owns its scratch buffers, for hashing many images without allocating.
///
/// Buffers grow to the largest image hashed so far and are then reused, so a batch of same-sized images
/// allocates nothing per image. A hasher is not thread-safe: give each thread or task its own.
public final class PDQHasher {
    private var stripCapacity = 0
    private var rowsCapacity = 0
    /// Pass 1 along rows, as a ring of rows (only the rows the column pass still needs are kept).
    private var ring: UnsafeMutablePointer<Float>
    private var ringCapacity = 0
    /// Pass 1 along columns, 16 rows at a time.
    private var stripRows: UnsafeMutablePointer<Float>
    /// A row of zeros, standing for the rows before the first and after the last in the column pass.
    private var zeros: UnsafeMutablePointer<Float>
    /// Pass 2 along rows, only the 64 decimated columns: `rows x 64`.
    private var sampled: UnsafeMutablePointer<Float>
    /// Transposed strip of 16 rows and its running sums.
    private var stripIn: UnsafeMutablePointer<Lanes>
    private var stripSums: UnsafeMutablePointer<Lanes>
    /// Column running sums (one row wide) and per-position divisors (max of rows and columns).
    private var columnSums: UnsafeMutablePointer<Float>
    private var divisors: UnsafeMutablePointer<Float>
    /// Luma of the 16 rows of pixels being filtered, when hashing 8-bit pixels.
    private var lumaStrip: UnsafeMutablePointer<Float>
    /// Fixed-size work areas: 64x64 image, 16x64 half-DCT, 16x16 DCT, 16x16 dihedral, 256 median keys,
    /// 64 decimation indices of rows and of columns.
    private let image64: UnsafeMutablePointer<Float>
    private let half: UnsafeMutablePointer<Float>
    private let dct: UnsafeMutablePointer<Float>
    private let aux: UnsafeMutablePointer<Float>
    private let keys: UnsafeMutablePointer<UInt32>
    private let rowIndex: UnsafeMutablePointer<Int>
    private let columnIndex: UnsafeMutablePointer<Int>

    /// Creates a hasher with empty buffers.
    public init() {
        ring = Self.allocate(Float.self, 0)
        stripRows = Self.allocate(Float.self, 0)
        zeros = Self.allocate(Float.self, 0)
        sampled = Self.allocate(Float.self, 0)
        stripIn = Self.allocate(Lanes.self, 0)
        stripSums = Self.allocate(Lanes.self, 0)
        columnSums = Self.allocate(Float.self, 0)
        divisors = Self.allocate(Float.self, 0)
        lumaStrip = Self.allocate(Float.self, 0)
        image64 = Self.allocate(Float.self, 64 * 64)
        half = Self.allocate(Float.self, 16 * 64)
        dct = Self.allocate(Float.self, 256)
        aux = Self.allocate(Float.self, 256)
        keys = Self.allocate(UInt32.self, 256)
        rowIndex = Self.allocate(Int.self, 64)
        columnIndex = Self.allocate(Int.self, 64)
    }

    deinit {
        for p in [ring, stripRows, zeros, sampled, columnSums, divisors, lumaStrip, image64, half, dct, aux] {
            p.deallocate()
        }
        stripIn.deallocate()
        stripSums.deallocate()
        keys.deallocate()
        rowIndex.deallocate()
        columnIndex.deallocate()
    }

    private static func allocate<T>(_: T.Type, _ count: Int) -> UnsafeMutablePointer<T> {
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: max(count, 1) * MemoryLayout<T>.stride, alignment: max(64, MemoryLayout<T>.alignment))
        return raw.bindMemory(to: T.self, capacity: max(count, 1))
    }

    private func reserve(width: Int, height: Int, ringRows: Int) {
        let n = width * ringRows
        if n > ringCapacity {
            ring.deallocate()
            ring = Self.allocate(Float.self, n)
            ringCapacity = n
        }
        let longest = max(width, height, 64)
        if longest > stripCapacity {
            stripIn.deallocate()
            stripSums.deallocate()
            columnSums.deallocate()
            divisors.deallocate()
            stripRows.deallocate()
            zeros.deallocate()
            lumaStrip.deallocate()
            stripIn = Self.allocate(Lanes.self, longest)
            stripSums = Self.allocate(Lanes.self, longest)
            columnSums = Self.allocate(Float.self, longest)
            divisors = Self.allocate(Float.self, longest)
            stripRows = Self.allocate(Float.self, longest)
            zeros = Self.allocate(Float.self, longest)
            zeros.initialize(repeating: 0, count: longest)
            lumaStrip = Self.allocate(Float.self, 16 * longest)
            stripCapacity = longest
        }
        if height > rowsCapacity {
            sampled.deallocate()
            sampled = Self.allocate(Float.self, height * 64)
            rowsCapacity = height
        }
    }

    // MARK: public entry points

    /// PDQ of a row-major luminance buffer of `width * height` floats (0...255).
    ///
    /// Images under 5 pixels on either side give the zero hash with quality 0; a 64x64 image is used as is,
    /// without filtering, as in the reference.
    public func hash(luma: UnsafeBufferPointer<Float>, width: Int, height: Int) -> PDQResult {
        guard let src = checked(luma, width: width, height: height) else {
            return PDQResult(hash: .zero, quality: 0)
        }
        return plain(.luma(src), width: width, height: height)
    }

    /// The hash, plus the 8 dihedral variants in the reference order
    /// (original, rot90, rot180, rot270, flipX, flipY, flipPlus1, flipMinus1; rotations counter-clockwise).
    ///
    /// As in the reference, this path filters even a 64x64 input, so for that size alone `result.hash` can in
    /// principle differ from ``hash(luma:width:height:)`` in rare bits.
    public func hashWithDihedral(luma: UnsafeBufferPointer<Float>, width: Int, height: Int)
        -> (result: PDQResult, dihedral: [PDQHash])
    {
        guard let src = checked(luma, width: width, height: height) else {
            return (PDQResult(hash: .zero, quality: 0), Array(repeating: .zero, count: 8))
        }
        return withDihedral(.luma(src), width: width, height: height)
    }

    /// PDQ of interleaved 8-bit pixels with 1...4 channels (grey, grey+alpha, RGB, RGBA; alpha ignored),
    /// with luminance as ``PDQ/luma(pixels:width:height:channels:into:)`` computes it, converted 16 rows at a
    /// time just ahead of the filter.
    public func hash(pixels: UnsafeBufferPointer<UInt8>, width: Int, height: Int, channels: Int) -> PDQResult {
        guard let src = checked(pixels, width: width, height: height, channels: channels) else {
            return PDQResult(hash: .zero, quality: 0)
        }
        return plain(.pixels(src, channels: channels), width: width, height: height)
    }

    /// ``hashWithDihedral(luma:width:height:)`` of interleaved 8-bit pixels with 1...4 channels.
    public func hashWithDihedral(pixels: UnsafeBufferPointer<UInt8>, width: Int, height: Int, channels: Int)
        -> (result: PDQResult, dihedral: [PDQHash])
    {
        guard let src = checked(pixels, width: width, height: height, channels: channels) else {
            return (PDQResult(hash: .zero, quality: 0), Array(repeating: .zero, count: 8))
        }
        return withDihedral(.pixels(src, channels: channels), width: width, height: height)
    }

    /// The 64x64 downsample, the 16x16 DCT and the quality, for debugging against the reference's intermediates.
    func intermediates(luma: UnsafeBufferPointer<Float>, width: Int, height: Int)
        -> (image: [Float], dct: [Float], quality: Int)
    {
        guard let src = checked(luma, width: width, height: height) else { return ([], [], 0) }
        let quality = spectrum(.luma(src), width: width, height: height, bypass64: true)
        return (
            Array(UnsafeBufferPointer(start: image64, count: 4096)), Array(UnsafeBufferPointer(start: dct, count: 256)),
            quality
        )
    }

    // MARK: steps

    /// Where the rows come from: luminance, or 8-bit pixels converted on the way.
    private enum Source {
        case luma(UnsafePointer<Float>)
        case pixels(UnsafePointer<UInt8>, channels: Int)
    }

    private func plain(_ source: Source, width: Int, height: Int) -> PDQResult {
        let quality = spectrum(source, width: width, height: height, bypass64: true)
        return PDQResult(hash: Spectrum.bits(dct, keys: keys), quality: quality)
    }

    private func withDihedral(_ source: Source, width: Int, height: Int) -> (result: PDQResult, dihedral: [PDQHash]) {
        let quality = spectrum(source, width: width, height: height, bypass64: false)
        var hashes: [PDQHash] = []
        hashes.reserveCapacity(8)
        for v in 0..<8 {
            Spectrum.dihedral(v, of: dct, into: aux)
            hashes.append(Spectrum.bits(aux, keys: keys))
        }
        return (PDQResult(hash: hashes[0], quality: quality), hashes)
    }

    /// Fills `image64` (filtered and decimated, or copied for a 64x64 image when `bypass64`) and `dct`; returns
    /// the quality.
    private func spectrum(_ source: Source, width: Int, height: Int, bypass64: Bool) -> Int {
        if bypass64 && width == 64 && height == 64 {
            switch source {
            case .luma(let src): image64.update(from: src, count: 64 * 64)
            case .pixels(let src, let channels): Luma.convert(src, count: 64 * 64, channels: channels, into: image64)
            }
        } else {
            downsample(source, width: width, height: height)
        }
        Spectrum.dct16(image64, half, dct)
        return Spectrum.quality(image64)
    }

    /// The base address when the pixels are large enough to hash; `nil` under the minimum size.
    private func checked(_ pixels: UnsafeBufferPointer<UInt8>, width: Int, height: Int, channels: Int)
        -> UnsafePointer<UInt8>?
    {
        precondition((1...4).contains(channels), "PDQ: channels must be 1...4")
        precondition(width >= 0 && height >= 0, "PDQ: negative dimension")
        let (n, o1) = width.multipliedReportingOverflow(by: height)
        let (bytes, o2) = n.multipliedReportingOverflow(by: channels)
        precondition(!o1 && !o2 && pixels.count >= bytes, "PDQ: pixel buffer smaller than width * height * channels")
        guard width >= PDQ.minimumDimension, height >= PDQ.minimumDimension else { return nil }
        return pixels.baseAddress
    }

    /// The base address when the image is large enough to hash; `nil` under the minimum size.
    private func checked(_ luma: UnsafeBufferPointer<Float>, width: Int, height: Int) -> UnsafePointer<Float>? {
        precondition(width >= 0 && height >= 0, "PDQ: negative dimension")
        let (n, overflow) = width.multipliedReportingOverflow(by: height)
        precondition(!overflow && luma.count >= n, "PDQ: luma buffer smaller than width * height")
        guard width >= PDQ.minimumDimension, height >= PDQ.minimumDimension else { return nil }
        return luma.baseAddress
    }

    /// The Jarosz filter (two passes of rows then columns) and the 64x64 decimation, into `image64`.
    ///
    /// The passes are streamed 16 rows at a time so that the working set stays in cache: pass 1 along rows fills
    /// a ring of rows just ahead of pass 1 along columns, whose 16 output rows go straight to pass 2 along rows,
    /// which keeps only the 64 decimated columns; pass 2 along columns then writes only the 64 decimated rows.
    /// Each output still sees exactly the reference's sequence of float operations: for output row `i` the
    /// column pass adds row `i + half - 1` (while it exists), subtracts row `i - (size - half + 1)` (once it
    /// exists), then divides by the samples held, which is the reference's four phases written per row.
    private func downsample(_ source: Source, width: Int, height: Int) {
        let alongRows = BoxWindow(length: width)
        let alongColumns = BoxWindow(length: height)
        // Rows from `i - (size - half + 1)` to the end of the strip computed ahead must all fit: size + 31 rows.
        let ringRows = (alongColumns.size + 48 + 15) / 16 * 16
        reserve(width: width, height: height, ringRows: ringRows)
        for k in 0..<64 {
            rowIndex[k] = Int(((Double(k) + 0.5) * Double(height)) / 64)
            columnIndex[k] = Int(((Double(k) + 0.5) * Double(width)) / 64)
        }
        for c in 0..<width { divisors[c] = alongRows.count(at: c) }

        let ring = self.ring
        @inline(__always) func ringRow(_ r: Int) -> UnsafeMutablePointer<Float> { ring + (r % ringRows) * width }
        var computed = 0
        @inline(__always) func computeRows(through last: Int) {
            while computed <= last {
                let n = min(16, height - computed)
                let rows: UnsafePointer<Float>
                switch source {
                case .luma(let src):
                    rows = src + computed * width
                case .pixels(let src, let channels):
                    Luma.convert(
                        src + computed * width * channels, count: n * width, channels: channels, into: lumaStrip)
                    rows = UnsafePointer(lumaStrip)
                }
                boxAlongRows(
                    rows, ringRow(computed), rows: n, cols: width, window: alongRows,
                    divisors: divisors, scratch: stripIn, stripSums)
                computed += n
            }
        }

        let ahead = alongColumns.half - 1
        let behind = alongColumns.size - alongColumns.half + 1
        columnSums.initialize(repeating: 0, count: width)
        computeRows(through: min(height - 1, ahead + 15))
        for r in 0..<ahead {
            columnStep(columnSums, width: width, add: ringRow(r), sub: nil, out: nil, divisor: 1)
        }
        let zeros = UnsafePointer(self.zeros)
        @inline(__always) func addRow(_ r: Int) -> UnsafePointer<Float> {
            r < height ? UnsafePointer(ringRow(r)) : zeros
        }
        @inline(__always) func subRow(_ r: Int) -> UnsafePointer<Float> { r >= 0 ? UnsafePointer(ringRow(r)) : zeros }
        let strip = UnsafeMutableRawPointer(stripIn)
        var o0 = 0
        while o0 < height {
            let n = min(16, height - o0)
            computeRows(through: min(height - 1, o0 + n - 1 + ahead))
            var i = o0
            while i < o0 + n {
                let lane = i - o0
                if i + 4 <= o0 + n {
                    columnSteps4(
                        columnSums, width: width,
                        add: (addRow(i + ahead), addRow(i + 1 + ahead), addRow(i + 2 + ahead), addRow(i + 3 + ahead)),
                        sub: (
                            subRow(i - behind), subRow(i + 1 - behind), subRow(i + 2 - behind), subRow(i + 3 - behind)
                        ),
                        divisors: SIMD4(
                            alongColumns.count(at: i), alongColumns.count(at: i + 1), alongColumns.count(at: i + 2),
                            alongColumns.count(at: i + 3)),
                        into: stripIn, lane: lane)
                    i += 4
                } else {
                    // The last rows of the image, fewer than 4: one row at a time.
                    columnStep(
                        columnSums, width: width, add: addRow(i + ahead), sub: subRow(i - behind), out: stripRows,
                        divisor: alongColumns.count(at: i))
                    for c in 0..<width {
                        strip.storeBytes(of: stripRows[c], toByteOffset: (c * 16 + lane) * 4, as: Float.self)
                    }
                    i += 1
                }
            }
            sampleStrip(
                stripIn, stripSums, sampled + o0 * 64, rows: n, window: alongRows, divisors: divisors,
                columns: columnIndex)
            o0 += n
        }

        // Output row i goes to the first 64x64 row k decimated from it; rows that share a source row (only when
        // height < 64) are copied afterwards.
        var next = 0
        let rows = rowIndex
        let image = image64
        boxAlongColumns(
            sampled, rows: height, cols: 64, window: alongColumns, sums: columnSums,
            outRow: { i in
                while next < 64 && rows[next] < i { next += 1 }
                return next < 64 && rows[next] == i ? image + next * 64 : nil
            })
        for k in 1..<64 where rowIndex[k] == rowIndex[k - 1] {
            (image64 + k * 64).update(from: image64 + (k - 1) * 64, count: 64)
        }
    }
}
