import Crypto
import Foundation

/// A partner hotline in another country, registered by an administrator after exchanging keys out of band: where
/// its inbox is, the countries it covers (content hosted there is referred to it), its Ed25519 public keys, and
/// whether it may send and receive.
public struct FederationPartner: Sendable, Equatable {
    /// One of the partner's signing keys. After a rotation the old key verifies until `retireAfter`.
    public struct Key: Sendable, Equatable {
        /// `ed25519:` and 16 hex digits (the protocol's key id).
        public let id: String
        /// The 32-byte public key, base64.
        public let publicKey: String
        public let added: Date
        public let retireAfter: Date?

        public init(id: String, publicKey: String, added: Date, retireAfter: Date?) {
            self.id = id
            self.publicKey = publicKey
            self.added = added
            self.retireAfter = retireAfter
        }

        /// Whether the key still verifies at `time`.
        public func isCurrent(at time: Date) -> Bool { retireAfter.map { time < $0 } ?? true }
    }

    /// Lower case letters, digits and dashes (`hotline-fr`): how audit, jobs and pages name it.
    public let name: String
    public var label: String
    /// ISO 3166-1 alpha-2 codes, upper case.
    public var countries: [String]
    /// `https://…` (the inbox is `{baseURL}/api/v1/federation/inbox`).
    public var baseURL: String
    public var enabled: Bool
    /// Whether the API key the partner issued to us is stored (it is kept sealed; never shown again).
    public var hasAPIKey: Bool
    public var keys: [Key]

    public init(
        name: String, label: String, countries: [String], baseURL: String, enabled: Bool = true,
        hasAPIKey: Bool = false, keys: [Key] = []
    ) {
        self.name = name
        self.label = label
        self.countries = countries
        self.baseURL = baseURL
        self.enabled = enabled
        self.hasAPIKey = hasAPIKey
        self.keys = keys
    }

    /// Where messages to the partner go.
    public var inboxURL: String {
        (baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL) + "/api/v1/federation/inbox"
    }

    /// What is wrong with a partner's settings, or nil.
    public static func problem(name: String, countries: [String], baseURL: String) -> String? {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first), name.count <= 50,
            name.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" })
        else { return "a partner's name is 1 to 50 lower case letters, digits and dashes, starting with a letter" }
        guard !countries.isEmpty else { return "a partner covers at least one country" }
        for c in countries where !(c.count == 2 && c.unicodeScalars.allSatisfy({ ("A"..."Z").contains($0) })) {
            return "'\(c)' is not an ISO 3166-1 alpha-2 country code in capitals"
        }
        guard let url = URL(string: baseURL), ["https", "http"].contains(url.scheme?.lowercased() ?? ""),
            let host = url.host, !host.isEmpty, url.query == nil, url.fragment == nil
        else { return "the base URL must be an http(s) address with no query" }
        return nil
    }

    /// Reads a base64 Ed25519 public key: exactly 32 bytes.
    public static func publicKeyBytes(_ base64: String) -> Data? {
        guard let data = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)),
            data.count == 32
        else { return nil }
        return data
    }
}

/// The protocol's key id: `ed25519:` and the first 16 hex digits of SHA-256 of the 32-byte public key.
public enum FederationKeyID {
    public static func of(_ raw: Data) -> String {
        "ed25519:" + SHA256.hash(data: raw).prefix(8).map { String(format: "%02x", $0) }.joined()
    }
}

extension FederationKeyID {
    /// Reads an RFC 3339 time as the protocol's messages carry them (`Z` or an offset; fractions allowed).
    public static func time(_ text: String) -> Date? {
        (try? Date(text, strategy: .iso8601))
            ?? (try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
    }
}
