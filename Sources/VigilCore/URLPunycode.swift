/// The Punycode encoding of RFC 3492, used to write internationalised host labels in ASCII (`xn--…`).
///
/// Foundation on Linux has no IDNA support; this is the encoder only (Vigil never needs to decode).
public enum Punycode {
    private static let base: UInt32 = 36
    private static let tMin: UInt32 = 1
    private static let tMax: UInt32 = 26
    private static let skew: UInt32 = 38
    private static let damp: UInt32 = 700
    private static let initialBias: UInt32 = 72
    private static let initialN: UInt32 = 0x80

    /// Encodes one label.
    /// - Parameter label: The label's text; ASCII characters are copied as they are (case included).
    /// - Returns: The Punycode text without the `xn--` prefix (for an all-ASCII label: the label followed by
    ///   `-`, as RFC 3492 specifies), or `nil` when the label is too long to encode without overflow.
    public static func encode(_ label: String) -> String? {
        let input = label.unicodeScalars.map(\.value)
        var output: [UInt8] = []
        output.reserveCapacity(input.count * 2)
        for value in input where value < 0x80 { output.append(UInt8(value)) }
        let basicCount = UInt32(output.count)
        var handled = basicCount
        if basicCount > 0 { output.append(UInt8(ascii: "-")) }

        var n = initialN
        var delta: UInt32 = 0
        var bias = initialBias
        while handled < UInt32(input.count) {
            var m = UInt32.max
            for value in input where value >= n && value < m { m = value }
            let (product, productOverflow) = (m - n).multipliedReportingOverflow(by: handled + 1)
            guard !productOverflow else { return nil }
            let (sum, sumOverflow) = delta.addingReportingOverflow(product)
            guard !sumOverflow else { return nil }
            delta = sum
            n = m
            for value in input {
                if value < n {
                    let (next, overflow) = delta.addingReportingOverflow(1)
                    guard !overflow else { return nil }
                    delta = next
                }
                if value == n {
                    var q = delta
                    var k = base
                    while true {
                        let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                        if q < t { break }
                        output.append(digit(t + (q - t) % (base - t)))
                        q = (q - t) / (base - t)
                        k += base
                    }
                    output.append(digit(q))
                    bias = adapt(delta: delta, numPoints: handled + 1, firstTime: handled == basicCount)
                    delta = 0
                    handled += 1
                }
            }
            delta += 1
            n += 1
        }
        return String(decoding: output, as: UTF8.self)
    }

    private static func digit(_ d: UInt32) -> UInt8 {
        d < 26 ? UInt8(d) + UInt8(ascii: "a") : UInt8(d - 26) + UInt8(ascii: "0")
    }

    private static func adapt(delta: UInt32, numPoints: UInt32, firstTime: Bool) -> UInt32 {
        var delta = firstTime ? delta / damp : delta / 2
        delta += delta / numPoints
        var k: UInt32 = 0
        while delta > ((base - tMin) * tMax) / 2 {
            delta /= base - tMin
            k += base
        }
        return k + (base - tMin + 1) * delta / (delta + skew)
    }
}
