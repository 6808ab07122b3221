import Foundation
import PDQ
import Testing

@testable import VigilMedia

/// Benign synthetic videos for tests, made by the `ffmpeg` program from its own sources (test patterns, fractals).
enum TestVideos {
    static let ffmpeg = ["/usr/bin/ffmpeg", "/usr/local/bin/ffmpeg"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// Writes `source` (an FFmpeg lavfi source such as `testsrc2=size=320x240:rate=25:duration=4`) encoded with
    /// `arguments` to a new file named `name`; the path.
    static func make(_ source: String, _ name: String, _ arguments: [String] = ["-c:v", "mpeg4", "-q:v", "4"]) throws
        -> String
    {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-vpdq-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let out = dir.appendingPathComponent(name).path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try #require(ffmpeg, "the ffmpeg program (scripts/install-deps.sh)"))
        p.arguments = ["-v", "error", "-nostdin", "-f", "lavfi", "-i", source] + arguments + ["-y", out]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "ffmpeg \(source)")
        return out
    }
}

@Suite("vPDQ: a frame a second through FFmpeg's libraries, hashed with PDQ, bounded on hostile files")
struct VPDQTests {
    @Test("a frame every second, numbered in decode order, timestamped by the frame rate, in the reference's lines")
    func sampling() throws {
        let path = try TestVideos.make("testsrc2=size=320x240:rate=25:duration=6", "clip.mp4")
        let v = try VPDQ.hash(path: path)
        #expect(v.facts.width == 320 && v.facts.height == 240 && v.facts.frameRate == 25)
        #expect(v.facts.codec == "mpeg4" && v.facts.container.contains("mp4"))
        #expect(abs((v.facts.duration ?? 0) - 6) < 0.1)
        #expect(v.decodedFrames == 150)
        #expect(v.frames.map(\.frameNumber) == [0, 25, 50, 75, 100, 125])
        #expect(v.frames.map(\.timestamp) == [0, 1, 2, 3, 4, 5])
        #expect(v.frames.allSatisfy { $0.quality >= 50 }, "a test pattern has detail")
        #expect(Set(v.frames.map(\.hash)).count > 1, "the pattern moves")
        let line = v.frames[1].line
        #expect(line.hasPrefix("25,") && line.hasSuffix(",1.000") && line.split(separator: ",").count == 4)
        #expect(VPDQFrame(line: line) == v.frames[1])
        #expect(VPDQFrame(line: "1,101,\(v.frames[0].hash.hex),0.0") == nil, "quality over 100")
        #expect(VPDQFrame(line: "x,50,00,0.0") == nil)
        // half the interval: every int(0.5 × 25)th frame, as the reference truncates; under a frame: every frame
        #expect(try VPDQ.hash(path: path, secondsPerHash: 0.5).frames.count == 13, "every 12th frame (12.5 truncated)")
        #expect(try VPDQ.hash(path: path, secondsPerHash: 0.01).frames.count == 150)
    }

    @Test("widths whose RGB rows are not a multiple of 16 bytes hash safely and the same every time")
    func oddWidths() throws {
        // swscale writes whole vectors: into rows of 936 bytes (312 pixels) it once wrote past the frame buffer and
        // corrupted the heap (a scan aborted with "corrupted double-linked list").
        for size in ["312x176", "97x55", "250x142"] {
            let path = try TestVideos.make("testsrc2=size=\(size):rate=10:duration=3", "odd-\(size).avi")
            let first = try VPDQ.hash(path: path)
            #expect(first.frames.count == 3, "\(size)")
            for _ in 0..<4 { #expect(try VPDQ.hash(path: path).frames == first.frames, "\(size)") }
        }
    }

    @Test("frames no sampled frame depends on are not decoded, and the sampled frames come out the same")
    func skipsNonReferenceFrames() throws {
        // H.264 with B-frames (x264's default: some are references, some not), 30 fps, 8 s: 240 frames.
        let path = try TestVideos.make(
            "testsrc2=size=320x180:rate=30:duration=8", "b-frames.mp4", ["-c:v", "libx264", "-pix_fmt", "yuv420p"])
        let skipping = try VPDQ.hash(path: path, decodeEveryFrame: false)
        let whole = try VPDQ.hash(path: path, decodeEveryFrame: true)
        #expect(whole.skippedFrames == 0 && whole.decodedFrames == 240)
        #expect(skipping.decodedFrames == 240, "skipped frames are still counted")
        #expect(skipping.skippedFrames > 40, "\(skipping.skippedFrames) frames skipped")
        #expect(skipping.frames == whole.frames, "the same frames, numbers, times and hashes")
        #expect(skipping.frames.map(\.frameNumber) == Array(stride(from: 0, to: 240, by: 30)))
        // A dropped frame (a gap in the times, as phones and webcams record): numbers are ranks, so the frames
        // after the gap are the same as decoding everything.
        let gap = try TestVideos.make(
            "testsrc2=size=320x180:rate=30:duration=8", "gap.mp4",
            ["-vf", "select=not(eq(n\\,150))", "-fps_mode", "passthrough", "-c:v", "libx264", "-pix_fmt", "yuv420p"])
        let gapSkipping = try VPDQ.hash(path: gap, decodeEveryFrame: false)
        #expect(gapSkipping.skippedFrames > 40 && gapSkipping.decodedFrames == 239)
        #expect(gapSkipping.frames == (try VPDQ.hash(path: gap, decodeEveryFrame: true)).frames)
        // Two recordings joined byte for byte (the times start again): skipping stops and the whole is decoded.
        let part = try TestVideos.make(
            "testsrc2=size=320x180:rate=30:duration=5", "part.ts", ["-c:v", "libx264", "-pix_fmt", "yuv420p"])
        let joined = part + "-joined.ts"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: part))
        try (bytes + bytes).write(to: URL(fileURLWithPath: joined))
        let joinedSkipping = try VPDQ.hash(path: joined, decodeEveryFrame: false)
        #expect(joinedSkipping.frames == (try VPDQ.hash(path: joined, decodeEveryFrame: true)).frames)
        #expect(joinedSkipping.decodedFrames == 300 && joinedSkipping.frames.count == 10)
        #expect(joinedSkipping.skippedFrames == 0, "decoded again, every frame")
        // A stream without B-frames has nothing to skip.
        let mpeg4 = try VPDQ.hash(path: try TestVideos.make("testsrc2=size=320x180:rate=30:duration=4", "p.avi"))
        #expect(mpeg4.skippedFrames == 0 && mpeg4.decodedFrames == 120)
    }

    @Test(
        "decoded on several threads (a video with the cores to itself), every frame comes out as one thread makes it",
        arguments: [
            ("b-frames.mp4", ["-c:v", "libx264", "-pix_fmt", "yuv420p"]),
            ("gap.mp4", ["-vf", "select=not(eq(n\\,100))", "-fps_mode", "passthrough", "-c:v", "libx264"]),
            ("p.avi", ["-c:v", "mpeg4", "-q:v", "4"]),
            ("b.avi", ["-c:v", "mpeg4", "-bf", "2", "-q:v", "4"]),
            ("vp9.webm", ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-b:v", "200k"]),
            ("hevc.mkv", ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error"]),
        ])
    func threads(_ name: String, _ encoding: [String]) throws {
        let path = try TestVideos.make("testsrc2=size=320x180:rate=30:duration=6", name, encoding)
        let one = try VPDQ.hash(path: path, threads: 1)
        #expect(one.frames.count >= 6)
        for threads in [2, 4] {
            let many = try VPDQ.hash(path: path, threads: threads)
            #expect(many.frames == one.frames, "\(name) on \(threads) threads")
            // Whether a packet may be skipped is estimated when it is sent, before the frames ahead of it come out
            // (later on threads), and checked when its neighbours do: around a dropped frame one more may be
            // decoded, never one fewer wanted.
            #expect(many.decodedFrames == one.decodedFrames, "\(name)")
            #expect(
                abs(many.skippedFrames - one.skippedFrames) <= 2,
                "\(name): \(many.skippedFrames) frames skipped against \(one.skippedFrames)")
        }
        // Cut short, or with bytes overwritten in the middle and near the end (a damaged packet is skipped, whether
        // its error comes from sending it or, on threads, later from a frame), the same on threads as on one.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        var damaged = bytes
        for at in [bytes.count / 2, bytes.count * 9 / 10, bytes.count * 97 / 100] {
            damaged.replaceSubrange(at..<min(at + 300, bytes.count), with: Data(repeating: 0x5A, count: 300))
        }
        for (kind, data) in [("cut", bytes.prefix(bytes.count * 2 / 3)), ("damaged", damaged)] {
            let file = path + "-\(kind)." + (name as NSString).pathExtension
            try data.write(to: URL(fileURLWithPath: file))
            let oneBad = Result { () throws(VPDQ.Failure) in try VPDQ.hash(path: file, threads: 1).frames }
            let manyBad = Result { () throws(VPDQ.Failure) in try VPDQ.hash(path: file, threads: 4).frames }
            #expect(manyBad == oneBad, "\(name) \(kind)")
        }
    }

    @Test("the same clip scaled and re-encoded small stays within PDQ's radius frame by frame")
    func robust() throws {
        let source = "testsrc2=size=640x360:rate=30:duration=4"
        let a = try VPDQ.hash(path: try TestVideos.make(source, "a.mp4"))
        let b = try VPDQ.hash(
            path: try TestVideos.make(source, "b.mkv", ["-vf", "scale=320:180", "-c:v", "mpeg4", "-b:v", "150k"]))
        #expect(a.frames.count == 4 && b.frames.count == 4)
        for (x, y) in zip(a.frames, b.frames) {
            #expect(x.frameNumber == y.frameNumber)
            #expect(x.hash.distance(to: y.hash) <= 31, "frame \(x.frameNumber): \(x.hash.distance(to: y.hash)) bits")
        }
    }

    @Test("hostile files end in a reported failure: empty, not a video, truncated, over the pixel, frame or time cap")
    func hostile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-vpdq-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let empty = dir.appendingPathComponent("empty.mp4").path
        FileManager.default.createFile(atPath: empty, contents: Data())
        #expect(throws: VPDQ.Failure.self) { try VPDQ.hash(path: empty) }
        let text = dir.appendingPathComponent("notes.mp4").path
        FileManager.default.createFile(atPath: text, contents: Data("not a video at all\n".utf8))
        #expect(throws: VPDQ.Failure.self) { try VPDQ.hash(path: text) }
        // a name FFmpeg would read as a protocol is only ever a file name
        let protocolName = dir.appendingPathComponent("concat:\(text)|\(text)").path
        FileManager.default.createFile(atPath: protocolName, contents: Data("still not a video\n".utf8))
        #expect(throws: VPDQ.Failure.self) { try VPDQ.hash(path: protocolName) }
        let clip = try TestVideos.make("mandelbrot=size=320x240:rate=25", "m.mkv", ["-t", "4", "-c:v", "mpeg4"])
        // cut in the middle: what was readable is hashed or the damage reported, never a crash
        let bytes = try Data(contentsOf: URL(fileURLWithPath: clip))
        let cut = dir.appendingPathComponent("cut.mkv").path
        FileManager.default.createFile(atPath: cut, contents: bytes.prefix(bytes.count / 2))
        #expect {
            try VPDQ.hash(path: cut)
        } throws: { error in
            if case .decode(let why, let frames)? = error as? VPDQ.Failure {
                return frames >= 1 && (why.contains("cut short") || why.contains("damaged"))
            }
            return false
        }
        // refused before decoding (the probe's decoders are capped too, so the size may read as unknown)
        #expect {
            try VPDQ.hash(path: clip, limits: VideoLimits(maxPixels: 1000))
        } throws: { error in
            if case .limit(let why)? = error as? VPDQ.Failure { return why.contains("over the limit of 1000 pixels") }
            return false
        }
        #expect(throws: VPDQ.Failure.limit("more than 10 frames")) {
            try VPDQ.hash(path: clip, limits: VideoLimits(maxFrames: 10))
        }
        #expect {
            try VPDQ.hash(path: clip, limits: VideoLimits(maxSeconds: 0.000_001))
        } throws: { error in
            if case .limit(let why)? = error as? VPDQ.Failure { return why.contains("time limit") }
            return false
        }
        // sound only in an MP4 container: no video stream, said as such
        let audio = try TestVideos.make("sine=frequency=440:duration=1", "tone.m4a", ["-c:a", "aac"])
        #expect(throws: VPDQ.Failure.noVideoStream) { try VPDQ.hash(path: audio) }
    }
}

@Suite("Video stills: a contact sheet of small greyscale frames")
struct VideoStillsTests {
    @Test("four frames spread over the video, greyscale JPEGs no larger than asked; a text file is refused")
    func sheet() throws {
        let path = try TestVideos.make("testsrc2=size=640x360:rate=25:duration=8", "clip.mp4")
        let stills = try VideoStills.greyJPEGs(path: path, count: 4, maxSide: 96)
        #expect(stills.count == 4)
        #expect(Set(stills).count == 4, "four different moments")
        for jpeg in stills {
            // A JPEG: SOI, then a frame header with one component (greyscale) and at most 96 pixels a side.
            #expect(jpeg.prefix(2) == [0xFF, 0xD8])
            let sof = try #require((0..<(jpeg.count - 9)).first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 })
            let height = Int(jpeg[sof + 5]) << 8 | Int(jpeg[sof + 6])
            let width = Int(jpeg[sof + 7]) << 8 | Int(jpeg[sof + 8])
            #expect(jpeg[sof + 9] == 1 && width <= 96 && height <= 96 && width > 0)
        }
        let text = FileManager.default.temporaryDirectory.appendingPathComponent("notes-\(UUID()).mp4").path
        try Data("not a video".utf8).write(to: URL(fileURLWithPath: text))
        #expect(throws: VPDQ.Failure.self) { try VideoStills.greyJPEGs(path: text) }
    }
}

extension VideoStillsTests {
    @Test("any shape scales inside its buffer: a strip, a column, one pixel, sides smaller than the reduction")
    func shapes() {
        for (w, h) in [(1920, 16), (16, 1920), (1, 1), (97, 3), (5, 400)] {
            let rgb = [UInt8](repeating: 200, count: w * h * 3)
            let jpeg = VideoStills.greyJPEG(rgb, width: w, height: h, maxSide: 96)
            #expect(jpeg?.prefix(2) == [0xFF, 0xD8], "\(w)x\(h)")
        }
        #expect(VideoStills.greyJPEG([0, 0, 0], width: 1, height: 1, maxSide: 0) == nil)
        #expect(VideoStills.greyJPEG([0, 0], width: 1, height: 1, maxSide: 8) == nil, "a short buffer is refused")
    }
}
