import CFFmpeg
import Foundation
import PDQ
import VigilCore
import VigilMatch

#if canImport(Glibc)
    import Glibc
#endif

/// One hashed frame of a video, as vPDQ writes it: `frameNumber,quality,pdqHex,timestamp`.
public struct VPDQFrame: Sendable, Equatable, Hashable {
    /// The frame's place in decode order, from 0.
    public let frameNumber: Int
    public let quality: Int
    public let hash: PDQHash
    /// Seconds: the frame number over the frame rate, as the reference computes it.
    public let timestamp: Double

    public init(frameNumber: Int, quality: Int, hash: PDQHash, timestamp: Double) {
        self.frameNumber = frameNumber
        self.quality = quality
        self.hash = hash
        self.timestamp = timestamp
    }

    /// The reference's line: the timestamp with three decimals.
    public var line: String {
        "\(frameNumber),\(quality),\(hash.hex),\(String(format: "%.3f", timestamp))"
    }

    /// Reads a reference line (`12,100,HEX,0.400`); nil for anything else (the compact form has no frame number).
    public init?(line: some StringProtocol) {
        guard let l = VideoFingerprint.line(line), let n = l.frameNumber, let h = PDQHash(hex: l.hex) else {
            return nil
        }
        self.init(frameNumber: n, quality: l.quality, hash: h, timestamp: l.seconds)
    }
}

/// What the container says of a video.
public struct VideoFacts: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let frameRate: Double
    /// Seconds; nil when the container does not say.
    public let duration: Double?
    public let codec: String
    public let container: String
}

/// A video's vPDQ fingerprint: its facts and the PDQ hash of a frame every `secondsPerHash`.
public struct VideoHash: Sendable, Equatable {
    public let facts: VideoFacts
    public let frames: [VPDQFrame]
    /// Frames the video has, as numbered (the sampled ones are `frames`).
    public let decodedFrames: Int
    /// Of those, frames not decoded: no other frame refers to them and they were not sampled.
    public var skippedFrames: Int = 0
}

/// Bounds on one video, so that a hostile file (absurd dimensions, a stream that never ends, millions of frames)
/// ends in a reported error, never a hang or an exhausted machine.
public struct VideoLimits: Sendable, Equatable {
    /// Largest frame (width × height) decoded; the default is 8K UHD.
    public var maxPixels: Int
    /// Most frames decoded (sampled or not); the default is ten hours at 60 frames per second.
    public var maxFrames: Int
    /// Wall-clock seconds for one video, probing included.
    public var maxSeconds: Double

    public init(maxPixels: Int = 7680 * 4320, maxFrames: Int = 2_160_000, maxSeconds: Double = 1800) {
        self.maxPixels = maxPixels
        self.maxFrames = maxFrames
        self.maxSeconds = maxSeconds
    }
}

/// vPDQ (facebook/ThreatExchange `vpdq/`): a video decoded with FFmpeg's libraries, a frame every `secondsPerHash`
/// (every `Int(secondsPerHash × frameRate)`-th frame in decode order, at least every frame) converted to RGB24 at
/// its own size with swscale's area filter and hashed with PDQ; its timestamp is the frame number over the frame
/// rate. This is the reference's own pipeline, so frames, timestamps and hashes agree with it given the same FFmpeg.
public enum VPDQ {
    /// The reference's default.
    public static let defaultSecondsPerHash = 1.0

    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// Not a video FFmpeg can read.
        case notVideo(String)
        /// A container with no video stream (audio in an MP4, say): nothing to fingerprint, not an error.
        case noVideoStream
        /// Refused before decoding (dimensions) or stopped by a limit (frames, time).
        case limit(String)
        /// The video could not be decoded to the end; `frames` were hashed before.
        case decode(String, frames: Int)

        public var description: String {
            switch self {
            case .notVideo(let s): "not a readable video: \(s)"
            case .noVideoStream: "no video stream"
            case .limit(let s): "video refused: \(s)"
            case .decode(let s, let n): "video decoding stopped after \(n) hashed frames: \(s)"
            }
        }
    }

    /// Hashes the video at `path`.
    /// - Parameters:
    ///   - threads: decoding threads (FFmpeg's frame threads; the frames come out the same): more than 1 when the
    ///     video has idle cores to itself.
    ///   - progress: called every few hundred decoded frames with the frames decoded and the seconds of video
    ///     reached, for long files.
    /// - Throws: ``Failure``.
    public static func hash(
        path: String, secondsPerHash: Double = defaultSecondsPerHash, limits: VideoLimits = VideoLimits(),
        decodeEveryFrame: Bool = decodeEveryFrame, threads: Int = 1, progress: ((Int, Double) -> Void)? = nil
    ) throws(Failure) -> VideoHash {
        let fd = openReadOnly(path, O_NOCTTY)
        guard fd >= 0 else { throw .notVideo(systemError("open").description) }
        defer { close(fd) }
        return try hash(
            descriptor: fd, secondsPerHash: secondsPerHash, limits: limits, decodeEveryFrame: decodeEveryFrame,
            threads: threads, progress: progress)
    }

    /// Decode every frame, as the reference does, instead of skipping frames no sampled frame depends on: set
    /// `VIGIL_VIDEO_DECODE=all` (for measuring the effect; the sampled frames decode the same either way).
    public static let decodeEveryFrame = ProcessInfo.processInfo.environment["VIGIL_VIDEO_DECODE"] == "all"

    /// Opens the video at `descriptor` through FFmpeg (see ``hash(descriptor:secondsPerHash:limits:progress:)``) and
    /// reads its facts; the caller closes it with `vigil_video_close`.
    static func open(descriptor: Int32, limits: VideoLimits, threads: Int = 1) throws(Failure) -> (
        OpaquePointer, VideoFacts
    ) {
        var video: OpaquePointer?
        var info = vigil_video_info()
        var error = [CChar](repeating: 0, count: 256)
        let opened = vigil_video_open(
            "file:/proc/self/fd/\(descriptor)", Int64(limits.maxPixels), limits.maxSeconds, Int32(clamping: threads),
            &video, &info, &error, 256)
        let message = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard opened == 0, let video else {
            if opened == -4 || opened == -6 { throw .limit(message) }
            if opened == -2 { throw .noVideoStream }
            throw .notVideo(message)
        }
        let facts = VideoFacts(
            width: Int(info.width), height: Int(info.height), frameRate: info.frame_rate,
            duration: info.duration >= 0 ? info.duration : nil,
            codec: withUnsafeBytes(of: info.codec) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) },
            container: withUnsafeBytes(of: info.container) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) })
        guard facts.frameRate > 0, facts.frameRate.isFinite else {
            vigil_video_close(video)
            throw .notVideo("the frame rate is unknown")
        }
        return (video, facts)
    }

    /// Hashes the video open at `descriptor` (read through `/proc/self/fd`, so FFmpeg reads exactly the file already
    /// open, whatever its name's bytes, and never a protocol a name could spell).
    public static func hash(
        descriptor: Int32, secondsPerHash: Double = defaultSecondsPerHash, limits: VideoLimits = VideoLimits(),
        decodeEveryFrame: Bool = decodeEveryFrame, threads: Int = 1, progress: ((Int, Double) -> Void)? = nil
    ) throws(Failure) -> VideoHash {
        let started = ContinuousClock.now
        if let hash = try decode(
            descriptor: descriptor, secondsPerHash: secondsPerHash, limits: limits, everyFrame: decodeEveryFrame,
            threads: threads, progress: progress)
        {
            return hash
        }
        // The frames' times stopped following the packets while skipping (joined recordings, packets without
        // times): the numbers can no longer be trusted, so the video is decoded again, every frame, in what is left
        // of the time limit (both passes together stay within it).
        var rest = limits
        rest.maxSeconds = limits.maxSeconds - (ContinuousClock.now - started) / .seconds(1)
        guard rest.maxSeconds > 0 else { throw .limit("decoding took longer than the limit (\(limits.maxSeconds) s)") }
        return try decode(
            descriptor: descriptor, secondsPerHash: secondsPerHash, limits: rest, everyFrame: true, threads: threads,
            progress: progress, reportedSeconds: limits.maxSeconds)!
    }

    /// One pass over the video; nil when skipping had to stop (decode again with `everyFrame`).
    private static func decode(
        descriptor: Int32, secondsPerHash: Double, limits: VideoLimits, everyFrame: Bool, threads: Int,
        progress: ((Int, Double) -> Void)?, reportedSeconds: Double? = nil
    ) throws(Failure) -> VideoHash? {
        let (video, facts) = try open(descriptor: descriptor, limits: limits, threads: threads)
        defer { vigil_video_close(video) }
        if everyFrame { vigil_video_skip_nonreference(video, 0) }
        var error = [CChar](repeating: 0, count: 256)
        let message = { String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        // Every frameMod-th frame, at least every frame (the reference truncates, then takes 1 for 0).
        var frameMod = Int64(secondsPerHash * facts.frameRate)
        if frameMod <= 0 { frameMod = 1 }
        var rgb = [UInt8](repeating: 0, count: facts.width * facts.height * 3)
        let hasher = PDQHasher()
        var frames: [VPDQFrame] = []
        var decoded = 0
        var seen = 0
        while true {
            var number: Int64 = 0
            var converted: Int32 = 0
            let rc = rgb.withUnsafeMutableBufferPointer { buffer in
                withUnsafeMutablePointer(to: &frameMod) { mod in
                    vigil_video_next(
                        video, { context, n in n % context!.load(as: Int64.self) == 0 ? 1 : 0 }, mod,
                        buffer.baseAddress, &number, &converted, &error, 256)
                }
            }
            if rc == 0 { break }
            if rc == -9, !everyFrame { return nil }
            if rc < 0 {
                if rc == -7 { throw .limit("\(message()) (\(reportedSeconds ?? limits.maxSeconds) s)") }
                throw .decode(message(), frames: frames.count)
            }
            decoded += 1
            // Frames as numbered: skipped ones count towards the cap and the length too.
            seen = max(seen, Int(clamping: number) + 1)
            if seen > limits.maxFrames { throw .limit("more than \(limits.maxFrames) frames") }
            if converted == 1 {
                let r = rgb.withUnsafeBufferPointer {
                    hasher.hash(pixels: $0, width: facts.width, height: facts.height, channels: 3)
                }
                frames.append(
                    VPDQFrame(
                        frameNumber: Int(number), quality: r.quality, hash: r.hash,
                        timestamp: Double(Float(number) / Float(facts.frameRate))))
            }
            if decoded % 500 == 0 { progress?(decoded, Double(number) / facts.frameRate) }
        }
        // A file cut short often ends without a read error: what was decoded against what the container declares.
        if let duration = facts.duration, duration > 2, Double(seen) / facts.frameRate < duration * 0.8 - 0.5 {
            throw .decode(
                String(
                    format: "the video stops at %.1f s of the %.1f s its container declares (cut short or damaged)",
                    Double(seen) / facts.frameRate, duration), frames: frames.count)
        }
        var hash = VideoHash(facts: facts, frames: frames, decodedFrames: seen)
        hash.skippedFrames = Int(vigil_video_skipped(video))
        return hash
    }

    /// The reference's text: one line per hashed frame.
    public static func text(_ frames: [VPDQFrame]) -> String {
        frames.map { $0.line + "\n" }.joined()
    }
}

extension VPDQFrame {
    /// The frame as the frame index takes it.
    public var videoFrame: VideoFrame {
        VideoFrame(hash: Hash256(hex: hash.hex)!, quality: quality, timestamp: timestamp)
    }
}
