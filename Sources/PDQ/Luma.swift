/// RGB to luminance exactly as the reference bindings compute it.
enum Luma {
    /// `Double(v) * coefficient` for every byte value, so the per-pixel work is two double additions.
    static let red: [Double] = (0..<256).map { Double($0) * 0.299 }
    static let green: [Double] = (0..<256).map { Double($0) * 0.587 }
    static let blue: [Double] = (0..<256).map { Double($0) * 0.114 }

    static func convert(
        _ src: UnsafePointer<UInt8>, count n: Int, channels: Int, into dst: UnsafeMutablePointer<Float>
    ) {
        switch channels {
        case 1, 2:
            // (v*0.299 + v*0.587) + v*0.114 rounds to exactly v for every byte, so grey needs no arithmetic.
            for i in 0..<n { dst[i] = Float(src[i &* channels]) }
        default:
            red.withUnsafeBufferPointer { r in
                green.withUnsafeBufferPointer { g in
                    blue.withUnsafeBufferPointer { b in
                        guard let r = r.baseAddress, let g = g.baseAddress, let b = b.baseAddress else { return }
                        var p = src
                        for i in 0..<n {
                            dst[i] = Float((r[Int(p[0])] + g[Int(p[1])]) + b[Int(p[2])])
                            p += channels
                        }
                    }
                }
            }
        }
    }
}
