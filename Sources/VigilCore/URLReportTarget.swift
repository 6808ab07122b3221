import Foundation

/// A P2P file identifier, normalised so that every spelling of the same file gives the same value.
public enum P2PIdentifier: Sendable, Hashable, CustomStringConvertible {
    /// A BitTorrent v1 info-hash (SHA-1): 40 lowercase hexadecimal digits.
    case bitTorrent(infoHash: String)
    /// A BitTorrent v2 info-hash as a multihash (`1220` then the SHA-256): 68 lowercase hexadecimal digits.
    case bitTorrentV2(multihash: String)
    /// An eDonkey2000 file: its MD4 hash (32 lowercase hexadecimal digits) and size in bytes.
    case ed2k(md4: String, size: UInt64)

    /// The key under which reports of this file are grouped: `urn:btih:…`, `urn:btmh:…` or `urn:ed2k:…:SIZE`.
    public var canonicalKey: String {
        switch self {
        case .bitTorrent(let hash): "urn:btih:\(hash)"
        case .bitTorrentV2(let multihash): "urn:btmh:\(multihash)"
        case .ed2k(let md4, let size): "urn:ed2k:\(md4):\(size)"
        }
    }

    /// The canonical key.
    public var description: String { canonicalKey }

    /// Parses a magnet link, an ed2k link, a `urn:btih:`/`urn:btmh:` URN or a bare BitTorrent info-hash.
    ///
    /// - A magnet link's first `xt` (or `xt.N`) that is `urn:btih:`, `urn:btmh:` or `urn:ed2k:` (with `xl`, the
    ///   size) is used; a hybrid torrent's v1 hash is preferred to its v2 hash.
    /// - `ed2k://|file|NAME|SIZE|MD4|…|/` gives the MD4 and the size; the name is ignored.
    /// - An info-hash is 40 hexadecimal digits or 32 base-32 characters (RFC 4648), in either case.
    /// - Throws: ``URLCanonicalizationError/invalidP2PIdentifier(_:)`` saying what is wrong.
    public init(parsing text: String) throws(URLCanonicalizationError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let lower = trimmed.lowercased()
        if lower.hasPrefix("magnet:") {
            self = try Self.parseMagnet(String(trimmed.dropFirst("magnet:".count)))
        } else if lower.hasPrefix("ed2k:") {
            self = try Self.parseEd2k(String(trimmed.dropFirst("ed2k:".count)))
        } else if lower.hasPrefix("urn:") {
            guard let identifier = try Self.parseURN(trimmed, size: nil) else {
                throw .invalidP2PIdentifier("unknown URN namespace (expected urn:btih or urn:btmh)")
            }
            self = identifier
        } else {
            self = .bitTorrent(infoHash: try Self.normalizeInfoHash(trimmed))
        }
    }

    /// Whether a text looks like a bare BitTorrent v1 info-hash (40 hex digits or 32 base-32 characters).
    public static func looksLikeInfoHash(_ text: String) -> Bool {
        (try? normalizeInfoHash(text)) != nil
    }

    private static func parseMagnet(_ rest: String) throws(URLCanonicalizationError) -> P2PIdentifier {
        var query = Substring(rest)
        if query.hasPrefix("?") { query = query.dropFirst() }
        var topics: [String] = []
        var size: UInt64? = nil
        for parameter in query.split(separator: "&") {
            let pair = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = pair[0].lowercased()
            let value = pair.count > 1 ? percentDecoded(pair[1]) : ""
            if key == "xt" || key.hasPrefix("xt.") {
                topics.append(value)
            } else if key == "xl" {
                guard let parsed = UInt64(value) else { throw .invalidP2PIdentifier("magnet xl is not a size") }
                size = parsed
            }
        }
        guard !topics.isEmpty else { throw .invalidP2PIdentifier("magnet link has no xt parameter") }
        var found: [P2PIdentifier] = []
        for topic in topics {
            if let identifier = try parseURN(topic, size: size) { found.append(identifier) }
        }
        if let v1 = found.first(where: { if case .bitTorrent = $0 { true } else { false } }) { return v1 }
        guard let first = found.first else {
            throw .invalidP2PIdentifier("magnet link has no urn:btih, urn:btmh or urn:ed2k topic")
        }
        return first
    }

    /// `nil` for a URN namespace Vigil does not know (a magnet link may carry several).
    private static func parseURN(_ urn: String, size: UInt64?) throws(URLCanonicalizationError) -> P2PIdentifier? {
        let lower = urn.lowercased()
        if lower.hasPrefix("urn:btih:") {
            return .bitTorrent(infoHash: try normalizeInfoHash(String(urn.dropFirst(9))))
        }
        if lower.hasPrefix("urn:btmh:") {
            let hex = String(lower.dropFirst(9))
            guard hex.utf8.count == 68, hex.hasPrefix("1220"), hex.utf8.allSatisfy({ URLEscaping.hexValue($0) != nil })
            else { throw .invalidP2PIdentifier("urn:btmh must be 1220 followed by 64 hexadecimal digits") }
            return .bitTorrentV2(multihash: hex)
        }
        if lower.hasPrefix("urn:ed2k:") {
            let md4 = try normalizeMD4(String(lower.dropFirst(9)))
            guard let size else { throw .invalidP2PIdentifier("magnet urn:ed2k needs the size (xl)") }
            return .ed2k(md4: md4, size: size)
        }
        return nil
    }

    private static func parseEd2k(_ rest: String) throws(URLCanonicalizationError) -> P2PIdentifier {
        // "//|file|NAME|SIZE|MD4|…|/"
        var body = Substring(rest)
        while body.hasPrefix("/") { body = body.dropFirst() }
        let fields = body.split(separator: "|", omittingEmptySubsequences: false)
        guard fields.count >= 5, fields[0].isEmpty else { throw .invalidP2PIdentifier("ed2k link is not |file|…|") }
        guard fields[1].lowercased() == "file" else {
            throw .invalidP2PIdentifier("only ed2k file links are supported")
        }
        guard let size = UInt64(fields[3]), size > 0 else { throw .invalidP2PIdentifier("ed2k size is not a number") }
        return .ed2k(md4: try normalizeMD4(String(fields[4])), size: size)
    }

    private static func normalizeMD4(_ text: String) throws(URLCanonicalizationError) -> String {
        let lower = text.lowercased()
        guard lower.utf8.count == 32, lower.utf8.allSatisfy({ URLEscaping.hexValue($0) != nil }) else {
            throw .invalidP2PIdentifier("ed2k hash must be 32 hexadecimal digits")
        }
        return lower
    }

    /// 40 hex digits, or 32 base-32 characters decoded to 20 bytes; returns lowercase hex.
    private static func normalizeInfoHash(_ text: String) throws(URLCanonicalizationError) -> String {
        let bytes = Array(text.utf8)
        if bytes.count == 40, bytes.allSatisfy({ URLEscaping.hexValue($0) != nil }) {
            return String(decoding: bytes.map(URLEscaping.lowercased), as: UTF8.self)
        }
        if bytes.count == 32 {
            var bits: UInt64 = 0
            var bitCount = 0
            var hex: [UInt8] = []
            hex.reserveCapacity(40)
            let digits: StaticString = "0123456789abcdef"
            for byte in bytes {
                let value: UInt8
                switch byte | 0x20 {
                case 0x61...0x7A: value = (byte | 0x20) - 0x61
                case 0x32...0x37 where byte >= 0x32 && byte <= 0x37: value = byte - 0x32 + 26
                default: throw .invalidP2PIdentifier("info-hash is neither 40 hex digits nor 32 base-32 characters")
                }
                bits = bits << 5 | UInt64(value)
                bitCount += 5
                while bitCount >= 8 {
                    bitCount -= 8
                    let octet = UInt8(truncatingIfNeeded: bits >> UInt64(bitCount))
                    hex.append(digits.utf8Start[Int(octet >> 4)])
                    hex.append(digits.utf8Start[Int(octet & 0x0F)])
                }
            }
            return String(decoding: hex, as: UTF8.self)
        }
        throw .invalidP2PIdentifier("info-hash is neither 40 hex digits nor 32 base-32 characters")
    }

    private static func percentDecoded(_ text: Substring) -> String {
        var out: [UInt8] = []
        URLEscaping.unescapeFully(ArraySlice(text.utf8), into: &out)
        return String(decoding: out, as: UTF8.self)
    }
}

/// Newsgroup names.
public enum Newsgroup {
    /// The longest name accepted, in characters.
    public static let maxLength = 255

    /// Normalises a newsgroup name: `news:alt.Example`, `nntp://server/alt.example/123`, `news://server/alt.example`
    /// and `alt.example` all become `alt.example`.
    ///
    /// A name is one or more dot-separated components of `a-z`, `0-9`, `+`, `-` and `_`; no component may be all
    /// digits (RFC 5536). Message-IDs (`news:<id@host>`) are refused: they name an article, not a group.
    /// - Throws: ``URLCanonicalizationError/invalidNewsgroup(_:)`` saying what is wrong.
    public static func normalize(_ text: String) throws(URLCanonicalizationError) -> String {
        var name = Substring(text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased())
        for prefix in ["nntp://", "news://", "snews://"] where name.hasPrefix(prefix) {
            name = name.dropFirst(prefix.count)
            guard let slash = name.firstIndex(of: "/") else { throw .invalidNewsgroup("no group after the server") }
            name = name[name.index(after: slash)...]
            if let next = name.firstIndex(of: "/") { name = name[..<next] }  // article number
        }
        if name.hasPrefix("news:") { name = name.dropFirst(5) }
        if name.contains("@") || name.hasPrefix("<") {
            throw .invalidNewsgroup("a message-id, not a group name")
        }
        guard !name.isEmpty else { throw .invalidNewsgroup("empty name") }
        guard name.utf8.count <= maxLength else { throw .invalidNewsgroup("longer than \(maxLength) characters") }
        for component in name.split(separator: ".", omittingEmptySubsequences: false) {
            guard !component.isEmpty else { throw .invalidNewsgroup("empty component") }
            var allDigits = true
            for byte in component.utf8 {
                let isDigit = byte >= 0x30 && byte <= 0x39
                let allowed =
                    isDigit || (byte >= 0x61 && byte <= 0x7A) || byte == UInt8(ascii: "+")
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
                guard allowed else {
                    throw .invalidNewsgroup("character \"\(URLCanonicalizationError.excerpt([byte]))\" not allowed")
                }
                allDigits = allDigits && isDigit
            }
            guard !allDigits else { throw .invalidNewsgroup("a component is all digits") }
        }
        return String(name)
    }
}

/// What a report points at, in canonical form, so that two reports of the same thing join one case.
public enum ReportTarget: Sendable, Hashable, CustomStringConvertible {
    /// A web page or file, as its canonical URL (see ``CanonicalURL``).
    case url(String)
    /// A newsgroup, as its normalised name (see ``Newsgroup``).
    case newsgroup(String)
    /// A P2P file.
    case p2p(P2PIdentifier)

    /// Canonicalises a URL.
    /// - Throws: ``URLCanonicalizationError`` when the text is not a web URL.
    public init(url text: String) throws(URLCanonicalizationError) {
        self = .url(try CanonicalURL.canonicalize(text))
    }

    /// Normalises a newsgroup name.
    /// - Throws: ``URLCanonicalizationError/invalidNewsgroup(_:)``.
    public init(newsgroup text: String) throws(URLCanonicalizationError) {
        self = .newsgroup(try Newsgroup.normalize(text))
    }

    /// Parses a magnet link, ed2k link or info-hash.
    /// - Throws: ``URLCanonicalizationError/invalidP2PIdentifier(_:)``.
    public init(p2p text: String) throws(URLCanonicalizationError) {
        self = .p2p(try P2PIdentifier(parsing: text))
    }

    /// Guesses the kind from the text: `magnet:`, `ed2k:`, `urn:` and bare info-hashes are P2P, `news:`, `nntp:`
    /// and `snews:` are newsgroups, anything else is a URL. (A bare `alt.example` is read as a host name; use
    /// ``init(newsgroup:)`` when the reporter said it is a newsgroup.)
    /// - Throws: ``URLCanonicalizationError`` from the parser the text was given to.
    public init(detecting text: String) throws(URLCanonicalizationError) {
        let lower = text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        if lower.hasPrefix("magnet:") || lower.hasPrefix("ed2k:") || lower.hasPrefix("urn:")
            || P2PIdentifier.looksLikeInfoHash(lower)
        {
            self = try .init(p2p: text)
        } else if lower.hasPrefix("news:") || lower.hasPrefix("nntp:") || lower.hasPrefix("snews:") {
            self = try .init(newsgroup: text)
        } else {
            self = try .init(url: text)
        }
    }

    /// The key under which reports of this target are grouped: the canonical URL, `news:NAME`, or the P2P key
    /// (`urn:btih:…`, `urn:btmh:…`, `urn:ed2k:…:SIZE`). Keys of different kinds never collide.
    public var canonicalKey: String {
        switch self {
        case .url(let url): url
        case .newsgroup(let name): "news:\(name)"
        case .p2p(let identifier): identifier.canonicalKey
        }
    }

    /// The canonical key.
    public var description: String { canonicalKey }
}
