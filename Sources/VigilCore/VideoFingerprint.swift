import Foundation

/// A video's vPDQ fingerprint as a hash set carries it: one line per hashed frame, as Meta's reference writes them
/// (`frameNumber,quality,pdqHex,seconds`), and the video's length. Interchange files (VICS) carry it beside the
/// file's digests; the store keeps the lines with the item (`hash_videos`), not in the record's JSON.
public struct VideoFingerprint: Sendable, Hashable {
    /// The reference's lines, in frame order.
    public var frames: [String]
    /// Seconds, when known.
    public var duration: Double?

    public init(frames: [String], duration: Double? = nil) {
        self.frames = frames
        self.duration = duration
    }

    /// The most frames one video may carry: about 41 hours at vPDQ's one frame a second (and, at some 90 bytes a
    /// line, within the 16 MB a VICS Media object may take).
    public static let maxFrames = 150_000

    /// One frame line's fields, checked but not decoded further (the hash stays hexadecimal).
    public struct Line: Sendable, Hashable {
        /// The frame number, absent in python-threatexchange's compact form.
        public var frameNumber: Int?
        public var quality: Int
        /// 64 lowercase hexadecimal digits.
        public var hex: String
        public var seconds: Double

        /// The line in its own form, normalised: the reference's (`12,100,hex,0.400`), or the compact one
        /// (`hex,100,0.400`) when it had no frame number.
        public var text: String {
            let time = String(format: "%.3f", seconds)
            return frameNumber.map { "\($0),\(quality),\(hex),\(time)" } ?? "\(hex),\(quality),\(time)"
        }
    }

    /// Reads one line: the reference's (`frameNumber,quality,pdqHex,seconds`) or python-threatexchange's compact
    /// form (`pdqHex,quality,seconds`). Nil for anything else: a quality outside 0–100, a negative, infinite or
    /// unreadable time, a hash that is not 64 hexadecimal digits.
    public static func line(_ text: some StringProtocol) -> Line? {
        let f = text.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        let frame: Int?
        let (hex, quality, seconds): (String, String, String)
        switch f.count {
        case 3: (frame, hex, quality, seconds) = (nil, f[0], f[1], f[2])
        case 4...:
            guard let n = Int(f[0]), n >= 0 else { return nil }
            (frame, quality, hex, seconds) = (n, f[1], f[2], f[3])
        default: return nil
        }
        guard hex.utf8.count == 64,
            hex.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0 | 0x20) }),
            let q = Int(quality), (0...100).contains(q), let t = Double(seconds), t >= 0, t.isFinite,
            t <= Double(Float.greatestFiniteMagnitude)
        else { return nil }
        return Line(frameNumber: frame, quality: q, hex: hex.lowercased(), seconds: t)
    }

    /// Reads `lines` (a byte-order mark before the first, blank lines and `#` comments skipped), or the first bad
    /// line's number (from 1) and why; more than `limit` frames is a failure too.
    public static func lines(_ lines: some Sequence<some StringProtocol>, limit: Int = .max) -> Result<
        [Line], LineFailure
    > {
        var out: [Line] = []
        for (n, raw) in lines.enumerated() {
            var text = raw.trimmingCharacters(in: .whitespaces)
            if n == 0, text.unicodeScalars.first == "\u{FEFF}" {
                text = String(text.unicodeScalars.dropFirst()).trimmingCharacters(in: .whitespaces)
            }
            if text.isEmpty || text.hasPrefix("#") { continue }
            guard let line = line(text) else {
                return .failure(LineFailure(line: n + 1, text: text))
            }
            out.append(line)
            guard out.count <= limit else {
                return .failure(LineFailure(line: n + 1, text: "", tooMany: true))
            }
        }
        return .success(out)
    }

    /// Checks `lines` as ``lines(_:limit:)`` reads them, at most ``maxFrames``, and returns them normalised (see
    /// ``Line/text``).
    public static func normalised(_ lines: some Sequence<some StringProtocol>) -> Result<[String], LineFailure> {
        Self.lines(lines, limit: maxFrames).map { $0.map(\.text) }
    }

    /// A frame line that could not be read.
    public struct LineFailure: Error, Sendable, Hashable, CustomStringConvertible {
        public let line: Int
        public let text: String
        /// The line is one frame too many (``maxFrames``), not unreadable.
        public var tooMany = false
        public init(line: Int, text: String, tooMany: Bool = false) {
            self.line = line
            self.text = text
            self.tooMany = tooMany
        }
        public var description: String {
            if tooMany { return "line \(line): more than \(VideoFingerprint.maxFrames) frames in one video" }
            return
                "line \(line): not a vPDQ line (frame number,quality,PDQ hex,seconds): \(text.prefix(80))"
        }
    }
}
