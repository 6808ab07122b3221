#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A plain scalar transcription of the reference algorithm (ALGORITHM.md), used to check the SIMD kernels on
/// many sizes without Python. Slow and obvious on purpose.
enum ReferenceModel {
    static func box1D(_ input: [Float], _ output: inout [Float], start: Int, length: Int, stride: Int, window: Int) {
        let half = (window + 2) / 2
        var sum: Float = 0
        var count = 0
        var ri = start
        var li = start
        var oi = start
        for _ in 0..<(half - 1) {
            sum += input[ri]
            count += 1
            ri += stride
        }
        for _ in 0..<(window - half + 1) {
            sum += input[ri]
            count += 1
            output[oi] = sum / Float(count)
            ri += stride
            oi += stride
        }
        for _ in 0..<(length - window) {
            sum += input[ri]
            sum -= input[li]
            output[oi] = sum / Float(count)
            li += stride
            ri += stride
            oi += stride
        }
        for _ in 0..<(half - 1) {
            sum -= input[li]
            count -= 1
            output[oi] = sum / Float(count)
            li += stride
            oi += stride
        }
    }

    /// The 64x64 buffer and the 16x16 DCT.
    static func spectrum(_ luma: [Float], width: Int, height: Int, bypass64: Bool) -> (image: [Float], dct: [Float]) {
        var image = [Float](repeating: 0, count: 4096)
        if bypass64 && width == 64 && height == 64 {
            image = luma
        } else {
            var a = luma
            var b = [Float](repeating: 0, count: luma.count)
            let wr = (width + 127) / 128
            let wc = (height + 127) / 128
            for _ in 0..<2 {
                for r in 0..<height { box1D(a, &b, start: r * width, length: width, stride: 1, window: wr) }
                for c in 0..<width { box1D(b, &a, start: c, length: height, stride: width, window: wc) }
            }
            for i in 0..<64 {
                let ri = Int(((Double(i) + 0.5) * Double(height)) / 64)
                for j in 0..<64 {
                    let cj = Int(((Double(j) + 0.5) * Double(width)) / 64)
                    image[i * 64 + j] = a[ri * width + cj]
                }
            }
        }
        let scale = Float((2.0 / 64.0).squareRoot())
        var d = [Float](repeating: 0, count: 1024)
        for i in 0..<16 {
            for j in 0..<64 {
                d[i * 64 + j] = Float(Double(scale) * cos(Double.pi / 2 / 64 * Double(i + 1) * Double(2 * j + 1)))
            }
        }
        var t = [Float](repeating: 0, count: 1024)
        for i in 0..<16 {
            for j in 0..<64 {
                var s: Float = 0
                for k in 0..<64 { s += d[i * 64 + k] * image[k * 64 + j] }
                t[i * 64 + j] = s
            }
        }
        var dct = [Float](repeating: 0, count: 256)
        for i in 0..<16 {
            for j in 0..<16 {
                var s: Float = 0
                for k in 0..<64 { s += t[i * 64 + k] * d[j * 64 + k] }
                dct[i * 16 + j] = s
            }
        }
        return (image, dct)
    }

    static func quality(_ image: [Float]) -> Int {
        var sum = 0
        for i in 0..<63 {
            for j in 0..<64 { sum += abs(Int(((image[i * 64 + j] - image[(i + 1) * 64 + j]) * 100) / 255)) }
        }
        for i in 0..<64 {
            for j in 0..<63 { sum += abs(Int(((image[i * 64 + j] - image[i * 64 + j + 1]) * 100) / 255)) }
        }
        return min(sum / 90, 100)
    }

    /// Hex of the bits `dct > sorted(dct)[127]`, row 15 first.
    static func hex(_ dct: [Float]) -> String {
        let median = dct.sorted()[127]
        var words = [UInt16](repeating: 0, count: 16)
        for k in 0..<256 where dct[k] > median { words[k / 16] |= 1 << UInt16(k % 16) }
        return words.reversed().map { w in
            let s = String(w, radix: 16)
            return String(repeating: "0", count: 4 - s.count) + s
        }.joined()
    }
}
