import Crypto

/// The three cryptographic digests hash sets carry, as lowercase hex.
public struct FileDigests: Sendable, Hashable {
    /// MD5, 32 hex digits.
    public var md5: String
    /// SHA-1, 40 hex digits.
    public var sha1: String
    /// SHA-256, 64 hex digits.
    public var sha256: String

    /// Wraps already-computed hex digests.
    public init(md5: String, sha1: String, sha256: String) {
        self.md5 = md5
        self.sha1 = sha1
        self.sha256 = sha256
    }
}

/// Computes MD5, SHA-1 and SHA-256 together: every chunk is fed to all three while it is hot in cache,
/// so a file is read once whatever its size, with memory bounded by the caller's chunk.
public struct DigestAccumulator {
    private var md5 = Insecure.MD5()
    private var sha1 = Insecure.SHA1()
    private var sha256 = SHA256()

    /// A fresh accumulator.
    public init() {}

    /// Feeds the next bytes of the file, in cache-sized slices so each slice is read from memory once.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + FileReader.chunkSize, bytes.count)
            let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<end])
            md5.update(bufferPointer: slice)
            sha1.update(bufferPointer: slice)
            sha256.update(bufferPointer: slice)
            offset = end
        }
    }

    /// The digests of everything fed so far.
    public func finalize() -> FileDigests {
        FileDigests(md5: hex(md5.finalize()), sha1: hex(sha1.finalize()), sha256: hex(sha256.finalize()))
    }

    /// The digests of a whole buffer.
    public static func digests(of bytes: UnsafeRawBufferPointer) -> FileDigests {
        var acc = DigestAccumulator()
        acc.update(bytes)
        return acc.finalize()
    }
}

private let hexDigits = Array("0123456789abcdef".utf8)

private func hex(_ digest: some Digest) -> String {
    var out = [UInt8]()
    out.reserveCapacity(Insecure.SHA1.byteCount * 4)
    for byte in digest {
        out.append(hexDigits[Int(byte >> 4)])
        out.append(hexDigits[Int(byte & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self)
}
