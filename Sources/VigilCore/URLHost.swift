import Foundation

/// Host canonicalisation: dots, IPv4 and IPv6 literals, internationalised names, case, escaping.
enum URLHost {
    /// Canonicalises `host[:port]` (user information already removed). Returns the escaped host and whether it
    /// is an IP address.
    static func canonicalize(_ hostAndPort: ArraySlice<UInt8>) throws(URLCanonicalizationError) -> ([UInt8], Bool) {
        if hostAndPort.first == UInt8(ascii: "[") {
            guard let close = hostAndPort.firstIndex(of: UInt8(ascii: "]")) else { throw .invalidIPv6Address }
            try checkPort(hostAndPort[(close + 1)...])
            guard let pieces = parseIPv6(hostAndPort[(hostAndPort.startIndex + 1)..<close]) else {
                throw .invalidIPv6Address
            }
            return (serializeIPv6(pieces), true)
        }
        var hostEnd = hostAndPort.endIndex
        if let colon = hostAndPort.firstIndex(of: UInt8(ascii: ":")) {
            try checkPort(hostAndPort[colon...])
            hostEnd = colon
        }
        // Safe Browsing escapes whatever the host holds, and its published examples keep a leading space in a host
        // ("http:// leadingspace.com/"). A space typed between words, though, means free text ("not a url at all"),
        // which a reporter or an operator should be told about rather than have listed as a host. (Canonical forms
        // escape spaces, so they canonicalise again unchanged.)
        let typed = hostAndPort[..<hostEnd]
        if let first = typed.firstIndex(where: { $0 != 0x20 }), let last = typed.lastIndex(where: { $0 != 0x20 }),
            typed[first...last].contains(0x20)
        {
            throw .invalidHostCharacter("a space")
        }
        var host: [UInt8] = []
        host.reserveCapacity(hostEnd - hostAndPort.startIndex)
        URLEscaping.unescapeFully(hostAndPort[..<hostEnd], into: &host)

        let isASCII = !host.contains(where: { $0 >= 0x80 })
        if !isASCII {
            // Mapping can make new escapes ("％41" becomes "%41"): unescape and map again until stable, so that
            // canonicalising a canonical URL changes nothing.
            for _ in 0..<4 {
                guard let mapped = mapUnicode(host) else { break }
                var again: [UInt8] = []
                again.reserveCapacity(mapped.count)
                URLEscaping.unescapeFully(mapped[...], into: &again)
                let stable = again == host
                host = again
                if stable { break }
            }
        }
        collapseDots(&host)
        guard !host.isEmpty else { throw .missingHost }

        guard host.count <= CanonicalURL.maxHostLength else {
            throw .hostTooLong(length: host.count, limit: CanonicalURL.maxHostLength)
        }
        if let address = parseIPv4(host) {
            return (Array(dottedQuad(address).utf8), true)
        }
        for i in host.indices { host[i] = URLEscaping.lowercased(host[i]) }
        if !isASCII { host = try punycodeLabels(host) }
        guard host.count <= CanonicalURL.maxHostLength else {
            throw .hostTooLong(length: host.count, limit: CanonicalURL.maxHostLength)
        }
        return (URLEscaping.escaped(host, extra: .host), false)
    }

    /// Accepts `""`, `":"` or `":"` followed by a number up to 65535.
    private static func checkPort(_ port: ArraySlice<UInt8>) throws(URLCanonicalizationError) {
        guard let colon = port.first else { return }
        guard colon == UInt8(ascii: ":") else { throw .invalidPort(URLCanonicalizationError.excerpt(port)) }
        var value = 0
        for byte in port.dropFirst() {
            guard byte >= 0x30, byte <= 0x39 else {
                throw .invalidPort(URLCanonicalizationError.excerpt(port.dropFirst()))
            }
            value = value * 10 + Int(byte - 0x30)
            if value > 65_535 { throw .invalidPort(URLCanonicalizationError.excerpt(port.dropFirst())) }
        }
    }

    /// Removes leading and trailing dots and collapses runs of dots, in place.
    private static func collapseDots(_ host: inout [UInt8]) {
        var write = 0
        var pendingDot = false
        for read in host.indices {
            let byte = host[read]
            if byte == UInt8(ascii: ".") {
                pendingDot = write > 0
                continue
            }
            if pendingDot {
                host[write] = UInt8(ascii: ".")
                write += 1
            }
            pendingDot = false
            host[write] = byte
            write += 1
        }
        host.removeLast(host.count - write)
    }

    // MARK: internationalised names

    /// UTS 46-style mapping of a UTF-8 host: compatibility normalisation (NFKC, which also folds full-width
    /// letters and digits), lowercase, ideographic full stops to dots. `nil` when the bytes are not UTF-8, in which
    /// case the host is kept as bytes and escaped.
    private static func mapUnicode(_ host: [UInt8]) -> [UInt8]? {
        guard let text = String(bytes: host, encoding: .utf8) else { return nil }
        var mapped = text.precomposedStringWithCompatibilityMapping.lowercased()
        mapped = String(
            mapped.unicodeScalars.map { scalar -> Character in
                switch scalar.value {
                case 0x3002, 0xFF0E, 0xFF61: "."
                default: Character(scalar)
                }
            })
        return Array(mapped.utf8)
    }

    /// Replaces every label holding non-ASCII UTF-8 by `xn--` and its Punycode.
    private static func punycodeLabels(_ host: [UInt8]) throws(URLCanonicalizationError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(host.count + 16)
        for (k, label) in host.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).enumerated() {
            if k > 0 { out.append(UInt8(ascii: ".")) }
            // ASCII-only labels stay; so do labels with bytes the host escapes ("%", space, …): Punycode would
            // reorder them next to other characters and make new escapes.
            guard label.contains(where: { $0 >= 0x80 }),
                !label.contains(where: { $0 < 0x80 && URLEscaping.needsEscape($0, extra: .host) })
            else {
                out += label
                continue
            }
            guard let text = String(bytes: label, encoding: .utf8) else {
                out += label  // not UTF-8: escaped later, byte for byte
                continue
            }
            guard let encoded = Punycode.encode(text) else { throw .invalidInternationalizedHost }
            out += Array("xn--".utf8)
            out += Array(encoded.utf8)
        }
        return out
    }

    // MARK: IPv4

    /// Parses an IPv4 address the way browsers and `inet_aton` do: one to four parts, each decimal, octal
    /// (leading `0`) or hexadecimal (`0x`); the last part fills the remaining bytes. `nil` when it is a name.
    static func parseIPv4(_ host: [UInt8]) -> UInt32? {
        var parts: [UInt64] = []
        var i = 0
        let n = host.count
        while i <= n {
            guard parts.count < 4 else { return nil }
            var end = i
            while end < n, host[end] != UInt8(ascii: ".") { end += 1 }
            guard let value = parseIPv4Part(host[i..<end]) else { return nil }
            parts.append(value)
            i = end + 1
        }
        guard !parts.isEmpty else { return nil }
        var address: UInt64 = 0
        for part in parts.dropLast() {
            guard part <= 255 else { return nil }
            address = address << 8 | part
        }
        let remainingBytes = 5 - parts.count
        let last = parts[parts.count - 1]
        guard last < (UInt64(1) << (8 * UInt64(remainingBytes))) else { return nil }
        address = address << (8 * UInt64(remainingBytes)) | last
        return UInt32(truncatingIfNeeded: address)
    }

    private static func parseIPv4Part(_ part: ArraySlice<UInt8>) -> UInt64? {
        guard !part.isEmpty else { return nil }
        var digits = part
        var radix: UInt64 = 10
        if part.count >= 2, part.first == UInt8(ascii: "0"),
            part[part.startIndex + 1] | 0x20 == UInt8(ascii: "x")
        {
            radix = 16
            digits = part.dropFirst(2)
        } else if part.count >= 2, part.first == UInt8(ascii: "0") {
            radix = 8
            digits = part.dropFirst()
        }
        var value: UInt64 = 0
        for byte in digits {
            guard let digit = URLEscaping.hexValue(byte), UInt64(digit) < radix else { return nil }
            value = value * radix + UInt64(digit)
            if value > UInt64(UInt32.max) { return nil }
        }
        return value
    }

    private static func dottedQuad(_ address: UInt32) -> String {
        "\(address >> 24).\(address >> 16 & 0xFF).\(address >> 8 & 0xFF).\(address & 0xFF)"
    }

    // MARK: IPv6

    /// Parses the text between the brackets of an IPv6 literal (the WHATWG URL algorithm). Zone identifiers are
    /// refused.
    static func parseIPv6(_ text: ArraySlice<UInt8>) -> [UInt16]? {
        let input = Array(text)
        var pieces = [UInt16](repeating: 0, count: 8)
        var pieceIndex = 0
        var compress: Int? = nil
        var p = 0
        func at(_ i: Int) -> UInt8? { i < input.count ? input[i] : nil }
        let colon = UInt8(ascii: ":")
        if at(p) == colon {
            guard at(p + 1) == colon else { return nil }
            p += 2
            pieceIndex += 1
            compress = pieceIndex
        }
        while let c = at(p) {
            guard pieceIndex < 8 else { return nil }
            if c == colon {
                guard compress == nil else { return nil }
                p += 1
                pieceIndex += 1
                compress = pieceIndex
                continue
            }
            var value: UInt16 = 0
            var length = 0
            while length < 4, let byte = at(p), let digit = URLEscaping.hexValue(byte) {
                value = value << 4 | UInt16(digit)
                p += 1
                length += 1
            }
            if at(p) == UInt8(ascii: ".") {
                guard length > 0, pieceIndex <= 6 else { return nil }
                p -= length
                var numbersSeen = 0
                while let c = at(p) {
                    if numbersSeen > 0 {
                        guard c == UInt8(ascii: "."), numbersSeen < 4 else { return nil }
                        p += 1
                    }
                    guard let d = at(p), d >= 0x30, d <= 0x39 else { return nil }
                    var piece: Int? = nil
                    while let d = at(p), d >= 0x30, d <= 0x39 {
                        let number = Int(d - 0x30)
                        if let current = piece {
                            guard current != 0 else { return nil }
                            piece = current * 10 + number
                        } else {
                            piece = number
                        }
                        guard let current = piece, current <= 255 else { return nil }
                        p += 1
                    }
                    pieces[pieceIndex] = pieces[pieceIndex] << 8 | UInt16(piece ?? 0)
                    numbersSeen += 1
                    if numbersSeen == 2 || numbersSeen == 4 { pieceIndex += 1 }
                }
                guard numbersSeen == 4 else { return nil }
                break
            } else if at(p) == colon {
                p += 1
                guard at(p) != nil else { return nil }
            } else if at(p) != nil {
                return nil
            }
            pieces[pieceIndex] = value
            pieceIndex += 1
        }
        if let compress {
            var swaps = pieceIndex - compress
            pieceIndex = 7
            while pieceIndex != 0, swaps > 0 {
                pieces.swapAt(pieceIndex, compress + swaps - 1)
                pieceIndex -= 1
                swaps -= 1
            }
        } else if pieceIndex != 8 {
            return nil
        }
        return pieces
    }

    /// The RFC 5952 text of an IPv6 address in brackets; IPv4-mapped (`::ffff:0:0/96`) and NAT64
    /// (`64:ff9b::/96`) addresses become the dotted quad of their IPv4 address, as Safe Browsing asks.
    static func serializeIPv6(_ pieces: [UInt16], keepMapped: Bool = false) -> [UInt8] {
        let mapped = pieces[0..<5].allSatisfy { $0 == 0 } && pieces[5] == 0xFFFF
        let nat64 = pieces[0] == 0x64 && pieces[1] == 0xFF9B && pieces[2..<6].allSatisfy { $0 == 0 }
        if !keepMapped, mapped || nat64 {
            return Array(dottedQuad(UInt32(pieces[6]) << 16 | UInt32(pieces[7])).utf8)
        }
        var bestStart = -1
        var bestLength = 1
        var i = 0
        while i < 8 {
            guard pieces[i] == 0 else {
                i += 1
                continue
            }
            var j = i
            while j < 8, pieces[j] == 0 { j += 1 }
            if j - i > bestLength {
                bestStart = i
                bestLength = j - i
            }
            i = j
        }
        var text = "["
        i = 0
        while i < 8 {
            if i == bestStart {
                text += i == 0 ? "::" : ":"
                i += bestLength
                continue
            }
            text += String(pieces[i], radix: 16)
            if i < 7 { text += ":" }
            i += 1
        }
        text += "]"
        return Array(text.utf8)
    }
}

/// Names that can never resolve on the internet (RFC 2606, RFC 6761): demo data and tests use them, and Vigil never
/// asks a resolver off this machine about them.
public enum ReservedNames {
    public static func contains(_ host: String) -> Bool {
        let h = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))
        return [".test", ".example", ".invalid", ".localhost"].contains {
            h.hasSuffix($0) || h == String($0.dropFirst())
        }
            || ["example.com", "example.org", "example.net"].contains { h == $0 || h.hasSuffix("." + $0) }
    }
}
