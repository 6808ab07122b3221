import Foundation

/// An IPv4 or IPv6 address as its bytes (4 or 16), with the lenient host spellings browsers and `inet_aton`
/// accept (`2130706433`, `0177.1`, `0x7f.0.0.1`, `127.1`, `[::ffff:7f00:1]`).
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// Four bytes for IPv4, sixteen for IPv6, in network order.
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    public init(v4 value: UInt32) {
        bytes = [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    /// Parses a host as a URL or a resolver would: an IPv6 literal with or without brackets, or any IPv4
    /// spelling `inet_aton` accepts. `nil` for a name.
    public init?(host: String) {
        var text = Array(host.utf8)
        if text.first == UInt8(ascii: "["), text.last == UInt8(ascii: "]") { text = Array(text.dropFirst().dropLast()) }
        if text.contains(UInt8(ascii: ":")) {
            guard let pieces = URLHost.parseIPv6(text[...]) else { return nil }
            self.init(bytes: pieces.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] })
            return
        }
        // A trailing dot is the root of a name ("127.0.0.1." still reaches loopback).
        while text.last == UInt8(ascii: ".") { text.removeLast() }
        guard !text.isEmpty, let value = URLHost.parseIPv4(text) else { return nil }
        self.init(v4: value)
    }

    /// Parses an address as a setting or a proxy writes one: a dotted quad of four parts or IPv6, never the lenient
    /// host spellings (`0x7f.1`).
    public init?(literal text: String) {
        guard let address = IPAddress(host: text), !address.isV4 || text.split(separator: ".").count == 4 else {
            return nil
        }
        self = address
    }

    public var isV4: Bool { bytes.count == 4 }

    /// The IPv4 address an IPv6 address carries in a form that reaches it: IPv4-mapped (`::ffff:0:0/96`),
    /// IPv4-compatible (`::/96`), NAT64 (`64:ff9b::/96` and the local `64:ff9b:1::/48`) and 6to4 (`2002::/16`).
    public var embeddedV4: IPAddress? {
        guard bytes.count == 16 else { return nil }
        let b = bytes
        func v4(at i: Int) -> IPAddress { IPAddress(bytes: Array(b[i..<(i + 4)]))! }
        if b[0..<10].allSatisfy({ $0 == 0 }), b[10] == 0xFF, b[11] == 0xFF { return v4(at: 12) }
        if b[0..<12].allSatisfy({ $0 == 0 }), !b[12..<16].allSatisfy({ $0 == 0 }), b[12..<15] != [0, 0, 0] {
            return v4(at: 12)
        }
        if b[0] == 0x00, b[1] == 0x64, b[2] == 0xFF, b[3] == 0x9B, b[4..<12].allSatisfy({ $0 == 0 }) {
            return v4(at: 12)
        }
        if b[0] == 0x00, b[1] == 0x64, b[2] == 0xFF, b[3] == 0x9B, b[4] == 0x00, b[5] == 0x01 { return v4(at: 12) }
        if b[0] == 0x20, b[1] == 0x02 { return v4(at: 2) }
        return nil
    }

    /// Dotted quad, or RFC 5952 text without brackets.
    public var description: String {
        if isV4 { return bytes.map(String.init).joined(separator: ".") }
        let pieces = stride(from: 0, to: 16, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
        var text = String(decoding: URLHost.serializeIPv6(pieces, keepMapped: true), as: UTF8.self)
        if text.hasPrefix("[") { text = String(text.dropFirst().dropLast()) }
        return text
    }
}

/// A CIDR range (`10.0.0.0/8`, `fd00::/8`; a bare address is its own /32 or /128).
public struct IPRange: Hashable, Sendable, CustomStringConvertible {
    public let address: IPAddress
    public let prefix: Int

    public init(_ address: IPAddress, prefix: Int) {
        self.address = address
        self.prefix = max(0, min(prefix, address.bytes.count * 8))
    }

    /// Parses `ADDRESS/PREFIX` or a bare address; `nil` when it is neither.
    public init?(cidr text: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2, let address = IPAddress(literal: String(parts[0])) else {
            return nil
        }
        let bits = address.bytes.count * 8
        if parts.count == 2 {
            guard let p = Int(parts[1]), p >= 0, p <= bits else { return nil }
            self.init(address, prefix: p)
        } else {
            self.init(address, prefix: bits)
        }
    }

    public func contains(_ other: IPAddress) -> Bool {
        guard other.bytes.count == address.bytes.count else { return false }
        var remaining = prefix
        for i in 0..<address.bytes.count where remaining > 0 {
            let take = min(8, remaining)
            let mask: UInt8 = take == 8 ? 0xFF : ~(0xFF >> UInt8(take))
            if address.bytes[i] & mask != other.bytes[i] & mask { return false }
            remaining -= take
        }
        return true
    }

    public var description: String { "\(address)/\(prefix)" }
}

/// Which addresses Vigil may connect to on behalf of data it was given (a reported or listed URL, a notice's
/// webhook): public unicast only, unless the operator allowed a range (`fetch_allow_cidrs`) for a lab or a test.
public struct OutboundAddressPolicy: Sendable, Equatable {
    /// Ranges the operator allowed even though they are not public (checked before the refusals).
    public var allowed: [IPRange]

    public init(allowed: [IPRange] = []) { self.allowed = allowed }

    /// Parses a list of ranges such as `fetch_allow_cidrs` (comma, semicolon or space separated).
    /// - Throws: ``RangeListError`` naming the setting and the first range that does not parse.
    public init(allowing text: String?, setting: String = "fetch_allow_cidrs") throws(RangeListError) {
        var ranges: [IPRange] = []
        for item in (text ?? "").split(whereSeparator: { $0 == "," || $0 == ";" || $0 == " " }) {
            guard let range = IPRange(cidr: String(item)) else {
                throw RangeListError(setting: setting, range: String(item))
            }
            ranges.append(range)
        }
        allowed = ranges
    }

    /// Why `address` may not be fetched (`"loopback"`, `"private"`, …), or `nil` when it may.
    public func refusal(for address: IPAddress) -> String? {
        if allowed.contains(where: { $0.contains(address) }) { return nil }
        if let inner = address.embeddedV4 {
            if allowed.contains(where: { $0.contains(inner) }) { return nil }
            if let why = Self.special(inner) { return why + " (inside \(address))" }
        }
        return Self.special(address)
    }

    /// The special-purpose class of an address (IANA's registries), or `nil` for a public unicast one.
    public static func special(_ address: IPAddress) -> String? {
        for (range, name) in address.isV4 ? v4Special : v6Special where range.contains(address) { return name }
        if !address.isV4 {
            // Only global unicast (2000::/3) is public; everything else is reserved for one use or another.
            guard address.bytes[0] & 0xE0 == 0x20 else { return "reserved" }
        }
        return nil
    }

    private static func ranges(_ list: [(String, String)]) -> [(IPRange, String)] {
        list.map { (IPRange(cidr: $0.0)!, $0.1) }
    }

    private static let v4Special = ranges([
        ("0.0.0.0/8", "unspecified"), ("10.0.0.0/8", "private"), ("100.64.0.0/10", "carrier-grade NAT"),
        ("127.0.0.0/8", "loopback"), ("169.254.0.0/16", "link-local"), ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "reserved"), ("192.0.2.0/24", "documentation"), ("192.31.196.0/24", "reserved"),
        ("192.52.193.0/24", "reserved"), ("192.88.99.0/24", "reserved"), ("192.168.0.0/16", "private"),
        ("192.175.48.0/24", "reserved"), ("198.18.0.0/15", "benchmarking"), ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"), ("224.0.0.0/4", "multicast"), ("240.0.0.0/4", "reserved"),
    ])

    private static let v6Special = ranges([
        ("::1/128", "loopback"), ("::/128", "unspecified"), ("::ffff:0:0/96", "IPv4-mapped"),
        ("64:ff9b::/96", "NAT64"), ("64:ff9b:1::/48", "NAT64"), ("100::/64", "reserved"),
        ("2001::/23", "reserved"), ("2001:db8::/32", "documentation"), ("2002::/16", "6to4"),
        ("3fff::/20", "documentation"), ("5f00::/16", "reserved"), ("fc00::/7", "private"),
        ("fe80::/10", "link-local"), ("fec0::/10", "reserved"), ("ff00::/8", "multicast"),
    ])
}

/// An item of a list of address ranges (`fetch_allow_cidrs`, `trusted_proxies`) that is not a range.
public struct RangeListError: Error, Sendable, Equatable, CustomStringConvertible {
    public let setting: String
    public let range: String

    public init(setting: String, range: String) {
        self.setting = setting
        self.range = range
    }
    public var description: String { "\(setting): '\(range)' is not an address range like 10.0.0.0/8" }
}
