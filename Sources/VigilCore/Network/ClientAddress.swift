import Foundation

/// The address of the person behind a request. Only a peer in `trusted_proxies` is believed about who it forwards
/// for: its `Forwarded` (RFC 7239) or, failing that, `X-Forwarded-For` chain is read from the right, skipping
/// trusted hops, and the right-most untrusted address wins (anything left of it could be written by the client).
public enum ClientAddress {
    /// - Parameters:
    ///   - peer: the socket's peer address.
    ///   - forwarded: every `Forwarded` header value, in order.
    ///   - forwardedFor: every `X-Forwarded-For` header value, in order.
    ///   - trusted: the reverse proxies whose headers are believed.
    public static func resolve(peer: String?, forwarded: [String], forwardedFor: [String], trusted: [IPRange])
        -> String
    {
        guard let peer else { return "unknown" }
        guard !trusted.isEmpty, let peerAddress = IPAddress(host: peer), isTrusted(peerAddress, trusted) else {
            return peer
        }
        let chain = forwarded.isEmpty ? forwardedForChain(forwardedFor) : forwardedChain(forwarded)
        for hop in chain.reversed() {
            guard let address = parse(hop) else {
                // An entry no proxy of ours wrote ("unknown", an obfuscated name): it is still a distinct client.
                return String(hop.prefix(64))
            }
            if !isTrusted(address, trusted) { return address.description }
        }
        // Every hop is one of our proxies: the left-most is the closest there is to the client.
        return chain.first.flatMap(parse)?.description ?? peer
    }

    static func isTrusted(_ address: IPAddress, _ trusted: [IPRange]) -> Bool {
        trusted.contains { $0.contains(address) || address.embeddedV4.map($0.contains) == true }
    }

    static func forwardedForChain(_ values: [String]) -> [String] {
        values.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
    }

    /// The `for=` of each element of `Forwarded` headers.
    static func forwardedChain(_ values: [String]) -> [String] {
        var out: [String] = []
        for element in values.flatMap({ $0.split(separator: ",") }) {
            for pair in element.split(separator: ";") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                guard kv.count == 2, kv[0].trimmingCharacters(in: .whitespaces).lowercased() == "for" else { continue }
                out.append(kv[1].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(["\""])))
            }
        }
        return out
    }

    /// An address with an optional port: `192.0.2.1`, `192.0.2.1:80`, `[2001:db8::1]:4711`, `2001:db8::1`.
    static func parse(_ hop: String) -> IPAddress? {
        var text = Substring(hop)
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            text = text[text.index(after: text.startIndex)..<close]
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            text = text[..<colon]
        }
        return IPAddress(literal: String(text))
    }
}
