#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The 64x64 -> 16x16 DCT, the quality metric, the median threshold and the dihedral sign tables.
enum Spectrum {
    /// `D[i][j] = scale * cos(pi / 128 * (i + 1) * (2j + 1))`, 16 x 64 row-major, the scale rounded to float
    /// first as in the reference.
    static let dct: [Float] = {
        let scale = Float((2.0 / 64.0).squareRoot())
        var d = [Float](repeating: 0, count: 16 * 64)
        for i in 0..<16 {
            for j in 0..<64 {
                d[i * 64 + j] = Float(Double(scale) * cos((Double.pi / 2.0 / 64.0) * Double(i + 1) * Double(2 * j + 1)))
            }
        }
        return d
    }()

    /// `D` transposed (64 x 16), so the second product runs along contiguous rows.
    static let dctTransposed: [Float] = {
        var t = [Float](repeating: 0, count: 64 * 16)
        for i in 0..<16 {
            for k in 0..<64 { t[k * 16 + i] = dct[i * 64 + k] }
        }
        return t
    }()

    /// `B = (D A) D^T` with float accumulation over k = 0..<64 in order, as the reference does.
    /// `a` is 64x64, `t` 16x64 scratch, `b` 16x16 output, all row-major.
    static func dct16(_ a: UnsafePointer<Float>, _ t: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>) {
        dct.withUnsafeBufferPointer { dp in
            dctTransposed.withUnsafeBufferPointer { dtp in
                guard let d = dp.baseAddress, let dt = dtp.baseAddress else { return }
                let araw = UnsafeRawPointer(a)
                let traw = UnsafeMutableRawPointer(t)
                // T[i][j] = sum_k D[i][k] * A[k][j], 16 columns j at a time.
                for i in 0..<16 {
                    let drow = d + i * 64
                    for jb in 0..<4 {
                        var acc = Lanes(repeating: 0)
                        for k in 0..<64 {
                            let av = araw.loadUnaligned(fromByteOffset: (k * 64 + jb * 16) * 4, as: Lanes.self)
                            acc += Lanes(repeating: drow[k]) * av
                        }
                        traw.storeBytes(of: acc, toByteOffset: (i * 64 + jb * 16) * 4, as: Lanes.self)
                    }
                }
                // B[i][j] = sum_k T[i][k] * D[j][k], all 16 columns j at once.
                let dtraw = UnsafeRawPointer(dt)
                let braw = UnsafeMutableRawPointer(b)
                for i in 0..<16 {
                    var acc = Lanes(repeating: 0)
                    for k in 0..<64 {
                        acc +=
                            Lanes(repeating: t[i * 64 + k])
                            * dtraw.loadUnaligned(fromByteOffset: k * 64, as: Lanes.self)
                    }
                    braw.storeBytes(of: acc, toByteOffset: i * 64, as: Lanes.self)
                }
            }
        }
    }

    /// The reference's image-domain quality: the sum over neighbouring pairs of `|trunc((u - v) * 100 / 255)|`,
    /// divided by 90 and capped at 100.
    static func quality(_ a: UnsafePointer<Float>) -> Int {
        @inline(__always) func step(_ u: Float, _ v: Float) -> Int {
            let d = ((u - v) * 100) / 255
            // Finite luma never leaves +-100; guard the conversion against NaN and infinities in caller data.
            guard d > -1e9 && d < 1e9 else { return 0 }
            return abs(Int(d))
        }
        var sum = 0
        for i in 0..<63 {
            for j in 0..<64 { sum += step(a[i * 64 + j], a[(i + 1) * 64 + j]) }
        }
        for i in 0..<64 {
            for j in 0..<63 { sum += step(a[i * 64 + j], a[i * 64 + j + 1]) }
        }
        return min(sum / 90, 100)
    }

    /// An order-preserving integer key of a float (negative values inverted, positives with the sign bit set).
    @inline(__always) static func key(_ x: Float) -> UInt32 {
        let b = x.bitPattern
        return b & 0x8000_0000 != 0 ? ~b : b | 0x8000_0000
    }

    /// The reference's median (Torben's algorithm on 256 values returns the lower median, `sorted[127]`),
    /// found by a byte-wise radix select; `keys` is 256 words of scratch.
    static func lowerMedian(_ b: UnsafePointer<Float>, keys: UnsafeMutablePointer<UInt32>) -> Float {
        for i in 0..<256 { keys[i] = key(b[i]) }
        var prefix: UInt32 = 0
        var mask: UInt32 = 0
        var rank = 127
        var counts = (
            SIMD16<Int32>(), SIMD16<Int32>(), SIMD16<Int32>(), SIMD16<Int32>(),
            SIMD16<Int32>(), SIMD16<Int32>(), SIMD16<Int32>(), SIMD16<Int32>(),
            SIMD16<Int32>(), SIMD16<Int32>(), SIMD16<Int32>(), SIMD16<Int32>(),
            SIMD16<Int32>(), SIMD16<Int32>(), SIMD16<Int32>(), SIMD16<Int32>()
        )
        return withUnsafeMutableBytes(of: &counts) { raw in
            let histogram = raw.bindMemory(to: Int32.self)
            for shift: UInt32 in [24, 16, 8, 0] {
                for i in 0..<256 { histogram[i] = 0 }
                for i in 0..<256 where keys[i] & mask == prefix {
                    histogram[Int((keys[i] >> shift) & 0xFF)] += 1
                }
                var bucket = 0
                while rank >= Int(histogram[bucket]) {
                    rank -= Int(histogram[bucket])
                    bucket += 1
                }
                prefix |= UInt32(bucket) << shift
                mask |= 0xFF << shift
            }
            let bits = prefix & 0x8000_0000 != 0 ? prefix & 0x7FFF_FFFF : ~prefix
            return Float(bitPattern: bits)
        }
    }

    /// Bit `16 i + j` set iff `B[i][j] > median`.
    static func bits(_ b: UnsafePointer<Float>, keys: UnsafeMutablePointer<UInt32>) -> PDQHash {
        let median = lowerMedian(b, keys: keys)
        var w: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        for q in 0..<4 {
            var word: UInt64 = 0
            let base = b + q * 64
            for k in 0..<64 where base[k] > median { word |= 1 << UInt64(k) }
            switch q {
            case 0: w.3 = word
            case 1: w.2 = word
            case 2: w.1 = word
            default: w.0 = word
            }
        }
        return PDQHash(words: w)
    }

    /// Writes dihedral variant `v` of the 16x16 DCT `a` into `out`, in the reference order (0 original, 1 rot90,
    /// 2 rot180, 3 rot270, 4 flipX, 5 flipY, 6 flipPlus1, 7 flipMinus1; rotations counter-clockwise).
    static func dihedral(_ v: Int, of a: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        for i in 0..<16 {
            for j in 0..<16 {
                let x = a[i * 16 + j]
                let odd = (i + j) & 1 == 1
                switch v {
                case 1: out[j * 16 + i] = j & 1 == 1 ? x : -x
                case 2: out[i * 16 + j] = odd ? -x : x
                case 3: out[j * 16 + i] = i & 1 == 1 ? x : -x
                case 4: out[i * 16 + j] = i & 1 == 1 ? x : -x
                case 5: out[i * 16 + j] = j & 1 == 1 ? x : -x
                case 6: out[j * 16 + i] = x
                case 7: out[j * 16 + i] = odd ? -x : x
                default: out[i * 16 + j] = x
                }
            }
        }
    }
}
