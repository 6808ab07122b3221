import CFFmpeg
import CTurboJPEG
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A few frames of a video as small greyscale JPEGs, for a report's contact sheet (`vigil scan --thumbnails`):
/// the examiner sees what a new or near-match video is without opening it, blurred until they choose to look.
public enum VideoStills {
    /// Up to `count` frames spread evenly over the video (at (k + ½)/count of its frames), each scaled to at most
    /// `maxSide` pixels on its longer side and written as a greyscale JPEG without metadata. Decoding stops at the
    /// last frame wanted; the same caps as vPDQ's bound it.
    /// - Throws: ``VPDQ/Failure`` when the video cannot be opened or decoded that far.
    public static func greyJPEGs(path: String, count: Int = 4, maxSide: Int = 96, limits: VideoLimits = VideoLimits())
        throws(VPDQ.Failure) -> [[UInt8]]
    {
        let fd = openReadOnly(path, O_NOCTTY)
        guard fd >= 0 else { throw .notVideo(systemError("open").description) }
        defer { close(fd) }
        let (video, facts) = try VPDQ.open(descriptor: fd, limits: limits)
        defer { vigil_video_close(video) }
        // The frames wanted, by number; without a duration, the first frames one second apart.
        let total = facts.duration.map { $0 * facts.frameRate } ?? Double(count) * facts.frameRate
        var wanted = [Int64(count)]
        for k in 0..<max(1, count) { wanted.append(Int64((Double(k) + 0.5) / Double(max(1, count)) * total)) }
        let last = wanted.dropFirst().max() ?? 0
        var rgb = [UInt8](repeating: 0, count: facts.width * facts.height * 3)
        var error = [CChar](repeating: 0, count: 256)
        var out: [[UInt8]] = []
        var decoded = 0
        while true {
            var number: Int64 = 0
            var converted: Int32 = 0
            let rc = rgb.withUnsafeMutableBufferPointer { buffer in
                wanted.withUnsafeMutableBufferPointer { w in
                    vigil_video_next(
                        video,
                        { context, n in
                            let w = context!.assumingMemoryBound(to: Int64.self)
                            for i in 1...Int(w[0]) where w[i] == n { return 1 }
                            return 0
                        }, w.baseAddress, buffer.baseAddress, &number, &converted, &error, 256)
                }
            }
            if rc <= 0 {
                if rc < 0, out.isEmpty {
                    throw .decode(
                        String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self),
                        frames: 0)
                }
                break
            }
            decoded += 1
            if decoded > limits.maxFrames { throw .limit("more than \(limits.maxFrames) frames") }
            if converted == 1, let jpeg = greyJPEG(rgb, width: facts.width, height: facts.height, maxSide: maxSide) {
                out.append(jpeg)
            }
            if number >= last { break }
        }
        return out
    }

    /// RGB24 pixels scaled down by box averaging to at most `maxSide`, then compressed as a greyscale JPEG.
    static func greyJPEG(_ rgb: [UInt8], width: Int, height: Int, maxSide: Int) -> [UInt8]? {
        guard width > 0, height > 0 else { return nil }
        let scale = max(1, Int((Double(max(width, height)) / Double(max(1, maxSide))).rounded(.up)))
        let w = max(1, width / scale)
        let h = max(1, height / scale)
        var small = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<w {
                var sum = (0, 0, 0)
                for dy in 0..<scale {
                    let row = (y * scale + dy) * width
                    for dx in 0..<scale {
                        let p = (row + x * scale + dx) * 3
                        sum.0 += Int(rgb[p])
                        sum.1 += Int(rgb[p + 1])
                        sum.2 += Int(rgb[p + 2])
                    }
                }
                let n = scale * scale
                let q = (y * w + x) * 3
                small[q] = UInt8(sum.0 / n)
                small[q + 1] = UInt8(sum.1 / n)
                small[q + 2] = UInt8(sum.2 / n)
            }
        }
        guard let handle = tjInitCompress() else { return nil }
        defer { tjDestroy(handle) }
        var buffer: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        let rc = small.withUnsafeBufferPointer {
            tjCompress2(
                handle, $0.baseAddress, Int32(w), 0, Int32(h), Int32(TJPF_RGB.rawValue), &buffer, &size,
                Int32(TJSAMP_GRAY.rawValue), 70, 0)
        }
        guard rc == 0, let buffer else { return nil }
        defer { tjFree(buffer) }
        return Array(UnsafeBufferPointer(start: buffer, count: Int(size)))
    }
}
