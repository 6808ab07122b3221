/// PDQ, Meta's perceptual image hash, bit for bit as the reference implementation computes it.
///
/// These stateless entry points allocate their scratch buffers on every call; to hash many images, create one
/// ``PDQHasher`` per thread and reuse it (it allocates nothing once its buffers have grown to the largest image).
public enum PDQ {
    /// Images with fewer rows or columns than this hash to all zeros with quality 0 (the reference's guard).
    public static let minimumDimension = 5

    /// PDQ of a row-major luminance buffer of `width * height` floats (0...255).
    public static func hash(luma: UnsafeBufferPointer<Float>, width: Int, height: Int) -> PDQResult {
        PDQHasher().hash(luma: luma, width: width, height: height)
    }

    /// The hash, plus the 8 dihedral variants in the reference order
    /// (original, rot90, rot180, rot270, flipX, flipY, flipPlus1, flipMinus1).
    public static func hashWithDihedral(luma: UnsafeBufferPointer<Float>, width: Int, height: Int)
        -> (result: PDQResult, dihedral: [PDQHash])
    {
        PDQHasher().hashWithDihedral(luma: luma, width: width, height: height)
    }

    /// Luminance (0.299 R + 0.587 G + 0.114 B, as float) of interleaved 8-bit pixels with 1...4 channels
    /// (1 = grey, 2 = grey+alpha, 3 = RGB, 4 = RGBA; alpha ignored).
    ///
    /// The sum is taken in double precision and rounded once to float, as the reference Python bindings
    /// (`pdqhash`, used by python-threatexchange and HMA) do; grey values are exact.
    public static func luma(
        pixels: UnsafeBufferPointer<UInt8>, width: Int, height: Int, channels: Int,
        into out: UnsafeMutableBufferPointer<Float>
    ) {
        precondition((1...4).contains(channels), "PDQ.luma: channels must be 1...4")
        precondition(width >= 0 && height >= 0, "PDQ.luma: negative dimension")
        let (n, o1) = width.multipliedReportingOverflow(by: height)
        let (bytes, o2) = n.multipliedReportingOverflow(by: channels)
        precondition(!o1 && !o2 && pixels.count >= bytes && out.count >= n, "PDQ.luma: buffer too small")
        guard n > 0, let src = pixels.baseAddress, let dst = out.baseAddress else { return }
        Luma.convert(src, count: n, channels: channels, into: dst)
    }
}
