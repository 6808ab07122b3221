import Testing

@testable import PDQ

/// The SIMD kernels against the scalar transcription, on sizes that exercise every remainder of the 16-row
/// strips and 4/16-column vectors, window sizes 1 to 4, and decimation with repeated rows and columns.
struct KernelTests {
    /// Deterministic pseudo-random luma: a multiplicative hash of the index as the noise byte, plus a smooth
    /// component so that quality varies, plus a fraction so that values are not all integers.
    static func randomLuma(width: Int, height: Int, seed: UInt64) -> [Float] {
        (0..<(width * height)).map { i in
            let mixed = (UInt64(i) &+ seed &* 0x9E37_79B9) &* 0x2545_F491_4F6C_DD1D
            let noise = Float((mixed >> 40) & 0xFF)
            let x = Float(i % width) / Float(width)
            let y = Float(i / width) / Float(height)
            return (noise * 0.25 + 150 * x * y + 40 * (x - y)).rounded(.down) + 0.299 * Float(i & 3)
        }
    }

    static let sizes: [(Int, Int)] = [
        (5, 5), (5, 17), (17, 5), (6, 33), (31, 16), (63, 63), (64, 64), (65, 64), (64, 65), (129, 66), (130, 257),
        (255, 127), (258, 129), (300, 31), (384, 385), (513, 18), (19, 520),
    ]

    @Test(arguments: sizes)
    func fastPathEqualsScalarModel(width: Int, height: Int) {
        // given a luma buffer of this size
        let luma = Self.randomLuma(width: width, height: height, seed: UInt64(width * 1000 + height))
        let hasher = PDQHasher()
        // when hashing it with the SIMD path, plainly and with the dihedral variants (which never bypass)
        let fast = luma.withUnsafeBufferPointer { hasher.intermediates(luma: $0, width: width, height: height) }
        let plain = luma.withUnsafeBufferPointer { hasher.hash(luma: $0, width: width, height: height) }
        let dihedral = luma.withUnsafeBufferPointer {
            hasher.hashWithDihedral(luma: $0, width: width, height: height)
        }
        // then every intermediate and the hash equal the scalar model's
        let model = ReferenceModel.spectrum(luma, width: width, height: height, bypass64: true)
        let filtered = ReferenceModel.spectrum(luma, width: width, height: height, bypass64: false)
        #expect(fast.image == model.image)
        #expect(fast.dct == model.dct)
        #expect(fast.quality == ReferenceModel.quality(model.image))
        #expect(plain.hash.hex == ReferenceModel.hex(model.dct))
        #expect(dihedral.result.hash.hex == ReferenceModel.hex(filtered.dct))
        #expect(dihedral.result.quality == ReferenceModel.quality(filtered.image))
    }

    @Test func hasherReusedAcrossSizesEqualsFreshHasherAndStatelessAPI() {
        // given one hasher that has already grown for a large image
        let hasher = PDQHasher()
        let big = Self.randomLuma(width: 400, height: 300, seed: 1)
        _ = big.withUnsafeBufferPointer { hasher.hash(luma: $0, width: 400, height: 300) }
        for (w, h) in [(70, 90), (400, 300), (9, 200), (64, 64)] {
            let luma = Self.randomLuma(width: w, height: h, seed: UInt64(w + h))
            // when hashing smaller and equal images with it, a fresh hasher and the stateless API
            let reused = luma.withUnsafeBufferPointer { hasher.hash(luma: $0, width: w, height: h) }
            let fresh = luma.withUnsafeBufferPointer { PDQHasher().hash(luma: $0, width: w, height: h) }
            let stateless = luma.withUnsafeBufferPointer { PDQ.hash(luma: $0, width: w, height: h) }
            let statelessDihedral = luma.withUnsafeBufferPointer {
                PDQ.hashWithDihedral(luma: $0, width: w, height: h)
            }
            // then all agree
            #expect(reused == fresh)
            #expect(stateless == fresh)
            #expect(statelessDihedral.dihedral.count == 8)
            #expect(
                statelessDihedral.result.quality
                    == ReferenceModel.quality(
                        ReferenceModel.spectrum(luma, width: w, height: h, bypass64: false).image))
        }
    }

    @Test func imagesUnderFivePixelsHashToZeroWithQualityZero() {
        // given images with a side under the minimum
        for (w, h) in [(4, 100), (100, 4), (1, 1), (0, 0)] {
            let luma = [Float](repeating: 9, count: w * h)
            // when hashing
            let result = luma.withUnsafeBufferPointer { PDQ.hash(luma: $0, width: w, height: h) }
            let dihedral = luma.withUnsafeBufferPointer { PDQ.hashWithDihedral(luma: $0, width: w, height: h) }
            // then the hash is zero, quality 0, and all 8 variants are zero
            #expect(result == PDQResult(hash: .zero, quality: 0))
            #expect(dihedral.dihedral == Array(repeating: PDQHash.zero, count: 8))
        }
    }

    @Test func flatImageReportsQualityZeroWithoutDroppingTheHash() {
        // given a flat grey image (PDQ's convention: hash not for matching, quality says so)
        let luma = [Float](repeating: 128, count: 100 * 80)
        // when hashing
        let result = luma.withUnsafeBufferPointer { PDQ.hash(luma: $0, width: 100, height: 80) }
        // then quality is 0 and is reported as is; the caller decides
        #expect(result.quality == 0)
    }

    static func doubleLuma(_ p: [UInt8]) -> Float {
        let r: Double = Double(p[0]) * 0.299
        let g: Double = Double(p[1]) * 0.587
        let b: Double = Double(p[2]) * 0.114
        return Float((r + g) + b)
    }

    static func floatLuma(_ p: [UInt8]) -> Float {
        let r: Float = Float(0.299) * Float(p[0])
        let g: Float = Float(0.587) * Float(p[1])
        let b: Float = Float(0.114) * Float(p[2])
        return (r + g) + b
    }

    static func pixelSeparatingFloatAndDoubleSums() -> [UInt8]? {
        for i in 0..<4096 {
            let p: [UInt8] = [UInt8(i & 255), UInt8((i >> 4) & 255), UInt8((i &* 7) & 255)]
            if floatLuma(p) != doubleLuma(p) { return p }
        }
        return nil
    }

    @Test func lumaUsesDoubleSumRoundedOnceAndIgnoresAlpha() {
        // given one pixel per layout: grey, grey+alpha, RGB, RGBA
        let rgb: [UInt8] = [200, 100, 50]
        let expected = Self.doubleLuma(rgb)
        let layouts: [(channels: Int, bytes: [UInt8], want: Float)] = [
            (1, [77], 77), (2, [77, 3], 77), (3, rgb, expected), (4, rgb + [0], expected),
        ]
        for layout in layouts {
            var out: [Float] = [0]
            // when converting
            layout.bytes.withUnsafeBufferPointer { px in
                out.withUnsafeMutableBufferPointer {
                    PDQ.luma(pixels: px, width: 1, height: 1, channels: layout.channels, into: $0)
                }
            }
            // then the value is the reference bindings' (double sum, one rounding), alpha ignored
            #expect(out[0] == layout.want, "channels \(layout.channels)")
        }
        // and for a pixel where a float32 sum would round differently, the double sum wins
        guard let pixel = Self.pixelSeparatingFloatAndDoubleSums() else {
            Issue.record("no pixel separates float32 and double sums")
            return
        }
        var out: [Float] = [0]
        pixel.withUnsafeBufferPointer { px in
            out.withUnsafeMutableBufferPointer { PDQ.luma(pixels: px, width: 1, height: 1, channels: 3, into: $0) }
        }
        #expect(out[0] == Self.doubleLuma(pixel))
    }
}
