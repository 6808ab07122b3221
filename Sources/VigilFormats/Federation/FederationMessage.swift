import Crypto
import Foundation
import VigilCore

/// One message between two hotlines' installations (the Vigil federation protocol, version 1).
///
/// On the wire a message travels in an envelope, `{"message": {…}, "signature": "<base64>"}`, posted to the
/// receiver's `POST /api/v1/federation/inbox`. The signature is Ed25519 over the message's canonical bytes (RFC 8785,
/// JSON Canonicalization Scheme; the protocol has integers only, so no number needs ES6 formatting). Field names on
/// the wire are snake_case; `docs/federation/` holds the JSON Schemas and a worked example.
///
/// - `id` is stable across delivery attempts (the receiver keeps each id once: exactly-once effect);
/// - `signed_at` is renewed at every attempt, so a message delivered after hours is still fresh, and a captured
///   message replayed later is refused as stale;
/// - `case` is the sender's case reference; messages of one case are delivered in order.
public struct FederationMessage: Codable, Sendable, Equatable {
    /// The three kinds of message.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// Content reported to the sender and hosted in the receiver's country.
        case referral
        /// What became of a referral (sent back by the receiver).
        case status
        /// The receiver had already assessed the referred URL or hash: its outcome, at once.
        case known
    }

    /// `vigil-federation/1`.
    public var `protocol`: String
    /// A UUID, lower case.
    public var id: String
    public var type: Kind
    /// The sender's installation name as the receiver registered it (informative: the key decides who sent it).
    public var from: String
    /// The signing key's id (``FederationSigning/keyID(of:)``).
    public var keyID: String
    /// When this attempt was signed (RFC 3339, UTC, whole seconds).
    public var signedAt: String
    /// The sender's case reference.
    public var `case`: String
    public var referral: Referral?
    public var status: Status?
    public var known: Known?

    enum CodingKeys: String, CodingKey {
        case `protocol`, id, type, from, keyID = "key_id", signedAt = "signed_at", `case`, referral, status, known
    }

    /// Reported content, the sender's assessment in shared vocabulary, and where it is hosted. Never the reporter's
    /// identity and never anything from a law-enforcement hold.
    public struct Referral: Codable, Sendable, Equatable {
        public struct Item: Codable, Sendable, Equatable {
            /// `url`, `newsgroup` or `p2p`.
            public var kind: String
            public var value: String

            public init(kind: String, value: String) {
                self.kind = kind
                self.value = value
            }
        }

        /// The sender's assessment, in the spirit of the Universal Classification Schema.
        public struct Assessment: Codable, Sendable, Equatable {
            /// `image`, `video`, `audio`, `text`, `mixed` or `other`.
            public var contentType: String
            /// `baseline` (illegal everywhere: the INTERPOL baseline) or `national` (illegal in the sender's law).
            public var illegality: String
            /// `infant`, `prepubescent`, `pubescent` or `not-determined`.
            public var ageGroup: String

            enum CodingKeys: String, CodingKey {
                case contentType = "content_type", illegality, ageGroup = "age_group"
            }

            public init(contentType: String, illegality: String, ageGroup: String) {
                self.contentType = contentType
                self.illegality = illegality
                self.ageGroup = ageGroup
            }
        }

        public struct Hosting: Codable, Sendable, Equatable {
            /// ISO 3166-1 alpha-2, upper case.
            public var country: String
            public var ip: String?
            public var asn: Int?
            public var provider: String?

            public init(country: String, ip: String? = nil, asn: Int? = nil, provider: String? = nil) {
                self.country = country
                self.ip = ip
                self.asn = asn
                self.provider = provider
            }
        }

        public struct Media: Codable, Sendable, Equatable {
            /// `md5`, `sha1`, `sha256` or `pdq`.
            public var algorithm: String
            public var value: String

            public init(algorithm: String, value: String) {
                self.algorithm = algorithm
                self.value = value
            }
        }

        public var items: [Item]
        public var assessment: Assessment
        public var hosting: Hosting
        public var media: [Media]
        public var reportedAt: String
        public var assessedAt: String

        enum CodingKeys: String, CodingKey {
            case items, assessment, hosting, media, reportedAt = "reported_at", assessedAt = "assessed_at"
        }

        public init(
            items: [Item], assessment: Assessment, hosting: Hosting, media: [Media] = [], reportedAt: String,
            assessedAt: String
        ) {
            self.items = items
            self.assessment = assessment
            self.hosting = hosting
            self.media = media
            self.reportedAt = reportedAt
            self.assessedAt = assessedAt
        }
    }

    /// A step of the receiver's work on a referral.
    public struct Status: Codable, Sendable, Equatable {
        public enum State: String, Codable, Sendable, CaseIterable {
            case received, assessed
            case noticeSent = "notice-sent"
            case removed, unreachable, declined
        }

        /// The referral's message id.
        public var referral: String
        public var state: State
        /// When it happened (RFC 3339).
        public var at: String
        /// For `assessed`: the receiver's outcome (`baseline`, `national`, `not-illegal`, `out-of-remit`).
        public var outcome: String?
        /// For `declined` (required) and `unreachable`.
        public var reason: String?
        /// The receiver's case reference.
        public var reference: String?

        public init(
            referral: String, state: State, at: String, outcome: String? = nil, reason: String? = nil,
            reference: String? = nil
        ) {
            self.referral = referral
            self.state = state
            self.at = at
            self.outcome = outcome
            self.reason = reason
            self.reference = reference
        }
    }

    /// The receiver's earlier assessment of a referred item.
    public struct Known: Codable, Sendable, Equatable {
        /// The referral's message id.
        public var referral: String
        /// The item the receiver knows (an item of the referral).
        public var value: String
        public var outcome: String
        public var assessedAt: String
        public var reference: String?

        enum CodingKeys: String, CodingKey {
            case referral, value, outcome, assessedAt = "assessed_at", reference
        }

        public init(referral: String, value: String, outcome: String, assessedAt: String, reference: String? = nil) {
            self.referral = referral
            self.value = value
            self.outcome = outcome
            self.assessedAt = assessedAt
            self.reference = reference
        }
    }

    /// A message of `type` with its body; `keyID` and `signedAt` are set by ``FederationSigning/seal(_:with:at:)``.
    public init(
        id: String, from: String, case reference: String, referral: Referral? = nil, status: Status? = nil,
        known: Known? = nil
    ) {
        self.protocol = FederationSigning.protocolName
        self.id = id.lowercased()
        self.type = referral != nil ? .referral : status != nil ? .status : .known
        self.from = from
        self.keyID = ""
        self.signedAt = ""
        self.case = reference
        self.referral = referral
        self.status = status
        self.known = known
    }

    static let itemKinds: Set<String> = ["url", "newsgroup", "p2p"]
    static let contentTypes: Set<String> = ["image", "video", "audio", "text", "mixed", "other"]
    static let illegality: Set<String> = ["baseline", "national"]
    static let ageGroups: Set<String> = ["infant", "prepubescent", "pubescent", "not-determined"]
    static let outcomes: Set<String> = ["baseline", "national", "not-illegal", "out-of-remit"]
    static let digestAlgorithms: Set<String> = ["md5", "sha1", "sha256", "pdq"]

    /// Checks what the schema says and a little more (one body, matching the type; known vocabulary; sizes).
    public func validate() throws(FederationError) {
        func bad(_ why: String) -> FederationError { .malformed(why) }
        guard self.protocol == FederationSigning.protocolName else {
            throw .unsupported("protocol '\(self.protocol)'; this server speaks \(FederationSigning.protocolName)")
        }
        func isUUID(_ s: String) -> Bool { UUID(uuidString: s) != nil && s == s.lowercased() }
        guard isUUID(id) else { throw bad("'id' must be a UUID in lower case") }
        guard !from.isEmpty, from.count <= 100 else { throw bad("'from' must be 1 to 100 characters") }
        guard !self.case.isEmpty, self.case.count <= 100 else { throw bad("'case' must be 1 to 100 characters") }
        guard FederationSigning.date(signedAt) != nil else { throw bad("'signed_at' must be an RFC 3339 UTC time") }
        let bodies = [referral != nil, status != nil, known != nil].filter { $0 }.count
        guard bodies == 1 else { throw bad("a message carries exactly one of 'referral', 'status' and 'known'") }
        switch type {
        case .referral:
            guard let r = referral else { throw bad("a referral message needs 'referral'") }
            guard (1...100).contains(r.items.count) else { throw bad("'referral.items' must hold 1 to 100 items") }
            for item in r.items {
                guard Self.itemKinds.contains(item.kind) else {
                    throw bad("item kind '\(item.kind)' is not url, newsgroup or p2p")
                }
                guard !item.value.isEmpty, item.value.utf8.count <= 4096 else {
                    throw bad("an item's value must be 1 to 4096 bytes")
                }
                if item.kind == "url" {
                    guard let u = URL(string: item.value), ["http", "https"].contains(u.scheme?.lowercased() ?? "")
                    else { throw bad("'\(item.value.prefix(100))' is not an http(s) URL") }
                }
            }
            guard Self.contentTypes.contains(r.assessment.contentType) else {
                throw bad("unknown content_type '\(r.assessment.contentType)'")
            }
            guard Self.illegality.contains(r.assessment.illegality) else {
                throw bad("illegality must be baseline or national")
            }
            guard Self.ageGroups.contains(r.assessment.ageGroup) else {
                throw bad("unknown age_group '\(r.assessment.ageGroup)'")
            }
            guard r.hosting.country.count == 2, r.hosting.country.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
                throw bad("'hosting.country' must be an ISO 3166-1 alpha-2 code in capitals")
            }
            guard r.media.count <= 1000 else { throw bad("'referral.media' holds at most 1000 hashes") }
            for m in r.media {
                guard let a = HashAlgorithm(rawValue: m.algorithm), Self.digestAlgorithms.contains(m.algorithm),
                    (try? HashDigest(a, m.value)) != nil
                else { throw bad("media hash '\(m.algorithm):\(m.value.prefix(80))' is not valid") }
            }
            guard FederationSigning.date(r.reportedAt) != nil, FederationSigning.date(r.assessedAt) != nil else {
                throw bad("'reported_at' and 'assessed_at' must be RFC 3339 UTC times")
            }
        case .status:
            guard let s = status else { throw bad("a status message needs 'status'") }
            guard isUUID(s.referral) else { throw bad("'status.referral' must be the referral's id") }
            guard FederationSigning.date(s.at) != nil else { throw bad("'status.at' must be an RFC 3339 UTC time") }
            if s.state == .declined, (s.reason ?? "").isEmpty { throw bad("a declined status says why ('reason')") }
            if let o = s.outcome, !Self.outcomes.contains(o) { throw bad("unknown outcome '\(o)'") }
            if s.state == .assessed, s.outcome == nil { throw bad("an assessed status says the outcome") }
        case .known:
            guard let k = known else { throw bad("a known message needs 'known'") }
            guard isUUID(k.referral) else { throw bad("'known.referral' must be the referral's id") }
            guard Self.outcomes.contains(k.outcome) else { throw bad("unknown outcome '\(k.outcome)'") }
            guard FederationSigning.date(k.assessedAt) != nil else {
                throw bad("'known.assessed_at' must be an RFC 3339 UTC time")
            }
        }
    }
}

/// Why a federation message was refused. Each has a stable code and the HTTP status the inbox answers with.
public enum FederationError: Error, Equatable, Sendable {
    case malformed(String)
    case unsupported(String)
    case tooLarge(limit: Int)
    case unknownKey(String)
    case partnerDisabled(String)
    case keyRetired(String)
    case badSignature
    case stale(skewSeconds: Int, windowSeconds: Int)
    case duplicate(String)
    case notAuthorised(String)

    public var code: String {
        switch self {
        case .malformed: "federation.malformed"
        case .unsupported: "federation.unsupported"
        case .tooLarge: "federation.too-large"
        case .unknownKey: "federation.unknown-key"
        case .partnerDisabled: "federation.partner-disabled"
        case .keyRetired: "federation.key-retired"
        case .badSignature: "federation.bad-signature"
        case .stale: "federation.stale"
        case .duplicate: "federation.duplicate"
        case .notAuthorised: "federation.not-authorised"
        }
    }

    /// The inbox's answer: 400 bad input, 401 cannot be authenticated, 403 known but refused, 409 already received
    /// (the sender takes it as delivered), 413 too large.
    public var httpStatus: Int {
        switch self {
        case .malformed, .unsupported, .stale: 400
        case .unknownKey, .keyRetired, .badSignature, .notAuthorised: 401
        case .partnerDisabled: 403
        case .duplicate: 409
        case .tooLarge: 413
        }
    }

    public var message: String {
        switch self {
        case .malformed(let why): "The message is malformed: \(why)."
        case .unsupported(let why): "The message is not supported: \(why)."
        case .tooLarge(let limit): "The message is larger than \(limit) bytes."
        case .unknownKey(let id): "No partner has the signing key '\(id)'."
        case .partnerDisabled(let name): "The partner '\(name)' is disabled here."
        case .keyRetired(let id): "The signing key '\(id)' was retired after its overlap period."
        case .badSignature: "The signature does not verify over the message's canonical bytes."
        case .stale(let skew, let window):
            "The message was signed \(skew) seconds from this server's time; at most \(window) are accepted."
        case .duplicate(let id): "The message '\(id)' was already received."
        case .notAuthorised(let why): "The request is not authorised: \(why)."
        }
    }
}

/// Canonical bytes, key ids, signing and verification for ``FederationMessage``.
public enum FederationSigning {
    public static let protocolName = "vigil-federation/1"
    /// The largest envelope the inbox reads.
    public static let maxEnvelopeBytes = 256 * 1024

    /// `ed25519:` and the first 16 hex digits of the SHA-256 of the 32-byte public key.
    public static func keyID(of key: Curve25519.Signing.PublicKey) -> String {
        FederationKeyID.of(key.rawRepresentation)
    }

    /// RFC 3339 in UTC with whole seconds, as messages carry times.
    public static func timestamp(_ date: Date) -> String {
        Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)).formatted(.iso8601)
    }

    /// Reads an RFC 3339 time (`Z` or an offset; fractions allowed).
    public static func date(_ text: String) -> Date? { FederationKeyID.time(text) }

    /// The message's canonical bytes (RFC 8785 for a document of strings, integers, booleans, null, arrays, objects).
    public static func canonicalBytes(_ message: FederationMessage) throws(FederationError) -> [UInt8] {
        let encoder = JSONEncoder()
        let data: Data
        do { data = try encoder.encode(message) } catch { throw .malformed("cannot encode: \(error)") }
        let value: JSONValue
        do { value = try JSONValue.parse(Array(data)) } catch { throw .malformed("cannot encode") }
        return try canonical(value)
    }

    /// Sets the key id and signing time and returns the envelope's bytes.
    public static func seal(
        _ message: FederationMessage, with key: Curve25519.Signing.PrivateKey, at time: Date
    ) throws(FederationError) -> (message: FederationMessage, envelope: [UInt8]) {
        var m = message
        m.keyID = keyID(of: key.publicKey)
        m.signedAt = timestamp(time)
        try m.validate()
        let bytes = try canonicalBytes(m)
        let signature: Data
        do { signature = try key.signature(for: bytes) } catch { throw .malformed("cannot sign: \(error)") }
        var envelope = Array(#"{"message":"#.utf8)
        envelope += bytes
        envelope += Array(#","signature":""#.utf8)
        envelope += Array(signature.base64EncodedString().utf8)
        envelope += Array(#""}"#.utf8)
        return (m, envelope)
    }

    /// An envelope read but not yet trusted: the caller finds the key by ``message``'s `keyID`, then calls
    /// ``verify(with:)`` and ``checkTime(now:window:)``.
    public struct Opened: Sendable {
        public let message: FederationMessage
        /// The canonical bytes the signature must cover.
        public let canonical: [UInt8]
        public let signature: Data

        /// Checks the signature with the sender's public key.
        public func verify(with key: Curve25519.Signing.PublicKey) throws(FederationError) {
            guard key.isValidSignature(signature, for: canonical) else { throw .badSignature }
        }

        /// Checks the signature with a registered key (32 bytes, base64).
        public func verify(publicKey base64: String) throws(FederationError) {
            guard let raw = Data(base64Encoded: base64),
                let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw)
            else { throw .unknownKey(message.keyID) }
            try verify(with: key)
        }

        /// Refuses a message signed more than `window` seconds before or after `now`.
        public func checkTime(now: Date, window: Int) throws(FederationError) {
            guard let signed = FederationSigning.date(message.signedAt) else { throw .malformed("bad 'signed_at'") }
            let skew = Int((now.timeIntervalSince(signed)).rounded())
            guard abs(skew) <= window else { throw .stale(skewSeconds: skew, windowSeconds: window) }
        }
    }

    /// Parses an envelope: size, JSON syntax (duplicate member names refused), the message's fields and vocabulary.
    public static func open(_ body: [UInt8]) throws(FederationError) -> Opened {
        guard body.count <= maxEnvelopeBytes else { throw .tooLarge(limit: maxEnvelopeBytes) }
        let root: JSONValue
        do {
            root = try body.withUnsafeBufferPointer { (b) throws(JSONSyntaxError) -> JSONValue in
                try JSONValue.parse(b, rejectingDuplicateKeys: true)
            }
        } catch { throw .malformed("not JSON (or a member named twice) near byte \(error.offset)") }
        guard case .object(let envelope) = root, case .object = envelope["message"],
            case .string(let signatureText) = envelope["signature"]
        else { throw .malformed("expected {\"message\": {…}, \"signature\": \"<base64>\"}") }
        guard envelope.count == 2 else { throw .malformed("the envelope holds only 'message' and 'signature'") }
        guard let signature = Data(base64Encoded: signatureText), signature.count == 64 else {
            throw .malformed("'signature' must be 64 bytes of base64")
        }
        let canonical = try canonical(envelope["message"]!)
        let message: FederationMessage
        do { message = try JSONDecoder().decode(FederationMessage.self, from: Data(canonical)) } catch {
            throw .malformed(Self.describe(error))
        }
        try message.validate()
        return Opened(message: message, canonical: canonical, signature: signature)
    }

    static func describe(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .keyNotFound(let key, let c)?:
            "missing '\((c.codingPath + [key]).map(\.stringValue).joined(separator: "."))'"
        case .typeMismatch(_, let c)?, .valueNotFound(_, let c)?:
            "wrong type at '\(c.codingPath.map(\.stringValue).joined(separator: "."))'"
        case .dataCorrupted(let c)?:
            "bad value at '\(c.codingPath.map(\.stringValue).joined(separator: "."))': \(c.debugDescription)"
        default: "cannot be read"
        }
    }

    /// RFC 8785 canonical bytes of a JSON text (any member order, any whitespace). Numbers must be integers.
    public static func canonical(json: [UInt8]) throws(FederationError) -> [UInt8] {
        let value: JSONValue
        do {
            value = try json.withUnsafeBufferPointer { (b) throws(JSONSyntaxError) -> JSONValue in
                try JSONValue.parse(b, rejectingDuplicateKeys: true)
            }
        } catch { throw .malformed("not JSON (or a member named twice) near byte \(error.offset)") }
        return try canonical(value)
    }

    /// RFC 8785 canonical JSON. Numbers must be integers (the protocol has no others).
    static func canonical(_ value: JSONValue) throws(FederationError) -> [UInt8] {
        var out: [UInt8] = []
        try write(value, to: &out)
        return out
    }

    private static func write(_ value: JSONValue, to out: inout [UInt8]) throws(FederationError) {
        switch value {
        case .null: out += Array("null".utf8)
        case .bool(let b): out += Array((b ? "true" : "false").utf8)
        case .number(let literal):
            guard let n = Int64(literal), String(n) == literal else {
                throw .malformed("number '\(literal)': the protocol's numbers are integers")
            }
            out += Array(String(n).utf8)
        case .string(let s): appendString(s, to: &out)
        case .array(let items):
            out.append(0x5B)
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(0x2C) }
                try write(item, to: &out)
            }
            out.append(0x5D)
        case .object(let members):
            out.append(0x7B)
            // RFC 8785 §3.2.3: member names sorted by their UTF-16 code units.
            for (i, key) in members.keys.sorted(by: { $0.utf16.lexicographicallyPrecedes($1.utf16) }).enumerated() {
                if i > 0 { out.append(0x2C) }
                appendString(key, to: &out)
                out.append(0x3A)
                try write(members[key]!, to: &out)
            }
            out.append(0x7D)
        }
    }

    /// RFC 8785 §3.2.2.2 string escaping (``TextFields/appendJSONString(_:to:)`` writes exactly that).
    static func appendString(_ s: String, to out: inout [UInt8]) { TextFields.appendJSONString(s, to: &out) }
}
