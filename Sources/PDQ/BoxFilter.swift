// The reference's two-pass Jarosz tent filter (box along rows, then along columns, twice), rewritten for SIMD
// without changing a single floating-point operation: every output is the same running sum, added and
// subtracted in the same order, divided by the same count, as `box1DFloat` in the C++ reference.
//
// Rows are filtered 16 at a time: a strip of 16 rows is transposed (4x4 blocks in registers) into a scratch
// buffer where each column is one `SIMD16<Float>`, so the sequential running sum along the row runs in 16 lanes
// at once. Columns are filtered a whole row at a time, the running sums of all columns held in one buffer; the
// column pass of pass 1 writes its output rows straight into the transposed layout that pass 2 along rows
// needs (`columnSteps4`). `PDQHasher.downsample` streams the passes through a ring of rows.

typealias Lanes = SIMD16<Float>

/// The window of one 1-D box pass and the divisor of each output position.
struct BoxWindow {
    /// Full window size (the reference's `full_window_size`).
    let size: Int
    /// `(size + 2) / 2`.
    let half: Int
    /// Length of the filtered vector.
    let length: Int

    /// The reference's window for shrinking `length` to `target` in two passes: `ceil(length / (2 * target))`.
    init(length: Int, target: Int = 64) {
        self.length = length
        size = (length + 2 * target - 1) / (2 * target)
        half = (size + 2) / 2
    }

    /// The divisor of output `i`: the number of samples the running sum holds when it is written.
    func count(at i: Int) -> Float {
        let phase2 = size - half + 1
        if i < phase2 { return Float(half + i) }
        let phase4Start = length - half + 1
        if i < phase4Start { return Float(size) }
        return Float(size - (i - phase4Start + 1))
    }
}

/// Running sums (before division) of a sequence of `Lanes`, exactly in the reference's add/subtract order.
@inline(__always)
func runningSums(_ t: UnsafePointer<Lanes>, _ s: UnsafeMutablePointer<Lanes>, _ w: BoxWindow) {
    var sum = Lanes(repeating: 0)
    var ri = 0
    var li = 0
    var oi = 0
    for _ in 0..<(w.half - 1) {
        sum += t[ri]
        ri += 1
    }
    for _ in 0..<(w.size - w.half + 1) {
        sum += t[ri]
        s[oi] = sum
        ri += 1
        oi += 1
    }
    for _ in 0..<(w.length - w.size) {
        sum += t[ri]
        sum -= t[li]
        s[oi] = sum
        ri += 1
        li += 1
        oi += 1
    }
    for _ in 0..<(w.half - 1) {
        sum -= t[li]
        s[oi] = sum
        li += 1
        oi += 1
    }
}

@inline(__always)
func transpose4(
    _ a: SIMD4<Float>, _ b: SIMD4<Float>, _ c: SIMD4<Float>, _ d: SIMD4<Float>
) -> (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>) {
    (
        SIMD4(a[0], b[0], c[0], d[0]), SIMD4(a[1], b[1], c[1], d[1]),
        SIMD4(a[2], b[2], c[2], d[2]), SIMD4(a[3], b[3], c[3], d[3])
    )
}

/// Copies rows `r0 ..< r0 + 16` (rows past `rows - 1` repeat the last) of a `rows x cols` matrix into `t`,
/// column `c` becoming `t[c]`.
@inline(__always)
func loadStrip(
    _ src: UnsafePointer<Float>, rows: Int, cols: Int, firstRow r0: Int, into t: UnsafeMutablePointer<Lanes>
) {
    let traw = UnsafeMutableRawPointer(t)
    let last = rows - 1
    let cols4 = cols & ~3
    for g in 0..<4 {
        let p0 = src + min(r0 + 4 * g, last) * cols
        let p1 = src + min(r0 + 4 * g + 1, last) * cols
        let p2 = src + min(r0 + 4 * g + 2, last) * cols
        let p3 = src + min(r0 + 4 * g + 3, last) * cols
        let r0raw = UnsafeRawPointer(p0)
        let r1raw = UnsafeRawPointer(p1)
        let r2raw = UnsafeRawPointer(p2)
        let r3raw = UnsafeRawPointer(p3)
        var c = 0
        while c < cols4 {
            let off = c * 4
            let (x0, x1, x2, x3) = transpose4(
                r0raw.loadUnaligned(fromByteOffset: off, as: SIMD4<Float>.self),
                r1raw.loadUnaligned(fromByteOffset: off, as: SIMD4<Float>.self),
                r2raw.loadUnaligned(fromByteOffset: off, as: SIMD4<Float>.self),
                r3raw.loadUnaligned(fromByteOffset: off, as: SIMD4<Float>.self))
            let base = c * 64 + g * 16
            traw.storeBytes(of: x0, toByteOffset: base, as: SIMD4<Float>.self)
            traw.storeBytes(of: x1, toByteOffset: base + 64, as: SIMD4<Float>.self)
            traw.storeBytes(of: x2, toByteOffset: base + 128, as: SIMD4<Float>.self)
            traw.storeBytes(of: x3, toByteOffset: base + 192, as: SIMD4<Float>.self)
            c += 4
        }
        while c < cols {
            traw.storeBytes(of: SIMD4(p0[c], p1[c], p2[c], p3[c]), toByteOffset: c * 64 + g * 16, as: SIMD4<Float>.self)
            c += 1
        }
    }
}

/// Box filter along each row of `src` (`rows x cols`), full output into `dst`.
func boxAlongRows(
    _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, rows: Int, cols: Int, window w: BoxWindow,
    divisors: UnsafePointer<Float>, scratch t: UnsafeMutablePointer<Lanes>, _ s: UnsafeMutablePointer<Lanes>
) {
    let sraw = UnsafeMutableRawPointer(s)
    let cols4 = cols & ~3
    var r0 = 0
    while r0 < rows {
        let n = min(16, rows - r0)
        loadStrip(src, rows: rows, cols: cols, firstRow: r0, into: t)
        runningSums(t, s, w)
        // Transpose back 4x4 at a time, dividing each output row's 4 columns by their divisors on the way.
        let draw = UnsafeRawPointer(divisors)
        for g in 0..<4 where 4 * g < n {
            let rowsHere = min(4, n - 4 * g)
            var c = 0
            while c < cols4 {
                let base = c * 64 + g * 16
                let (y0, y1, y2, y3) = transpose4(
                    sraw.load(fromByteOffset: base, as: SIMD4<Float>.self),
                    sraw.load(fromByteOffset: base + 64, as: SIMD4<Float>.self),
                    sraw.load(fromByteOffset: base + 128, as: SIMD4<Float>.self),
                    sraw.load(fromByteOffset: base + 192, as: SIMD4<Float>.self))
                let d = draw.loadUnaligned(fromByteOffset: c * 4, as: SIMD4<Float>.self)
                let out = UnsafeMutableRawPointer(dst + (r0 + 4 * g) * cols + c)
                let stride = cols * 4
                out.storeBytes(of: y0 / d, as: SIMD4<Float>.self)
                if rowsHere > 1 { out.storeBytes(of: y1 / d, toByteOffset: stride, as: SIMD4<Float>.self) }
                if rowsHere > 2 { out.storeBytes(of: y2 / d, toByteOffset: 2 * stride, as: SIMD4<Float>.self) }
                if rowsHere > 3 { out.storeBytes(of: y3 / d, toByteOffset: 3 * stride, as: SIMD4<Float>.self) }
                c += 4
            }
            while c < cols {
                for k in 0..<rowsHere { dst[(r0 + 4 * g + k) * cols + c] = s[c][4 * g + k] / divisors[c] }
                c += 1
            }
        }
        r0 += 16
    }
}

/// Pass 2 along rows for a strip of up to 16 rows already transposed into `t`: the running sums, then only the
/// 64 decimated columns `columns[k]`, divided, into `dst[r * 64 + k]` for the strip's `rows` rows.
@inline(__always)
func sampleStrip(
    _ t: UnsafePointer<Lanes>, _ s: UnsafeMutablePointer<Lanes>, _ dst: UnsafeMutablePointer<Float>, rows: Int,
    window w: BoxWindow, divisors: UnsafePointer<Float>, columns: UnsafePointer<Int>
) {
    runningSums(t, s, w)
    for k in 0..<64 {
        let c = columns[k]
        let v = s[c] / Lanes(repeating: divisors[c])
        for i in 0..<rows { dst[i * 64 + k] = v[i] }
    }
}

/// Four consecutive steps of the column filter (output rows `i ..< i + 4`), each `sums = (sums + add[k]) - sub[k]`
/// then `sums / divisor[k]`, written transposed into lanes `lane ..< lane + 4` of `t` (column `c` of output row
/// `i + k` goes to `t[c][lane + k]`), ready for the pass along rows. A missing row is a row of zeros: the running
/// sums start at +0 and so are never -0, and adding or subtracting +0 leaves any other value unchanged.
@inline(__always)
func columnSteps4(
    _ sums: UnsafeMutablePointer<Float>, width: Int,
    add: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>),
    sub: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>),
    divisors d: SIMD4<Float>, into t: UnsafeMutablePointer<Lanes>, lane: Int
) {
    let sraw = UnsafeMutableRawPointer(sums)
    let traw = UnsafeMutableRawPointer(t)
    let (a0, a1, a2, a3) = (
        UnsafeRawPointer(add.0), UnsafeRawPointer(add.1), UnsafeRawPointer(add.2), UnsafeRawPointer(add.3)
    )
    let (b0, b1, b2, b3) = (
        UnsafeRawPointer(sub.0), UnsafeRawPointer(sub.1), UnsafeRawPointer(sub.2), UnsafeRawPointer(sub.3)
    )
    let d0 = SIMD4<Float>(repeating: d[0])
    let d1 = SIMD4<Float>(repeating: d[1])
    let d2 = SIMD4<Float>(repeating: d[2])
    let d3 = SIMD4<Float>(repeating: d[3])
    let width4 = width & ~3
    var c = 0
    while c < width4 {
        let off = c &* 4
        var v = sraw.loadUnaligned(fromByteOffset: off, as: SIMD4<Float>.self)
        v += a0.loadUnaligned(fromByteOffset: off, as: SIMD4<Float>.self)
        v -= b0.loadUnaligned(fromByteOffset: off, as: SIMD4<Float>.self)
        let y0 = v / d0
        v += a1.loadUnaligned(fromByteOffset: off, as: SIMD4<Float>.self)
        v -= b1.loadUnaligned(fromByteOffset: off, as: SIMD4<Float>.self)
        let y1 = v / d1
        v += a2.loadUnaligned(fromByteOffset: off, as: SIMD4<Float>.self)
        v -= b2.loadUnaligned(fromByteOffset: off, as: SIMD4<Float>.self)
        let y2 = v / d2
        v += a3.loadUnaligned(fromByteOffset: off, as: SIMD4<Float>.self)
        v -= b3.loadUnaligned(fromByteOffset: off, as: SIMD4<Float>.self)
        let y3 = v / d3
        sraw.storeBytes(of: v, toByteOffset: off, as: SIMD4<Float>.self)
        let (x0, x1, x2, x3) = transpose4(y0, y1, y2, y3)
        let base = (c &* 16 &+ lane) &* 4
        traw.storeBytes(of: x0, toByteOffset: base, as: SIMD4<Float>.self)
        traw.storeBytes(of: x1, toByteOffset: base &+ 64, as: SIMD4<Float>.self)
        traw.storeBytes(of: x2, toByteOffset: base &+ 128, as: SIMD4<Float>.self)
        traw.storeBytes(of: x3, toByteOffset: base &+ 192, as: SIMD4<Float>.self)
        c &+= 4
    }
    while c < width {
        var v = sums[c]
        v += add.0[c]
        v -= sub.0[c]
        let y0 = v / d[0]
        v += add.1[c]
        v -= sub.1[c]
        let y1 = v / d[1]
        v += add.2[c]
        v -= sub.2[c]
        let y2 = v / d[2]
        v += add.3[c]
        v -= sub.3[c]
        let y3 = v / d[3]
        sums[c] = v
        traw.storeBytes(of: SIMD4(y0, y1, y2, y3), toByteOffset: (c &* 16 &+ lane) &* 4, as: SIMD4<Float>.self)
        c &+= 1
    }
}

/// One step of the column filter over a whole row: `sums = (sums + add) - sub`, then `out = sums / divisor`.
@inline(__always)
func columnStep(
    _ sums: UnsafeMutablePointer<Float>, width: Int,
    add: UnsafePointer<Float>?, sub: UnsafePointer<Float>?, out: UnsafeMutablePointer<Float>?, divisor: Float
) {
    let sraw = UnsafeMutableRawPointer(sums)
    let araw = add.map { UnsafeRawPointer($0) }
    let braw = sub.map { UnsafeRawPointer($0) }
    let oraw = out.map { UnsafeMutableRawPointer($0) }
    let width16 = width & ~15
    let d = Lanes(repeating: divisor)
    var c = 0
    while c < width16 {
        let off = c &* 4
        var v = sraw.load(fromByteOffset: off, as: Lanes.self)
        if let araw { v += araw.loadUnaligned(fromByteOffset: off, as: Lanes.self) }
        if let braw { v -= braw.loadUnaligned(fromByteOffset: off, as: Lanes.self) }
        sraw.storeBytes(of: v, toByteOffset: off, as: Lanes.self)
        if let oraw { oraw.storeBytes(of: v / d, toByteOffset: off, as: Lanes.self) }
        c &+= 16
    }
    while c < width {
        var v = sums[c]
        if let add { v += add[c] }
        if let sub { v -= sub[c] }
        sums[c] = v
        if let out { out[c] = v / divisor }
        c &+= 1
    }
}

/// Box filter along each column of `src` (`rows x cols`). Output row `i` is written to `outRow(i)` when that
/// returns a pointer (all rows for the full pass, only the decimated rows for the last pass).
@inline(__always)
func boxAlongColumns(
    _ src: UnsafePointer<Float>, rows: Int, cols: Int, window w: BoxWindow,
    sums: UnsafeMutablePointer<Float>, outRow: (Int) -> UnsafeMutablePointer<Float>?
) {
    sums.initialize(repeating: 0, count: cols)
    var ri = 0
    var li = 0
    var oi = 0
    for _ in 0..<(w.half - 1) {
        columnStep(sums, width: cols, add: src + ri * cols, sub: nil, out: nil, divisor: 1)
        ri += 1
    }
    for _ in 0..<(w.size - w.half + 1) {
        columnStep(sums, width: cols, add: src + ri * cols, sub: nil, out: outRow(oi), divisor: w.count(at: oi))
        ri += 1
        oi += 1
    }
    for _ in 0..<(w.length - w.size) {
        columnStep(
            sums, width: cols, add: src + ri * cols, sub: src + li * cols, out: outRow(oi),
            divisor: w.count(at: oi))
        ri += 1
        li += 1
        oi += 1
    }
    for _ in 0..<(w.half - 1) {
        columnStep(sums, width: cols, add: nil, sub: src + li * cols, out: outRow(oi), divisor: w.count(at: oi))
        li += 1
        oi += 1
    }
}
