import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// File names as the file system has them: bytes, not text. A seized drive holds names in any encoding and trees
/// of any depth; a forensic tool must examine every one of them and name it exactly.
///
/// Paths travel through Vigil as `String`s in which every byte that is not part of valid UTF-8 is held as one
/// private-use scalar (U+F780 + byte; scalars in that range that were really in a name are held byte by byte the
/// same way), so the mapping from bytes to text and back is exact and everything that sorts, journals or compares
/// paths keeps working. Only the places that meet the operating system turn a path back into bytes
/// (``bytes(_:)``), and reports show the escaped form (``display(_:)``), with the bytes in base64 beside it where
/// they are not plain UTF-8.
///
/// Paths longer than the kernel takes in one call (PATH_MAX) are opened one folder at a time with `openat`.
public enum RawPath {
    static let escapeBase: UInt32 = 0xF700

    /// The text form of a name's or a path's bytes.
    public static func decode(_ bytes: some Collection<UInt8>) -> String {
        let input = Array(bytes)
        var out = String.UnicodeScalarView()
        var i = 0
        func escape(_ range: Range<Int>) {
            for b in input[range] { out.append(Unicode.Scalar(escapeBase + UInt32(b))!) }
        }
        while i < input.count {
            let length = validSequenceLength(input, at: i)
            guard length > 0 else {
                escape(i..<(i + 1))
                i += 1
                continue
            }
            let scalar = String(decoding: input[i..<(i + length)], as: UTF8.self).unicodeScalars.first!
            if (escapeBase + 0x80...escapeBase + 0xFF).contains(scalar.value) {
                escape(i..<(i + length))
            } else {
                out.append(scalar)
            }
            i += length
        }
        return String(out)
    }

    /// The bytes a path stands for.
    public static func bytes(_ path: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(path.utf8.count)
        for scalar in path.unicodeScalars {
            if (escapeBase + 0x80...escapeBase + 0xFF).contains(scalar.value) {
                out.append(UInt8(scalar.value - escapeBase))
            } else {
                out += Array(String(scalar).utf8)
            }
        }
        return out
    }

    /// Whether the path is plain UTF-8 (its text is its bytes).
    public static func isPlain(_ path: String) -> Bool {
        !path.unicodeScalars.contains { (escapeBase + 0x80...escapeBase + 0xFF).contains($0.value) }
    }

    /// The path for people: bytes that are not UTF-8 written `\xNN`.
    public static func display(_ path: String) -> String {
        guard !isPlain(path) else { return path }
        var out = ""
        for scalar in path.unicodeScalars {
            if (escapeBase + 0x80...escapeBase + 0xFF).contains(scalar.value) {
                out += "\\x" + String(format: "%02x", scalar.value - escapeBase)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// The exact bytes in base64, for paths that are not plain UTF-8 (`nil` for those that are).
    public static func base64(_ path: String) -> String? {
        isPlain(path) ? nil : Data(bytes(path)).base64EncodedString()
    }

    /// The path from its base64 bytes (as written by ``base64(_:)``).
    public static func fromBase64(_ text: String) -> String? {
        Data(base64Encoded: text).map { decode($0) }
    }

    /// The path the command line gave, recovered from the raw argument when the text form lost bytes (the Swift
    /// runtime repairs arguments that are not UTF-8 with U+FFFD).
    public static func argument(_ text: String) -> String {
        guard text.contains("\u{FFFD}") else { return text }
        for i in 0..<Int(CommandLine.argc) {
            guard let raw = CommandLine.unsafeArgv[i] else { continue }
            let bytes = Array(
                UnsafeBufferPointer(
                    start: UnsafeRawPointer(raw).assumingMemoryBound(to: UInt8.self), count: strlen(raw)))
            if String(decoding: bytes, as: UTF8.self) == text { return decode(bytes) }
        }
        return text
    }

    // MARK: system calls

    /// `open` for a path in text form; a path too long for one call is opened folder by folder.
    public static func openFile(_ path: String, _ flags: Int32) -> Int32 {
        let raw = bytes(path)
        let fd = withCString(raw) { Glibc.open($0, flags) }
        guard fd < 0, errno == ENAMETOOLONG else { return fd }
        return atParent(raw) { parent, name in withCString(name) { openat(parent, $0, flags) } } ?? -1
    }

    /// `lstat` for a path in text form, at any length.
    public static func lstatFile(_ path: String, _ info: inout stat) -> Int32 {
        let raw = bytes(path)
        let result = withCString(raw) { Glibc.lstat($0, &info) }
        guard result != 0, errno == ENAMETOOLONG else { return result }
        var found = Glibc.stat()
        let r =
            atParent(raw) { parent, name in withCString(name) { fstatat(parent, $0, &found, AT_SYMLINK_NOFOLLOW) } }
            ?? -1
        if r == 0 { info = found }
        return r
    }

    /// `stat` (following links) for a path in text form.
    public static func statFile(_ path: String, _ info: inout stat) -> Int32 {
        withCString(bytes(path)) { stat($0, &info) }
    }

    /// A name a path-only library (libvips) can open for `path`: the path itself when it is plain and short, else
    /// `/proc/self/fd/N` for a descriptor opened here, which the caller closes when done.
    public static func loadable(_ path: String) -> (name: String, descriptor: Int32?) {
        if isPlain(path), path.utf8.count < Int(PATH_MAX) - 1 { return (path, nil) }
        let fd = openFile(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return (path, nil) }
        return ("/proc/self/fd/\(fd)", fd)
    }

    static func withCString<R>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) -> R) -> R {
        (bytes + [0]).withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { body($0) }
        }
    }

    /// Opens every folder of `raw` but the last component with `openat`, one at a time, and calls `body` with the
    /// parent's descriptor and the last name; `nil` when a folder cannot be opened (errno says why).
    static func atParent<R>(_ raw: [UInt8], _ body: (Int32, [UInt8]) -> R) -> R? {
        var components = raw.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true).map(Array.init)
        guard let last = components.popLast() else { return nil }
        var dir = Glibc.open(raw.first == UInt8(ascii: "/") ? "/" : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dir >= 0 else { return nil }
        for component in components {
            let next = withCString(component) { openat(dir, $0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
            let code = errno
            close(dir)
            guard next >= 0 else {
                errno = code
                return nil
            }
            dir = next
        }
        defer { close(dir) }
        return body(dir, last)
    }

    /// The length of the valid UTF-8 sequence at `i` (no overlongs, surrogates or values past U+10FFFF), or 0.
    static func validSequenceLength(_ b: [UInt8], at i: Int) -> Int {
        let b0 = b[i]
        if b0 < 0x80 { return 1 }
        func cont(_ k: Int, _ range: ClosedRange<UInt8> = 0x80...0xBF) -> Bool {
            i + k < b.count && range.contains(b[i + k])
        }
        switch b0 {
        case 0xC2...0xDF: return cont(1) ? 2 : 0
        case 0xE0: return cont(1, 0xA0...0xBF) && cont(2) ? 3 : 0
        case 0xE1...0xEC, 0xEE...0xEF: return cont(1) && cont(2) ? 3 : 0
        case 0xED: return cont(1, 0x80...0x9F) && cont(2) ? 3 : 0
        case 0xF0: return cont(1, 0x90...0xBF) && cont(2) && cont(3) ? 4 : 0
        case 0xF1...0xF3: return cont(1) && cont(2) && cont(3) ? 4 : 0
        case 0xF4: return cont(1, 0x80...0x8F) && cont(2) && cont(3) ? 4 : 0
        default: return 0
        }
    }
}
