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
        guard count > 0, maxSide > 0 else { return [] }
        let fd = openReadOnly(path, O_NOCTTY)
        guard fd >= 0 else { throw .notVideo(systemError("open").description) }
        defer { close(fd) }
        let (video, facts) = try VPDQ.open(descriptor: fd, limits: limits)
        defer { vigil_video_close(video) }
        // A few frames for a contact sheet: decoded in order, nothing skipped.
        vigil_video_skip_nonreference(video, 0)
        // The frames wanted, by number; without a duration, the first frames one second apart.
        // A container may declare anything: the estimate is held to the frame cap.
        let declared = facts.duration.map { $0 * facts.frameRate } ?? Double(count) * facts.frameRate
        let total = declared.isFinite ? max(1, min(declared, Double(limits.maxFrames))) : Double(count)
        var wanted = [Int64(count)]
        for k in 0..<count { wanted.append(Int64((Double(k) + 0.5) / Double(count) * total)) }
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
                    let message = String(
                        decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                    if rc == -7 { throw .limit(message) }
                    throw .decode(message, frames: 0)
                }
                break
            }
            decoded += 1
            // At a cap, the frames already taken are the sheet.
            if decoded > limits.maxFrames { break }
            if converted == 1, let jpeg = greyJPEG(rgb, width: facts.width, height: facts.height, maxSide: maxSide) {
                out.append(jpeg)
            }
            if number >= last { break }
        }
        return out
    }

    /// RGB24 pixels scaled down by box averaging to at most `maxSide` on the longer side (each output pixel averages
    /// its own rectangle of source pixels, so any shape works), then compressed as a greyscale JPEG.
    static func greyJPEG(_ rgb: [UInt8], width: Int, height: Int, maxSide: Int) -> [UInt8]? {
        guard width > 0, height > 0, maxSide > 0, rgb.count >= width * height * 3 else { return nil }
        let scale = max(1.0, Double(max(width, height)) / Double(maxSide))
        let w = max(1, min(width, Int(Double(width) / scale)))
        let h = max(1, min(height, Int(Double(height) / scale)))
        var small = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            let y0 = y * height / h
            let y1 = max(y0 + 1, (y + 1) * height / h)
            for x in 0..<w {
                let x0 = x * width / w
                let x1 = max(x0 + 1, (x + 1) * width / w)
                var sum = (0, 0, 0)
                for sy in y0..<y1 {
                    for sx in x0..<x1 {
                        let p = (sy * width + sx) * 3
                        sum.0 += Int(rgb[p])
                        sum.1 += Int(rgb[p + 1])
                        sum.2 += Int(rgb[p + 2])
                    }
                }
                let n = (y1 - y0) * (x1 - x0)
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
        defer { if let buffer { tjFree(buffer) } }
        guard rc == 0, let buffer else { return nil }
        return Array(UnsafeBufferPointer(start: buffer, count: Int(size)))
    }
}
