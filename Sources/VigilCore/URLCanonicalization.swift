import Foundation

/// Why a text could not be turned into a canonical URL, newsgroup name or P2P identifier.
///
/// The messages name the part that was wrong, never the whole input: reported URLs are attacker-controlled
/// and may end up in logs.
public enum URLCanonicalizationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The input was empty, or only white space and a fragment.
    case empty
    /// The input is longer than the limit (bytes of UTF-8).
    case tooLong(length: Int, limit: Int)
    /// The scheme is not one a web page is fetched with (`javascript:`, `data:`, `mailto:`, …).
    case unsupportedScheme(String)
    /// There is no host (`/path`, `http:///`, `http://?q`, a host of dots only, …).
    case missingHost
    /// The host is longer than 255 bytes after canonicalisation.
    case hostTooLong(length: Int, limit: Int)
    /// The port is not a number from 0 to 65535.
    case invalidPort(String)
    /// A bracketed IPv6 literal that does not parse.
    case invalidIPv6Address
    /// The host holds a character no host name can (a space typed as such): free text, not a URL.
    case invalidHostCharacter(String)
    /// An internationalised host label that cannot be converted to Punycode.
    case invalidInternationalizedHost
    /// A newsgroup name with a bad character or structure; the associated text says which.
    case invalidNewsgroup(String)
    /// A magnet link, ed2k link or info-hash that does not parse; the associated text says why.
    case invalidP2PIdentifier(String)

    /// A short English reason, fit for a command-line error or a form message.
    public var description: String {
        switch self {
        case .empty: "empty input"
        case .tooLong(let length, let limit): "input is \(length) bytes long, the limit is \(limit)"
        case .unsupportedScheme(let scheme): "unsupported scheme \"\(scheme)\" (only http, https, ftp, ws and wss)"
        case .missingHost: "no host name"
        case .hostTooLong(let length, let limit): "host is \(length) bytes long, the limit is \(limit)"
        case .invalidPort(let port): "invalid port \"\(port)\""
        case .invalidIPv6Address: "invalid IPv6 address literal"
        case .invalidHostCharacter(let c): "the host name contains \(c), which no host name can: this is not a URL"
        case .invalidInternationalizedHost: "internationalised host name cannot be converted to Punycode"
        case .invalidNewsgroup(let reason): "invalid newsgroup name: \(reason)"
        case .invalidP2PIdentifier(let reason): "invalid P2P identifier: \(reason)"
        }
    }

    /// Cuts attacker-controlled text that goes into an error to a short, printable excerpt.
    static func excerpt(_ bytes: some Collection<UInt8>, limit: Int = 32) -> String {
        var out = ""
        for byte in bytes.prefix(limit) {
            out.unicodeScalars.append(byte >= 0x21 && byte < 0x7F ? Unicode.Scalar(byte) : "?")
        }
        return bytes.count > limit ? out + "…" : out
    }
}

/// URL canonicalisation after Google Safe Browsing's published rules ("URLs and Hashing", API v4), and the
/// host-suffix / path-prefix lookup expressions built from a canonical URL.
///
/// Two spellings of the same page give the same canonical form, so that reports join one case and block-list
/// entries match however a browser or proxy writes the URL:
///
/// ```swift
/// try CanonicalURL.canonicalize("HTTP://www.Example.COM.:8080/a/./b/../%7Ec#top")  // "http://www.example.com/a/~c"
/// ```
///
/// The steps: leading and trailing white space and control characters are trimmed; tab, CR and LF are removed;
/// the fragment is removed; the URL is split into scheme, host, path and query (user information and port are
/// dropped); each part is percent-unescaped until nothing changes; the host loses leading, trailing and repeated
/// dots, IPv4 addresses in any legal form (decimal, octal, hexadecimal, fewer than four parts) become a dotted
/// quad, IPv6 literals become their RFC 5952 form (IPv4-mapped and NAT64 addresses become the IPv4 address),
/// internationalised names become Punycode, and the host is lowercased; the path has `/./` and `/../` resolved
/// and runs of slashes collapsed; finally bytes ≤ 0x20, ≥ 0x7F, `#` and `%` are percent-escaped with upper-case
/// hex. A missing scheme means `http`.
///
/// Beyond the published rules, so that a canonical URL always re-parses into the same parts (the function is
/// idempotent): a backslash before the query is a slash (as in browsers); `/ \ ? @ : [ ]` that unescaping
/// produced inside a host, and `?` inside a path, stay escaped; a host label holding both non-ASCII and such
/// escaped bytes is escaped byte for byte rather than converted to Punycode; any number of slashes may follow
/// `http:`.
/// Only `http`, `https`, `ftp`, `ws` and `wss` URLs are accepted.
///
/// The work is done on UTF-8 bytes without regular expressions or `Foundation.URL`, so that a proxy helper can
/// canonicalise hundreds of thousands of URLs a second.
public enum CanonicalURL {
    /// The longest input accepted, in bytes of UTF-8.
    public static let maxInputLength = 16_384
    /// The longest host accepted after canonicalisation (before escaping), in bytes.
    public static let maxHostLength = 255

    /// Returns the canonical form of a URL.
    /// - Parameter s: A URL as a user, a browser or a proxy wrote it; the scheme may be missing.
    /// - Returns: The canonical URL: scheme, `://`, host, path and, when the input had one, `?` and the query.
    /// - Throws: ``URLCanonicalizationError`` when the text is not a web URL.
    public static func canonicalize(_ s: String) throws(URLCanonicalizationError) -> String {
        try parts(of: s).string
    }

    /// Returns the canonical form of a URL given as raw bytes (for example a line a proxy sent), which need not be
    /// valid UTF-8.
    /// - Throws: ``URLCanonicalizationError`` when the bytes are not a web URL.
    public static func canonicalize(utf8 bytes: [UInt8]) throws(URLCanonicalizationError) -> String {
        try CanonicalParts.parse(bytes).string
    }

    /// Returns the Safe Browsing lookup expressions of a URL: at most five host suffixes times at most six path
    /// prefixes, each written `host/path` without the scheme, the most specific first.
    ///
    /// The hosts are the exact host and, unless it is an IP address, the names formed from its last five
    /// components by removing the leading one until two remain. The paths are the exact path with the query, the
    /// exact path, and `/` followed by up to three leading path components, each with a trailing slash.
    /// - Throws: ``URLCanonicalizationError`` when the text is not a web URL.
    public static func lookupExpressions(_ s: String) throws(URLCanonicalizationError) -> [String] {
        try parts(of: s).lookupExpressions()
    }

    /// Calls `body` with the UTF-8 bytes of each lookup expression, in the order of ``lookupExpressions(_:)``,
    /// without making a string per expression (for hashing them in a proxy helper). The buffer is only valid
    /// during the call.
    /// - Throws: ``URLCanonicalizationError`` when the text is not a web URL; `body` is then never called.
    public static func forEachLookupExpression(
        _ s: String, _ body: (UnsafeBufferPointer<UInt8>) -> Void
    ) throws(URLCanonicalizationError) {
        try parts(of: s).forEachLookupExpression(body)
    }

    /// Returns the host of a canonical URL (the text between `://` and the path), or `nil` when the text is not
    /// in canonical shape. It does not canonicalise: pass the output of ``canonicalize(_:)``.
    public static func host(of canonical: String) -> String? {
        let bytes = Array(canonical.utf8)
        var i = 0
        while i < bytes.count, bytes[i] != UInt8(ascii: ":") { i += 1 }
        guard i > 0, i + 2 < bytes.count, bytes[i + 1] == UInt8(ascii: "/"), bytes[i + 2] == UInt8(ascii: "/")
        else { return nil }
        let start = i + 3
        var end = start
        while end < bytes.count, bytes[end] != UInt8(ascii: "/"), bytes[end] != UInt8(ascii: "?") { end += 1 }
        guard end > start else { return nil }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    static func parts(of s: String) throws(URLCanonicalizationError) -> CanonicalParts {
        var s = s
        let result: Result<CanonicalParts, URLCanonicalizationError>? = s.utf8.withContiguousStorageIfAvailable {
            buffer in
            do throws(URLCanonicalizationError) { return .success(try CanonicalParts.parse(buffer)) } catch {
                return .failure(error)
            }
        }
        if let result { return try result.get() }
        s.makeContiguousUTF8()
        return try CanonicalParts.parse(Array(s.utf8))
    }
}

/// The canonical scheme, host, path and query of a URL, each already escaped.
struct CanonicalParts {
    /// One of the supported schemes (a literal, so it costs no allocation).
    var scheme: String
    var host: [UInt8]
    var hostIsIPAddress: Bool
    var path: [UInt8]
    var query: [UInt8]?

    var string: String {
        let count = scheme.utf8.count + 3 + host.count + path.count + (query.map { $0.count + 1 } ?? 0)
        return String(unsafeUninitializedCapacity: count) { buffer in
            var i = 0
            func put(_ bytes: some Collection<UInt8>) {
                for byte in bytes {
                    buffer[i] = byte
                    i += 1
                }
            }
            put(scheme.utf8)
            put("://".utf8)
            put(host)
            put(path)
            if let query {
                put(CollectionOfOne(UInt8(ascii: "?")))
                put(query)
            }
            return i
        }
    }

    func lookupExpressions() -> [String] {
        var out: [String] = []
        out.reserveCapacity(12)
        forEachLookupExpression { out.append(String(decoding: $0, as: UTF8.self)) }
        return out
    }

    /// Calls `body` with each expression's bytes, slices of one buffer.
    func forEachLookupExpression(_ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        // Host suffixes as start offsets into `host`: the exact host, then (unless it is an IP address) the
        // suffixes of min(5, components - 1) down to 2 components.
        var hostStarts: (Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0)
        var hostCount = 1
        if !hostIsIPAddress {
            var dots: (Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0)  // the last five dots, most recent first
            var dotCount = 0
            for (i, byte) in host.enumerated() where byte == UInt8(ascii: ".") {
                dots = (i, dots.0, dots.1, dots.2, dots.3)
                dotCount += 1
            }
            var k = min(5, dotCount)
            while k >= 2 {
                let dot = Self.element(k - 1, of: dots)
                switch hostCount {
                case 1: hostStarts.1 = dot + 1
                case 2: hostStarts.2 = dot + 1
                case 3: hostStarts.3 = dot + 1
                default: hostStarts.4 = dot + 1
                }
                hostCount += 1
                k -= 1
            }
        }
        // Path ends as offsets into `path`; the exact path comes first, with the query when there is one.
        let withQuery = !(query?.isEmpty ?? true)
        var pathEnds: (Int, Int, Int, Int, Int) = (path.count, 0, 0, 0, 0)
        var pathCount = 1
        for (i, byte) in path.enumerated() where byte == UInt8(ascii: "/") && i + 1 != path.count {
            switch pathCount {
            case 1: pathEnds.1 = i + 1
            case 2: pathEnds.2 = i + 1
            case 3: pathEnds.3 = i + 1
            default: pathEnds.4 = i + 1
            }
            pathCount += 1
            if pathCount == 5 { break }
        }
        // Every expression is a slice of host + path + "?" + query: a host suffix starts inside the host and a path
        // prefix ends inside the path (or after the query), so nothing is copied per expression.
        var all: [UInt8] = []
        all.reserveCapacity(host.count + path.count + (query?.count ?? 0) + 1)
        all += host
        all += path
        if withQuery, let query {
            all.append(UInt8(ascii: "?"))
            all += query
        }
        all.withUnsafeBufferPointer { all in
            for h in 0..<hostCount {
                let start = Self.element(h, of: hostStarts)
                for p in (withQuery ? -1 : 0)..<pathCount {
                    let end = p < 0 ? all.count : host.count + Self.element(p, of: pathEnds)
                    body(UnsafeBufferPointer(rebasing: all[start..<end]))
                }
            }
        }
    }

    @inline(__always)
    private static func element(_ i: Int, of t: (Int, Int, Int, Int, Int)) -> Int {
        switch i {
        case 0: t.0
        case 1: t.1
        case 2: t.2
        case 3: t.3
        default: t.4
        }
    }

    // MARK: parsing

    private static let supportedSchemes: [String] = ["http", "https", "ftp", "ws", "wss"]

    /// The supported scheme spelled by `bytes` in any case, or `nil`.
    private static func supportedScheme(_ bytes: ArraySlice<UInt8>) -> String? {
        schemes: for scheme in supportedSchemes where scheme.utf8.count == bytes.count {
            for (a, b) in zip(scheme.utf8, bytes) where a != URLEscaping.lowercased(b) { continue schemes }
            return scheme
        }
        return nil
    }

    static func parse(_ input: some RandomAccessCollection<UInt8>) throws(URLCanonicalizationError) -> CanonicalParts {
        guard input.count <= CanonicalURL.maxInputLength else {
            throw .tooLong(length: input.count, limit: CanonicalURL.maxInputLength)
        }
        // Trim C0 controls and spaces at both ends, drop tab/CR/LF everywhere, cut the fragment.
        var url: [UInt8] = []
        url.reserveCapacity(input.count)
        var end = input.endIndex
        while end > input.startIndex, input[input.index(before: end)] <= 0x20 { end = input.index(before: end) }
        var start = input.startIndex
        while start < end, input[start] <= 0x20 { start = input.index(after: start) }
        for byte in input[start..<end] {
            if byte == 0x09 || byte == 0x0A || byte == 0x0D { continue }
            if byte == UInt8(ascii: "#") { break }
            url.append(byte)
        }
        guard !url.isEmpty else { throw .empty }

        let (scheme, authorityStart) = try splitScheme(url)
        var authorityEnd = authorityStart
        while authorityEnd < url.count {
            let byte = url[authorityEnd]
            if byte == UInt8(ascii: "/") || byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "?") { break }
            authorityEnd += 1
        }
        var hostStart = authorityStart
        if let at = url[authorityStart..<authorityEnd].lastIndex(of: UInt8(ascii: "@")) { hostStart = at + 1 }
        let (host, isIP) = try URLHost.canonicalize(url[hostStart..<authorityEnd])

        var pathEnd = authorityEnd
        while pathEnd < url.count, url[pathEnd] != UInt8(ascii: "?") { pathEnd += 1 }
        let path = canonicalPath(url[authorityEnd..<pathEnd])
        var query: [UInt8]? = nil
        if pathEnd < url.count {
            var unescaped: [UInt8] = []
            unescaped.reserveCapacity(url.count - pathEnd)
            URLEscaping.unescapeFully(url[(pathEnd + 1)...], into: &unescaped)
            query = URLEscaping.escaped(unescaped, extra: nil)
        }
        return CanonicalParts(scheme: scheme, host: host, hostIsIPAddress: isIP, path: path, query: query)
    }

    /// Finds the scheme (lowercased; `http` when missing) and where the authority begins.
    private static func splitScheme(_ url: [UInt8]) throws(URLCanonicalizationError) -> (String, Int) {
        var i = 0
        if let first = url.first, URLEscaping.isASCIILetter(first) {
            while i < url.count {
                let byte = url[i]
                guard
                    URLEscaping.isASCIILetter(byte) || (byte >= 0x30 && byte <= 0x39) || byte == UInt8(ascii: "+")
                        || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
                else { break }
                i += 1
            }
        }
        if i > 0, i < url.count, url[i] == UInt8(ascii: ":") {
            var next = i + 1
            if let scheme = supportedScheme(url[0..<i]) {
                while next < url.count, url[next] == UInt8(ascii: "/") || url[next] == UInt8(ascii: "\\") {
                    next += 1
                }
                return (scheme, next)
            }
            let candidate = url[0..<i].map(URLEscaping.lowercased)
            let slashes = next + 1 < url.count && url[next] == UInt8(ascii: "/") && url[next + 1] == UInt8(ascii: "/")
            if !slashes {
                // "host:port/path" without a scheme: only digits up to the path.
                let portStart = next
                while next < url.count, url[next] >= 0x30, url[next] <= 0x39 { next += 1 }
                let hostLike = next > portStart || candidate.contains(UInt8(ascii: "."))
                if hostLike,
                    next == url.count || url[next] == UInt8(ascii: "/") || url[next] == UInt8(ascii: "\\")
                        || url[next] == UInt8(ascii: "?")
                {
                    return ("http", 0)
                }
            }
            if candidate.contains(UInt8(ascii: ".")) {
                // "www.example.com:xx/…": a host with a port that is not a number.
                var portEnd = i + 1
                while portEnd < url.count, url[portEnd] != UInt8(ascii: "/"), url[portEnd] != UInt8(ascii: "?") {
                    portEnd += 1
                }
                throw .invalidPort(URLCanonicalizationError.excerpt(url[(i + 1)..<portEnd]))
            }
            throw .unsupportedScheme(URLCanonicalizationError.excerpt(candidate))
        }
        // No scheme: "//host/…" is scheme-relative, "/path" has no host.
        if url[0] == UInt8(ascii: "/") || url[0] == UInt8(ascii: "\\") {
            guard url.count > 1, url[1] == UInt8(ascii: "/") || url[1] == UInt8(ascii: "\\") else {
                throw .missingHost
            }
            var next = 2
            while next < url.count, url[next] == UInt8(ascii: "/") || url[next] == UInt8(ascii: "\\") { next += 1 }
            return ("http", next)
        }
        return ("http", 0)
    }

    /// Unescapes the path, resolves `.` and `..`, collapses slashes and escapes it again; never empty.
    private static func canonicalPath(_ raw: ArraySlice<UInt8>) -> [UInt8] {
        var unescaped: [UInt8] = []
        unescaped.reserveCapacity(raw.count)
        URLEscaping.unescapeFully(raw, into: &unescaped, backslashIsSlash: true)

        var out: [UInt8] = []
        out.reserveCapacity(unescaped.count + 8)
        var trailingSlash = true
        var i = 0
        let n = unescaped.count
        let dot = UInt8(ascii: ".")
        let slash = UInt8(ascii: "/")
        while i < n {
            if unescaped[i] == slash {
                i += 1
                trailingSlash = true
                continue
            }
            let start = i
            while i < n, unescaped[i] != slash { i += 1 }
            let length = i - start
            if length == 1, unescaped[start] == dot {
                trailingSlash = true
            } else if length == 2, unescaped[start] == dot, unescaped[start + 1] == dot {
                // Escaped segments hold no raw "/", so the last "/" of `out` starts the last segment.
                if let last = out.lastIndex(of: slash) { out.removeSubrange(last...) }
                trailingSlash = true
            } else {
                out.append(slash)
                URLEscaping.escape(unescaped[start..<i], extra: .path, into: &out)
                trailingSlash = false
            }
        }
        if out.isEmpty || trailingSlash { out.append(slash) }
        return out
    }
}

/// Percent-escaping and unescaping on bytes.
enum URLEscaping {
    /// Which bytes a part escapes beyond Safe Browsing's set (≤ 0x20, ≥ 0x7F, `#`, `%`).
    enum Extra {
        /// `?`, which would otherwise start the query when the URL is parsed again.
        case path
        /// `/ \ ? @ : [ ]`, which would otherwise end or split the host when the URL is parsed again.
        case host
    }

    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte &- 0x30
        case 0x41...0x46: byte &- 0x41 &+ 10
        case 0x61...0x66: byte &- 0x61 &+ 10
        default: nil
        }
    }

    @inline(__always)
    static func isASCIILetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }

    @inline(__always)
    static func lowercased(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte }

    /// Appends `source` percent-unescaped until no `%XX` is left, in one linear pass.
    ///
    /// Decoding `%XX` never overlaps another `%XX`, so every order of decoding reaches the same result; decoding
    /// as soon as the output ends in `%XX` reaches it without re-scanning (`%252525` takes one pass, not three).
    static func unescapeFully(_ source: ArraySlice<UInt8>, into out: inout [UInt8], backslashIsSlash: Bool = false) {
        let base = out.count
        for byte in source {
            out.append(backslashIsSlash && byte == UInt8(ascii: "\\") ? UInt8(ascii: "/") : byte)
            var n = out.count
            while n - base >= 3, out[n - 3] == UInt8(ascii: "%"), let high = hexValue(out[n - 2]),
                let low = hexValue(out[n - 1])
            {
                out[n - 3] = high << 4 | low
                out.removeLast(2)
                n -= 2
            }
        }
    }

    /// Returns `bytes` escaped for a part, or `bytes` itself when nothing needs escaping (no copy).
    static func escaped(_ bytes: [UInt8], extra: Extra?) -> [UInt8] {
        var clean = true
        for byte in bytes where needsEscape(byte, extra: extra) {
            clean = false
            break
        }
        if clean { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 16)
        escape(bytes, extra: extra, into: &out)
        return out
    }

    @inline(__always)
    static func needsEscape(_ byte: UInt8, extra: Extra?) -> Bool {
        if byte <= 0x20 || byte >= 0x7F || byte == UInt8(ascii: "#") || byte == UInt8(ascii: "%") { return true }
        switch extra {
        case nil: return false
        case .path: return byte == UInt8(ascii: "?")
        case .host:
            return byte == UInt8(ascii: "/") || byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "?")
                || byte == UInt8(ascii: "@") || byte == UInt8(ascii: ":") || byte == UInt8(ascii: "[")
                || byte == UInt8(ascii: "]")
        }
    }

    /// Appends `source` with bytes ≤ 0x20, ≥ 0x7F, `#` and `%` (and the part's extra bytes) percent-escaped.
    static func escape(_ source: some Collection<UInt8>, extra: Extra?, into out: inout [UInt8]) {
        for byte in source {
            let needs = needsEscape(byte, extra: extra)
            if needs {
                let digits: StaticString = "0123456789ABCDEF"
                out.append(UInt8(ascii: "%"))
                out.append(digits.utf8Start[Int(byte >> 4)])
                out.append(digits.utf8Start[Int(byte & 0x0F)])
            } else {
                out.append(byte)
            }
        }
    }
}
