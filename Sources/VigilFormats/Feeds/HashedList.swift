import Crypto
import Foundation
import VigilCore

/// The hashed URL list: SHA-256 of each entry's lookup expression, so the list is not a readable directory of
/// addresses, and the lookup a proxy does against it.
///
/// Lines are `url HEX` (an exact URL: matches only the requested URL's exact expression), `prefix HEX` (a prefix
/// or a whole domain: matches any of the request's Safe Browsing lookup expressions, so subdomains and deeper
/// paths too) and `host HEX` (the SHA-256 of every host that has an entry, which lets a lookup stop after hashing
/// at most five host names when the host has nothing listed: the common case). A signed file ends with
/// `# signature BASE64`, an Ed25519 signature over every byte before that line.
public struct HashedList: Sendable {
    public let version: Int64
    public let stopURL: String
    public let count: Int
    private let urls: Set<Digest32>
    private let prefixes: Set<Digest32>
    private let hosts: Set<Digest32>

    /// The lines for these targets, sorted by tag then hash (newsgroups are not web addresses and are left out).
    public static func lines(for targets: [ListTarget]) -> [String] {
        var out: [String] = []
        render(targets) { out.append(String(decoding: $0, as: UTF8.self)) }
        return out
    }

    /// Calls `body` with each line's bytes (without the newline), sorted: at a million entries, strings per line
    /// and `String(format:)` per byte cost more than the hashing.
    static func render(_ targets: [ListTarget], _ body: ([UInt8]) -> Void) {
        var tagged: [(tag: UInt8, digest: Digest32)] = []
        tagged.reserveCapacity(targets.count * 2)
        var hostSet = Set<Digest32>()
        for t in targets where t.kind != .newsgroup {
            tagged.append((t.kind == .url ? 0 : 1, Digest32(sha256Of: t.expression)))
            if let host = t.host { hostSet.insert(Digest32(sha256Of: host)) }
        }
        for h in hostSet { tagged.append((2, h)) }
        tagged.sort { $0.tag != $1.tag ? $0.tag < $1.tag : $0.digest.hexOrder < $1.digest.hexOrder }
        let names: [[UInt8]] = [Array("url ".utf8), Array("prefix ".utf8), Array("host ".utf8)]
        var line: [UInt8] = []
        line.reserveCapacity(80)
        for (tag, digest) in tagged {
            line.removeAll(keepingCapacity: true)
            line += names[Int(tag)]
            digest.appendHex(to: &line)
            body(line)
        }
    }

    /// Parses a hashed list, verifying its signature when a key is given.
    /// - Throws: ``HashedListError`` when the text is not a hashed list or the signature does not verify.
    public init(parsing bytes: [UInt8], publicKey: Curve25519.Signing.PublicKey?) throws(HashedListError) {
        var body = bytes[...]
        var signature: String?
        // The signature line is the last line.
        var end = bytes.count
        if end > 0, bytes[end - 1] == 0x0A { end -= 1 }
        var start = end
        while start > 0, bytes[start - 1] != 0x0A { start -= 1 }
        let last = String(decoding: bytes[start..<end], as: UTF8.self)
        if last.hasPrefix("# signature ") {
            signature = String(last.dropFirst("# signature ".count))
            body = bytes[..<start]
        }
        if let publicKey {
            guard let signature else { throw .unsigned }
            guard FeedSignature.verify(Array(body), signature: signature, publicKey: publicKey) else {
                throw .badSignature
            }
        }
        var version: Int64?
        var stop = ""
        var urls = Set<Digest32>(), prefixes = Set<Digest32>(), hosts = Set<Digest32>()
        var lineNumber = 0
        for raw in body.split(separator: 0x0A, omittingEmptySubsequences: true) {
            lineNumber += 1
            if raw.first == UInt8(ascii: "#") {
                let text = String(decoding: raw, as: UTF8.self)
                if lineNumber == 1, !text.hasPrefix("# vigil-hashed-list ") { throw .notAHashedList }
                if text.hasPrefix("# version ") { version = Int64(text.dropFirst("# version ".count)) }
                if text.hasPrefix("# stop ") { stop = String(text.dropFirst("# stop ".count)) }
                continue
            }
            guard lineNumber > 1, let space = raw.firstIndex(of: 0x20), let digest = Digest32(hex: raw[(space + 1)...])
            else {
                throw lineNumber == 1 ? .notAHashedList : .badLine(lineNumber)
            }
            switch String(decoding: raw[..<space], as: UTF8.self) {
            case "url": urls.insert(digest)
            case "prefix": prefixes.insert(digest)
            case "host": hosts.insert(digest)
            default: throw .badLine(lineNumber)
            }
        }
        guard let version else { throw .notAHashedList }
        self.version = version
        self.stopURL = stop
        self.urls = urls
        self.prefixes = prefixes
        self.hosts = hosts
        self.count = urls.count + prefixes.count
    }

    /// Whether a requested URL is on the list, canonicalised exactly as the server canonicalises entries.
    /// Text that is not a web URL is not listed.
    public func isListed(_ url: String) -> Bool {
        guard var canonical = try? CanonicalURL.canonicalize(url) else { return false }
        let hostListed = canonical.withUTF8 { bytes -> Bool in
            guard let (start, end) = Self.hostRange(bytes) else { return false }
            return Self.anyHostSuffix(UnsafeBufferPointer(rebasing: bytes[start..<end])) {
                hosts.contains(Digest32(sha256Of: $0))
            }
        }
        guard hostListed else { return false }
        var first = true
        var listed = false
        try? CanonicalURL.forEachLookupExpression(canonical) { expression in
            guard !listed else { return }
            let digest = Digest32(sha256Of: expression)
            if first, urls.contains(digest) { listed = true }
            if prefixes.contains(digest) { listed = true }
            first = false
        }
        return listed
    }

    /// Where the host is in a canonical URL (between `://` and the next `/` or `?`).
    static func hostRange(_ b: UnsafeBufferPointer<UInt8>) -> (Int, Int)? {
        var i = 0
        while i + 2 < b.count,
            !(b[i] == UInt8(ascii: ":") && b[i + 1] == UInt8(ascii: "/") && b[i + 2] == UInt8(ascii: "/"))
        { i += 1 }
        guard i + 2 < b.count else { return nil }
        let start = i + 3
        var end = start
        while end < b.count, b[end] != UInt8(ascii: "/"), b[end] != UInt8(ascii: "?") { end += 1 }
        return end > start ? (start, end) : nil
    }

    /// Calls `test` with the exact host and, unless it is an IP address, the names formed from its last five
    /// components by removing the leading one until two remain (the hosts of Safe Browsing lookup expressions);
    /// stops at the first `true`. No allocation: each name is a slice of `host`.
    static func anyHostSuffix(_ host: UnsafeBufferPointer<UInt8>, _ test: (UnsafeBufferPointer<UInt8>) -> Bool) -> Bool
    {
        if test(host) { return true }
        let isIP =
            host.first == UInt8(ascii: "[") || host.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: ".") }
        if isIP { return false }
        // Dots from the end: the suffix with m components starts after the m-th dot from the end.
        var dots = 0
        var i = host.count - 1
        var starts: (Int, Int, Int, Int) = (-1, -1, -1, -1)  // starts of the 2-, 3-, 4- and 5-component suffixes
        while i >= 0, dots < 5 {
            if host[i] == UInt8(ascii: ".") {
                dots += 1
                switch dots {
                case 2: starts.0 = i + 1
                case 3: starts.1 = i + 1
                case 4: starts.2 = i + 1
                case 5: starts.3 = i + 1
                default: break
                }
            }
            i -= 1
        }
        for s in [starts.3, starts.2, starts.1, starts.0] where s > 0 {
            if test(UnsafeBufferPointer(rebasing: host[s...])) { return true }
        }
        return false
    }

    /// Host suffixes as strings (for tests and documentation).
    static func hostSuffixes(_ host: String) -> [String] {
        var out: [String] = []
        var h = host
        h.withUTF8 { buf in
            _ = anyHostSuffix(buf) {
                out.append(String(decoding: $0, as: UTF8.self)); return false
            }
        }
        return out
    }
}

/// Why a hashed list was refused.
public enum HashedListError: Error, Sendable, Equatable, CustomStringConvertible {
    case notAHashedList
    case unsigned
    case badSignature
    case badLine(Int)

    public var description: String {
        switch self {
        case .notAHashedList: "not a Vigil hashed list (it must start with \"# vigil-hashed-list\" and give a version)"
        case .unsigned: "the list carries no signature"
        case .badSignature: "the list's signature does not verify against the server's public key"
        case .badLine(let n): "line \(n) is not \"url|prefix|host HEX\""
        }
    }
}

/// A SHA-256 value as four words, for hashing into sets without strings.
struct Digest32: Hashable, Sendable {
    let a: UInt64, b: UInt64, c: UInt64, d: UInt64

    init(sha256Of bytes: UnsafeBufferPointer<UInt8>) {
        self.init(SHA256.hash(data: UnsafeRawBufferPointer(bytes)))
    }

    init(sha256Of text: String) {
        var text = text
        self = text.withUTF8 { Digest32(sha256Of: $0) }
    }

    /// Orders digests as their hex text would sort (byte by byte).
    var hexOrder: (UInt64, UInt64, UInt64, UInt64) { (a.byteSwapped, b.byteSwapped, c.byteSwapped, d.byteSwapped) }

    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    func appendHex(to out: inout [UInt8]) {
        for word in [a, b, c, d] {
            var w = word
            for _ in 0..<8 {
                let byte = UInt8(truncatingIfNeeded: w)
                out.append(Self.hexDigits[Int(byte >> 4)])
                out.append(Self.hexDigits[Int(byte & 15)])
                w >>= 8
            }
        }
    }

    init(_ digest: SHA256.Digest) {
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        digest.withUnsafeBytes { raw in
            words = (
                raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self),
                raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
                raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self),
                raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
            )
        }
        (a, b, c, d) = words
    }

    init?(hex: ArraySlice<UInt8>) {
        guard hex.count == 64 else { return nil }
        var bytes = [UInt8](repeating: 0, count: 32)
        var i = hex.startIndex
        for k in 0..<32 {
            guard let hi = Self.nibble(hex[i]), let lo = Self.nibble(hex[i + 1]) else { return nil }
            bytes[k] = hi << 4 | lo
            i += 2
        }
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        bytes.withUnsafeBytes { raw in
            words = (
                raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self),
                raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
                raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self),
                raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
            )
        }
        (a, b, c, d) = words
    }

    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x61...0x66: c - 0x61 + 10
        case 0x41...0x46: c - 0x41 + 10
        default: nil
        }
    }

    static func hex(of text: String) -> String {
        var out: [UInt8] = []
        Digest32(sha256Of: text).appendHex(to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
