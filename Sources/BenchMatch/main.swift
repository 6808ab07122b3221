// BenchMatch: the VigilMatch side of `bench/match/run.sh`.
//
//   BenchMatch generate --out DIR [--sets random_1m,random_10m,clustered_10m] [--jobs N]
//       writes DIR/SET.bin (raw 32-byte big-endian records, the `bytes.fromhex()` layout faiss reads),
//       DIR/SET.queries.bin (1,000 queries: even positions planted near-duplicates at distances 0–31,
//       odd positions random) and DIR/SET.truth.r31.txt (brute force: "query id distance" per line).
//   BenchMatch run --out DIR --set SET [--radius 31] [--jobs N]
//       builds the index, times queries with one thread and with N, checks recall against the truth, times a
//       snapshot save and load, and appends one JSON line to DIR/results.jsonl.
//   BenchMatch pace --out DIR --set SET [--radius 31] [--jobs N]
//       builds the index once, then for every line read on standard input answers the queries once on N threads
//       and prints that pass's queries/s: a caller interleaves the engine's passes with its own product path's, so
//       both are measured in the same minute of a shared machine.
import Dispatch
import Foundation
import VigilMatch

#if canImport(Glibc)
    import Glibc
#endif

struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func hash() -> Hash256 { Hash256(w0: next(), w1: next(), w2: next(), w3: next()) }
    mutating func flip(_ h: Hash256, bits: Int) -> Hash256 {
        var words = [h.w0, h.w1, h.w2, h.w3]
        var done = Set<Int>()
        while done.count < bits {
            let p = Int(next() % 256)
            if done.insert(p).inserted { words[p >> 6] ^= UInt64(1) << UInt64(p & 63) }
        }
        return Hash256(w0: words[0], w1: words[1], w2: words[2], w3: words[3])
    }
}

func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// CPU seconds used by this process (all threads).
func cpu() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// VmRSS and VmHWM of this process, in bytes.
func memory() -> (rss: Int, peak: Int) {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return (0, 0) }
    var rss = 0
    var peak = 0
    for line in text.split(separator: "\n") {
        let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard parts.count >= 2, let kb = Int(parts[1]) else { continue }
        if parts[0] == "VmRSS:" { rss = kb * 1024 }
        if parts[0] == "VmHWM:" { peak = kb * 1024 }
    }
    return (rss, peak)
}

func writeRecords(_ hashes: [Hash256], to path: String) throws {
    var bytes = [UInt8]()
    bytes.reserveCapacity(hashes.count * 32)
    for h in hashes {
        for w in [h.w0, h.w1, h.w2, h.w3] {
            for s in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: w >> UInt64(s))) }
        }
    }
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// A read-only mapped file of 32-byte records.
final class RecordFile: Sequence {
    let base: UnsafeRawPointer
    let count: Int
    private let size: Int

    init(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw CocoaError(.fileNoSuchFile) }
        defer { close(fd) }
        var info = stat()
        fstat(fd, &info)
        size = Int(info.st_size)
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw CocoaError(.fileReadUnknown)
        }
        base = UnsafeRawPointer(p)
        count = size / 32
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), size) }

    subscript(i: Int) -> Hash256 {
        let p = base + i * 32
        return Hash256(
            w0: UInt64(bigEndian: p.loadUnaligned(as: UInt64.self)),
            w1: UInt64(bigEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
            w2: UInt64(bigEndian: p.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
            w3: UInt64(bigEndian: p.loadUnaligned(fromByteOffset: 24, as: UInt64.self)))
    }

    struct Iterator: IteratorProtocol {
        let file: RecordFile
        var i = 0
        mutating func next() -> Hash256? {
            guard i < file.count else { return nil }
            defer { i += 1 }
            return file[i]
        }
    }

    func makeIterator() -> Iterator { Iterator(file: self) }
    var underestimatedCount: Int { count }
}

struct Options {
    var command = ""
    var out = "bench/out/match"
    var sets = ["random_1m", "random_10m", "clustered_10m"]
    var set = ""
    var radius = 31
    var jobs = ProcessInfo.processInfo.activeProcessorCount
    var queries = 1000
    var quick = false
    var frameCount = 5_000_000

    init(_ args: [String]) {
        var i = 1
        if args.count > 1 { command = args[1]; i = 2 }
        while i < args.count {
            let value = i + 1 < args.count ? args[i + 1] : ""
            switch args[i] {
            case "--out": out = value
            case "--sets": sets = value.split(separator: ",").map(String.init)
            case "--set": set = value
            case "--radius": radius = Int(value) ?? 31
            case "--jobs": jobs = Int(value) ?? jobs
            case "--queries": queries = Int(value) ?? queries
            case "--quick": quick = true; i -= 1
            case "--frames": frameCount = Int(value) ?? frameCount
            default: break
            }
            i += 2
        }
    }
}

func size(of set: String) -> Int {
    if set.hasSuffix("_10m") { return 10_000_000 }
    if set.hasSuffix("_1m") { return 1_000_000 }
    if set.hasSuffix("_100k") { return 100_000 }
    return 1_000_000
}

func generate(_ o: Options) throws {
    try FileManager.default.createDirectory(atPath: o.out, withIntermediateDirectories: true)
    for set in o.sets {
        let n = size(of: set)
        var rng = SplitMix64(state: UInt64(n) &* 31 &+ (set.hasPrefix("clustered") ? 7 : 3))
        var hashes: [Hash256] = []
        hashes.reserveCapacity(n)
        if set.hasPrefix("clustered") {
            // Families of 1–99 near-duplicates (mean 50): a random centre, members 1–20 bits from it.
            while hashes.count < n {
                let centre = rng.hash()
                hashes.append(centre)
                let size = 1 + Int(rng.next() % 99)
                for _ in 1..<size where hashes.count < n {
                    hashes.append(rng.flip(centre, bits: 1 + Int(rng.next() % 20)))
                }
            }
        } else {
            for _ in 0..<n { hashes.append(rng.hash()) }
        }
        var queries: [Hash256] = []
        for i in 0..<o.queries {
            if i % 2 == 0 {
                let base = hashes[Int(rng.next() % UInt64(n))]
                queries.append(rng.flip(base, bits: (i / 2) % 32))
            } else {
                queries.append(rng.hash())
            }
        }
        try writeRecords(hashes, to: "\(o.out)/\(set).bin")
        try writeRecords(queries, to: "\(o.out)/\(set).queries.bin")
        // Brute force over every hash, queries spread over the cores.
        let start = now()
        let truth = UnsafeMutableBufferPointer<[(UInt32, Int)]>.allocate(capacity: queries.count)
        truth.initialize(repeating: [])
        let radius = o.radius
        let jobs = o.jobs
        let box = UncheckedBox((truth, queries))
        hashes.withUnsafeBufferPointer { data in
            let dataBox = UncheckedBox(data)
            DispatchQueue.concurrentPerform(iterations: jobs) { worker in
                let (truth, queries) = box.value
                for qi in stride(from: worker, to: queries.count, by: jobs) {
                    let q = queries[qi]
                    var found: [(UInt32, Int)] = []
                    for (id, h) in dataBox.value.enumerated() {
                        let d = h.distance(to: q)
                        if d <= radius { found.append((UInt32(id), d)) }
                    }
                    truth[qi] = found
                }
            }
        }
        var text = ""
        var pairs = 0
        for (qi, found) in truth.enumerated() {
            for (id, d) in found {
                text += "\(qi) \(id) \(d)\n"
                pairs += 1
            }
        }
        try text.write(toFile: "\(o.out)/\(set).truth.r\(radius).txt", atomically: true, encoding: .utf8)
        truth.deinitialize()
        truth.deallocate()
        print(
            "generated \(set): \(n) hashes, \(queries.count) queries, \(pairs) pairs within \(radius)"
                + String(format: " (brute force %.1f s on %d threads)", now() - start, jobs))
    }
}

struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

func readTruth(_ path: String) throws -> [Set<UInt64>] {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    var out: [Int: Set<UInt64>] = [:]
    var maxQuery = -1
    for line in text.split(separator: "\n") {
        let p = line.split(separator: " ")
        guard p.count == 3, let q = Int(p[0]), let id = UInt64(p[1]), let d = UInt64(p[2]) else { continue }
        out[q, default: []].insert(id << 16 | d)
        maxQuery = max(maxQuery, q)
    }
    return (0...max(maxQuery, 0)).map { out[$0] ?? [] }
}

func run(_ o: Options) throws {
    let set = o.set
    let file = try RecordFile(path: "\(o.out)/\(set).bin")
    let queryFile = try RecordFile(path: "\(o.out)/\(set).queries.bin")
    let queries = Array(queryFile)
    let truth = try readTruth("\(o.out)/\(set).truth.r\(o.radius).txt")
    let before = memory()
    var t = now()
    let index = HammingIndex(file, jobs: o.jobs)
    let buildSeconds = now() - t
    let footprint = index.memoryFootprint
    let afterBuild = memory()

    // single thread: best of 3 passes over all queries
    var single = Double.infinity
    var singleCPU = Double.infinity
    var results: [[Match]] = []
    for _ in 0..<3 {
        t = now()
        let c = cpu()
        results = queries.map { index.search($0, radius: o.radius) }
        single = min(single, now() - t)
        singleCPU = min(singleCPU, cpu() - c)
    }
    if o.quick {
        print(
            String(
                format: "quick: build %.2f s, %.0f q/s single thread (%.0f per CPU second), %d matches",
                buildSeconds, Double(queries.count) / single, Double(queries.count) / singleCPU,
                results.map(\.count).reduce(0, +)))
        t = now()
        let c = cpu()
        _ = index.searchBatch(queries, radius: o.radius, jobs: o.jobs)
        let wall = now() - t
        print(
            String(
                format: "quick: batch on %d jobs: %.0f q/s, %.0f q/s per CPU second", o.jobs,
                Double(queries.count) / wall, Double(queries.count) / (cpu() - c)))
        return
    }
    var multi = Double.infinity
    for _ in 0..<3 {
        t = now()
        let batch = index.searchBatch(queries, radius: o.radius, jobs: o.jobs)
        multi = min(multi, now() - t)
        precondition(batch == results, "batch and single-thread results differ")
    }
    // recall and precision against brute force
    var truthPairs = 0
    var hits = 0
    var beyond = 0
    var extra = 0
    for (qi, found) in results.enumerated() {
        let expected = qi < truth.count ? truth[qi] : []
        truthPairs += expected.count
        for m in found {
            if m.distance > o.radius { beyond += 1 }
            if expected.contains(UInt64(m.id) << 16 | UInt64(m.distance)) { hits += 1 } else { extra += 1 }
        }
    }
    let planted = stride(from: 0, to: queries.count, by: 2).map { results[$0].count }.reduce(0, +)
    // nearest: k = 10 within 63
    t = now()
    for q in queries.prefix(200) { _ = index.nearest(q, k: 10) }
    let nearestQps = 200 / (now() - t)
    // snapshot
    let snapshot = "\(o.out)/\(set).vmi"
    t = now()
    try index.save(to: snapshot)
    let saveSeconds = now() - t
    t = now()
    let loaded = try HammingIndex.load(from: snapshot)
    let loadSeconds = now() - t
    t = now()
    let loadedResults = queries.map { loaded.search($0, radius: o.radius) }
    let firstQueriesSeconds = now() - t  // every query, one thread, on the loaded snapshot
    precondition(loadedResults == results, "snapshot answers differ")
    let snapshotBytes = (try? FileManager.default.attributesOfItem(atPath: snapshot)[.size] as? Int) ?? 0
    try? FileManager.default.removeItem(atPath: snapshot)

    let record: [String: Any] = [
        "engine": "VigilMatch", "set": set, "n": file.count, "radius": o.radius, "queries": queries.count,
        "build_s": buildSeconds, "jobs": o.jobs,
        "index_bytes": footprint, "bytes_per_hash": Double(footprint) / Double(file.count),
        "rss_before_build": before.rss, "rss_after_build": afterBuild.rss, "peak_rss": memory().peak,
        "qps_1": Double(queries.count) / single, "qps_1_cpu": Double(queries.count) / singleCPU,
        "qps_all": Double(queries.count) / multi,
        "recall": truthPairs == 0 ? 1.0 : Double(hits) / Double(truthPairs), "truth_pairs": truthPairs,
        "found_pairs": hits + extra, "beyond_r": beyond, "not_in_truth": extra, "planted_matches": planted,
        "nearest10_qps_1": nearestQps, "snapshot_save_s": saveSeconds, "snapshot_load_s": loadSeconds,
        "snapshot_all_queries_1_thread_s": firstQueriesSeconds, "snapshot_bytes": snapshotBytes,
        "segments": index.segmentCount,
    ]
    let json = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
    let line = String(decoding: json, as: UTF8.self)
    print(line)
    let resultsPath = "\(o.out)/results.jsonl"
    if !FileManager.default.fileExists(atPath: resultsPath) {
        _ = FileManager.default.createFile(atPath: resultsPath, contents: nil)
    }
    guard let handle = FileHandle(forWritingAtPath: resultsPath) else { throw CocoaError(.fileWriteUnknown) }
    handle.seekToEndOfFile()
    handle.write(Data((line + "\n").utf8))
    handle.closeFile()
}

/// DigestSet at scale: `digests --count N` inserts N random MD5s, then looks up N/10 present and N/10 absent.
func digests(_ o: Options) throws {
    let n = o.queries
    var rng = SplitMix64(state: 99)
    let before = memory()
    var set = DigestSet()
    set.reserveCapacity(n, for: .md5)
    var t = now()
    var bytes = [UInt8](repeating: 0, count: 16)
    for _ in 0..<n {
        let a = rng.next(), b = rng.next()
        for i in 0..<8 {
            bytes[i] = UInt8(truncatingIfNeeded: a >> UInt64(8 * i))
            bytes[8 + i] = UInt8(truncatingIfNeeded: b >> UInt64(8 * i))
        }
        try set.insert(bytes)
    }
    let insertSeconds = now() - t
    let after = memory()
    var replay = SplitMix64(state: 99)
    let probes = max(1, n / 10)
    var hits = 0
    t = now()
    for k in 0..<(2 * probes) {
        let a = k < probes ? replay.next() : rng.next(), b = k < probes ? replay.next() : rng.next()
        for i in 0..<8 {
            bytes[i] = UInt8(truncatingIfNeeded: a >> UInt64(8 * i))
            bytes[8 + i] = UInt8(truncatingIfNeeded: b >> UInt64(8 * i))
        }
        if set.contains(bytes) { hits += 1 }
    }
    let lookupSeconds = now() - t
    precondition(hits == probes, "DigestSet lost digests")
    let record: [String: Any] = [
        "engine": "VigilMatch.DigestSet", "digests": n, "algorithm": "md5", "insert_per_s": Double(n) / insertSeconds,
        "lookup_per_s": Double(2 * probes) / lookupSeconds, "rss_bytes": after.rss - before.rss,
        "bytes_per_digest": Double(after.rss - before.rss) / Double(n), "peak_rss": memory().peak,
    ]
    let json = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
    print(String(decoding: json, as: UTF8.self))
}

/// `BenchMatch frames --frames N [--queries Q] [--out DIR]`: the frame index (#16) at scale. Synthetic videos of 30 to 3,600
/// sampled frames (log-uniform), cut into scenes of 5 to 40 frames whose frames drift a few bits from one to the
/// next (a third of them still: the same hash again); one video in ten is a re-encoding of an earlier one (every
/// frame moved up to 8 bits), so the set is clustered as real sets are. Measures the build, the memory per sampled
/// frame, the single-core latency of 60-frame clips (re-encoded, time-shifted) and whether each finds its source,
/// and a plain scalar scan of every stored frame hash for the same clips (no index; not faiss's SIMD speed).
func frames(_ o: Options) throws {
    guard o.queries > 0, o.frameCount >= 60 else {
        print("BenchMatch frames: --queries must be positive and --frames at least 60")
        exit(2)
    }
    var rng = SplitMix64(state: 16)
    let target = o.frameCount
    let index = FrameIndex()
    var videos: [[VideoFrame]] = []
    var total = 0
    let before = memory()
    var t = now()
    var kept: [Int: [VideoFrame]] = [:]
    var keptIDs: [Int] = []
    while total < target {
        let length = min(target - total, Int(exp(Double(rng.next() % 10_000) / 10_000 * log(120.0))) * 30)
        var frames: [VideoFrame] = []
        if videos.count > 10, rng.next() % 10 == 0, let key = keptIDs.randomElement(using: &rng), let source = kept[key]
        {
            frames = source.map {
                VideoFrame(
                    hash: rng.flip($0.hash, bits: Int(rng.next() % 9)), quality: $0.quality, timestamp: $0.timestamp)
            }
        } else {
            var h = rng.hash()
            var sceneLeft = 0
            for k in 0..<max(1, length) {
                if sceneLeft == 0 {
                    h = rng.hash()
                    sceneLeft = 5 + Int(rng.next() % 36)
                } else if rng.next() % 3 != 0 {
                    h = rng.flip(h, bits: 1 + Int(rng.next() % 6))
                }
                sceneLeft -= 1
                frames.append(VideoFrame(hash: h, quality: 80 + Int(rng.next() % 21), timestamp: Double(k)))
            }
        }
        try index.add(video: Int64(videos.count), frames: frames)
        // Only a sample of the videos is kept for queries: holding every frame twice would measure the harness.
        if rng.next() % 50 == 0 || videos.count < 20 {
            kept[videos.count] = frames
            keptIDs.append(videos.count)
        }
        videos.append([])
        total += frames.count
    }
    index.compact(jobs: o.jobs)
    let buildSeconds = now() - t
    let after = memory()
    // Queries: 60-frame clips of kept videos at least 60 frames long, every frame moved 0–10 bits.
    let sources = kept.filter { $0.value.count >= 60 }.map(\.key).sorted()
    var latencies: [Double] = []
    var found = 0
    var clips: [[VideoFrame]] = []
    for q in 0..<o.queries {
        let id = sources[q % sources.count]
        let v = kept[id]!
        let start = Int(rng.next() % UInt64(v.count - 59))
        let clip = v[start..<(start + 60)].map {
            VideoFrame(
                hash: rng.flip($0.hash, bits: Int(rng.next() % 11)), quality: $0.quality,
                timestamp: $0.timestamp - Double(start))
        }
        clips.append(clip)
        t = now()
        let hits = index.search(clip)
        latencies.append(now() - t)
        if hits.contains(where: { $0.video == Int64(id) }) { found += 1 }
    }
    latencies.sort()
    // A plain scan of every stored (distinct) frame hash, scalar Swift, for three clips: the answer without an index,
    // not faiss IndexBinaryFlat's SIMD speed.
    let stored = (0..<index.entryCount).map { index.entryHash($0) }
    var bruteSeconds: [Double] = []
    for clip in clips.prefix(3) {
        t = now()
        var matches = 0
        for f in clip { for h in stored where h.distance(to: f.hash) <= 31 { matches += 1 } }
        bruteSeconds.append(now() - t)
        precondition(matches > 0)
    }
    // With --out, the stored frame hashes and the clips, for faiss IndexBinaryFlat over the same frames
    // (bench/video/faiss_frames.py): 32-byte big-endian records, the clips 60 frames each in order.
    if !o.out.isEmpty {
        try FileManager.default.createDirectory(atPath: o.out, withIntermediateDirectories: true)
        try writeRecords(stored, to: o.out + "/frames.stored.bin")
        try writeRecords(clips.flatMap { $0.map(\.hash) }, to: o.out + "/frames.clips.bin")
    }
    let record: [String: Any] = [
        "engine": "VigilMatch.FrameIndex", "videos": videos.count, "sampled_frames": total,
        "stored_entries": index.entryCount,
        "build_s": buildSeconds, "footprint_bytes": index.memoryFootprint,
        "footprint_per_frame": Double(index.memoryFootprint) / Double(total),
        "rss_per_frame": Double(after.rss - before.rss) / Double(total),
        "clip_ms_median": latencies[latencies.count / 2] * 1000,
        "clip_ms_p95": latencies[latencies.count * 95 / 100] * 1000,
        "clip_ms_max": latencies.last! * 1000, "clips": latencies.count, "clips_finding_source": found,
        "scalar_scan_clip_ms": bruteSeconds.reduce(0, +) / Double(bruteSeconds.count) * 1000,
        "footprint_per_entry": Double(index.memoryFootprint) / Double(index.entryCount),
    ]
    let json = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
    print(String(decoding: json, as: UTF8.self))
}

func pace(_ o: Options) throws {
    let index = HammingIndex(try RecordFile(path: "\(o.out)/\(o.set).bin"), jobs: o.jobs)
    let queries = Array(try RecordFile(path: "\(o.out)/\(o.set).queries.bin"))
    _ = index.searchBatch(queries, radius: o.radius, jobs: o.jobs)  // warm
    print("ready", index.count)
    fflush(nil)
    while readLine() != nil {
        let t = now()
        _ = index.searchBatch(queries, radius: o.radius, jobs: o.jobs)
        print(Int((Double(queries.count) / (now() - t)).rounded()))
        fflush(nil)
    }
}

let options = Options(CommandLine.arguments)
do {
    switch options.command {
    case "generate": try generate(options)
    case "run": try run(options)
    case "digests": try digests(options)
    case "frames": try frames(options)
    case "pace": try pace(options)
    default:
        print("usage: BenchMatch generate|run|pace --out DIR [--sets a,b] [--set S] [--radius 31] [--jobs N]")
        exit(2)
    }
} catch {
    print("BenchMatch: \(error)")
    exit(1)
}
