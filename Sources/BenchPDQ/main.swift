// PDQ micro-benchmark: single-core throughput of the Swift PDQ on raw 8-bit RGB buffers written by
// bench/pdq/reference.py (which times Meta's `pdqhash.compute` on the very same buffers).
//
//   BenchPDQ DIR [--repeat N] [--hashes FILE] [--only NAME]
//
// DIR holds manifest.json ({"width", "height", "files": [...]}) and the raw RGB files. Prints one line per
// measurement: `name images_per_s=... ms_per_image=... images=...`, and writes the hex hashes (one per line, in
// manifest order) to FILE when asked, so the script can check they equal the reference's.
import Foundation
import PDQ

struct Manifest: Decodable {
    let width: Int
    let height: Int
    let files: [String]
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("BenchPDQ: \(message)\n".utf8))
    exit(2)
}

var args = Array(CommandLine.arguments.dropFirst())
var repeatCount = 5
var hashesPath: String?
var only: String?
var positional: [String] = []
while let a = args.first {
    args.removeFirst()
    switch a {
    case "--repeat":
        guard let v = args.first.flatMap({ Int($0) }), v > 0 else { fail("--repeat needs a positive integer") }
        repeatCount = v
        args.removeFirst()
    case "--hashes":
        guard let v = args.first else { fail("--hashes needs a path") }
        hashesPath = v
        args.removeFirst()
    case "--only":
        guard let v = args.first else { fail("--only needs a measurement name") }
        only = v
        args.removeFirst()
    default: positional.append(a)
    }
}
guard positional.count == 1 else { fail("usage: BenchPDQ DIR [--repeat N] [--hashes FILE]") }
let dir = URL(fileURLWithPath: positional[0])
let manifest: Manifest
do {
    manifest = try JSONDecoder().decode(
        Manifest.self, from: Data(contentsOf: dir.appendingPathComponent("manifest.json")))
} catch {
    fail("cannot read manifest.json in \(dir.path): \(error)")
}
let (w, h) = (manifest.width, manifest.height)
let n = w * h
let rgb: [[UInt8]] = manifest.files.map { name in
    guard let d = try? Data(contentsOf: dir.appendingPathComponent(name)), d.count == n * 3 else {
        fail("\(name): expected \(n * 3) bytes of RGB")
    }
    return [UInt8](d)
}
let lumas: [[Float]] = rgb.map { px in
    var out = [Float](repeating: 0, count: n)
    px.withUnsafeBufferPointer { p in
        out.withUnsafeMutableBufferPointer { PDQ.luma(pixels: p, width: w, height: h, channels: 3, into: $0) }
    }
    return out
}

/// CPU time of this thread, in seconds (on a shared machine the wall clock also counts other processes' turns).
func threadCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Runs `body` over every image `repeatCount` times after one warm-up round; prints the best round's rate by
/// the wall clock and by this thread's CPU time.
@MainActor func measure(_ name: String, _ body: (Int) -> Void) {
    if let only, only != name { return }
    for i in lumas.indices { body(i) }
    var bestWall = Double.infinity
    var bestCPU = Double.infinity
    let clock = ContinuousClock()
    for _ in 0..<repeatCount {
        let cpu0 = threadCPUSeconds()
        let start = clock.now
        for i in lumas.indices { body(i) }
        let wall = clock.now - start
        bestCPU = min(bestCPU, threadCPUSeconds() - cpu0)
        bestWall = min(bestWall, Double(wall.components.seconds) + Double(wall.components.attoseconds) * 1e-18)
    }
    let count = Double(lumas.count)
    print(
        String(
            format: "%@ images_per_s=%.1f ms_per_image=%.3f cpu_images_per_s=%.1f cpu_ms_per_image=%.3f "
                + "images=%d size=%dx%d", name as NSString, count / bestWall, bestWall * 1000 / count,
            count / bestCPU, bestCPU * 1000 / count, lumas.count, w, h))
}

let hasher = PDQHasher()
var sink = 0
var hashes = [String](repeating: "", count: lumas.count)
measure("swift.hash_luma") { i in
    let r = lumas[i].withUnsafeBufferPointer { hasher.hash(luma: $0, width: w, height: h) }
    sink &+= r.quality
    hashes[i] = r.hash.hex
}
measure("swift.luma_and_hash_rgb") { i in
    let r = rgb[i].withUnsafeBufferPointer { hasher.hash(pixels: $0, width: w, height: h, channels: 3) }
    sink &+= r.quality
}
var lumaScratch = [Float](repeating: 0, count: n)
measure("swift.luma_only_rgb") { i in
    rgb[i].withUnsafeBufferPointer { p in
        lumaScratch.withUnsafeMutableBufferPointer {
            PDQ.luma(pixels: p, width: w, height: h, channels: 3, into: $0)
        }
    }
}
measure("swift.hash_luma_stateless") { i in
    let r = lumas[i].withUnsafeBufferPointer { PDQ.hash(luma: $0, width: w, height: h) }
    sink &+= r.quality
}
measure("swift.hash_dihedral") { i in
    let r = lumas[i].withUnsafeBufferPointer { hasher.hashWithDihedral(luma: $0, width: w, height: h) }
    sink &+= r.result.quality
}
if let hashesPath {
    do {
        try (hashes.joined(separator: "\n") + "\n").write(toFile: hashesPath, atomically: true, encoding: .utf8)
    } catch {
        fail("cannot write \(hashesPath): \(error)")
    }
}
if sink == Int.min { print(sink) }
