import Crypto
import Foundation
import VigilCore

/// One immutable version of the published block list: what every feed format is rendered from.
public struct PublishedList: Sendable, Equatable {
    public let version: Int64
    public let publishedAt: Date
    /// The published targets, sorted by kind then value (the order every feed uses).
    public let targets: [ListTarget]

    public init(version: Int64, publishedAt: Date, targets: [ListTarget]) {
        self.version = version
        self.publishedAt = publishedAt
        self.targets = targets.sorted { ($0.kind.rawValue, $0.value) < ($1.kind.rawValue, $1.value) }
    }

    /// Domains (for DNS feeds), sorted.
    public var domains: [String] { targets.filter { $0.kind == .domain }.map(\.value) }
    public var newsgroups: [String] { targets.filter { $0.kind == .newsgroup }.map(\.value) }
}

/// The feed formats partners download.
public enum FeedFormat: String, Sendable, CaseIterable {
    /// An RPZ zone for DNS resolvers (BIND, Unbound, PowerDNS Recursor, Knot Resolver): domain entries only.
    case rpz
    /// SHA-256 of every URL, prefix and domain expression, for proxies and `vigil squid-helper`.
    case hashed
    /// A hosts file pointing listed domains at the STOP page.
    case hosts
    /// One domain per line, as Pi-hole, AdGuard Home and dnsmasq-based resolvers load it.
    case domains
    /// One newsgroup per line, for news servers.
    case newsgroups
    /// Every entry as JSON (also as a diff since a version).
    case json

    public var contentType: String {
        switch self {
        case .json: "application/json"
        case .rpz: "text/dns; charset=utf-8"
        default: "text/plain; charset=utf-8"
        }
    }

    public var fileExtension: String {
        switch self {
        case .rpz: "zone"
        case .json: "json"
        default: "txt"
        }
    }
}

/// Where a blocked visitor is sent.
public struct FeedOptions: Sendable, Equatable {
    /// The STOP page's IPv4 address (for RPZ and hosts answers); `nil` answers NXDOMAIN in RPZ and 0.0.0.0 in hosts.
    public var stopIPv4: String?
    public var stopIPv6: String?
    /// The STOP page's URL, for proxies.
    public var stopURL: String
    /// The RPZ zone's TTL in seconds.
    public var ttl: Int

    public init(stopIPv4: String? = nil, stopIPv6: String? = nil, stopURL: String, ttl: Int = 300) {
        self.stopIPv4 = stopIPv4
        self.stopIPv6 = stopIPv6
        self.stopURL = stopURL
        self.ttl = ttl
    }
}

/// Renders a published version into each feed format, byte for byte the same for the same version.
public enum FeedRenderer {
    static func isoTime(_ date: Date) -> String {
        date.formatted(
            .iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false).timeSeparator(
                .colon
            ).timeZone(separator: .omitted))
    }

    public static func render(_ list: PublishedList, as format: FeedFormat, options: FeedOptions) -> [UInt8] {
        var out = ByteWriter()
        let published = isoTime(list.publishedAt)
        switch format {
        case .rpz:
            out.line("; Vigil national block list, version \(list.version), published \(published)")
            out.line("; Domain entries only: exact URLs and prefixes are enforced by proxies (hashed feed).")
            out.line("$TTL \(options.ttl)")
            out.line("@ IN SOA localhost. hostmaster.localhost. ( \(list.version) 3600 600 604800 \(options.ttl) )")
            out.line("@ IN NS localhost.")
            for domain in list.domains where !isIPAddress(domain) {
                for name in [domain, "*." + domain] {
                    if options.stopIPv4 == nil, options.stopIPv6 == nil {
                        out.line("\(name) CNAME .")
                    }
                    if let v4 = options.stopIPv4 { out.line("\(name) A \(v4)") }
                    if let v6 = options.stopIPv6 { out.line("\(name) AAAA \(v6)") }
                }
            }
        case .hashed:
            out.line("# vigil-hashed-list 1")
            out.line("# version \(list.version)")
            out.line("# published \(published)")
            out.line("# stop \(options.stopURL)")
            HashedList.render(list.targets) { line in
                out.bytes += line
                out.bytes.append(0x0A)
            }
        case .hosts:
            out.line("# Vigil national block list, version \(list.version), published \(published)")
            for domain in list.domains where !isIPAddress(domain) {
                out.line("\(options.stopIPv4 ?? "0.0.0.0") \(domain)")
                if let v6 = options.stopIPv6 { out.line("\(v6) \(domain)") }
            }
        case .domains:
            out.line("# Vigil national block list, version \(list.version), published \(published)")
            for domain in list.domains { out.line(domain) }
        case .newsgroups:
            out.line("# Vigil national block list, version \(list.version), published \(published)")
            for group in list.newsgroups { out.line(group) }
        case .json:
            out.append(
                "{\"format\":\"vigil-list\",\"version\":\(list.version),\"published\":\"\(published)\",\"entries\":[")
            for (i, t) in list.targets.enumerated() {
                if i > 0 { out.append(",") }
                out.append("{\"kind\":\"\(t.kind.rawValue)\",\"value\":")
                out.jsonString(t.value)
                out.append("}")
            }
            out.line("]}")
        }
        return out.bytes
    }

    /// The JSON diff from version `since` (whose targets are `old`) to `list`.
    public static func diffJSON(since: Int64, old: [ListTarget], to list: PublishedList) -> [UInt8] {
        let before = Set(old)
        let after = Set(list.targets)
        let added = list.targets.filter { !before.contains($0) }
        let removed = PublishedList(
            version: since, publishedAt: list.publishedAt, targets: Array(before.subtracting(after))
        ).targets
        var out = ByteWriter()
        out.append(
            "{\"format\":\"vigil-list-diff\",\"version\":\(list.version),\"since\":\(since),\"published\":\"\(isoTime(list.publishedAt))\""
        )
        for (name, items) in [("added", added), ("removed", removed)] {
            out.append(",\"\(name)\":[")
            for (i, t) in items.enumerated() {
                if i > 0 { out.append(",") }
                out.append("{\"kind\":\"\(t.kind.rawValue)\",\"value\":")
                out.jsonString(t.value)
                out.append("}")
            }
            out.append("]")
        }
        out.line("}")
        return out.bytes
    }

    static func isIPAddress(_ host: String) -> Bool {
        host.hasPrefix("[") || host.allSatisfy { $0.isNumber || $0 == "." }
    }
}

/// Ed25519 signatures over feed bytes, by the server's signing key.
public enum FeedSignature {
    public static func sign(_ bytes: [UInt8], with key: Curve25519.Signing.PrivateKey) -> String {
        ((try? key.signature(for: bytes)) ?? Data()).base64EncodedString()
    }

    public static func verify(_ bytes: some DataProtocol, signature: String, publicKey: Curve25519.Signing.PublicKey)
        -> Bool
    {
        guard let raw = Data(base64Encoded: signature) else { return false }
        return publicKey.isValidSignature(raw, for: bytes)
    }

    /// Reads a base64 raw public key as `/api/v1/feeds/public-key` serves it.
    public static func publicKey(base64 text: String) -> Curve25519.Signing.PublicKey? {
        guard let raw = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)) else { return nil }
        return try? Curve25519.Signing.PublicKey(rawRepresentation: raw)
    }

    /// Appends the signature line the hashed list carries, so that a file on disk verifies by itself.
    public static func signedHashedList(_ bytes: [UInt8], with key: Curve25519.Signing.PrivateKey) -> [UInt8] {
        bytes + Array("# signature \(sign(bytes, with: key))\n".utf8)
    }
}

/// Appends UTF-8 text without a `String` per line.
struct ByteWriter {
    var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(1 << 16) }

    mutating func append(_ s: String) { bytes.append(contentsOf: s.utf8) }

    mutating func line(_ s: String) {
        bytes.append(contentsOf: s.utf8)
        bytes.append(0x0A)
    }

    mutating func jsonString(_ s: String) { TextFields.appendJSONString(s, to: &bytes) }
}
