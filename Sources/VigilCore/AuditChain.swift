import Crypto
import Foundation

/// Who did something recorded in the audit log.
public enum AuditActor: Sendable, Equatable, Codable {
    case user(String)
    case apiKey(String)
    case job(String)
    case system
    case publicVisitor

    /// Stable type label stored in the database.
    public var kind: String {
        switch self {
        case .user: "user"
        case .apiKey: "apikey"
        case .job: "job"
        case .system: "system"
        case .publicVisitor: "public"
        }
    }

    /// The identifier within the kind (user name, key id, job name), empty for system and public.
    public var identifier: String {
        switch self {
        case .user(let s), .apiKey(let s), .job(let s): s
        case .system, .publicVisitor: ""
        }
    }

    public init(kind: String, identifier: String) {
        switch kind {
        case "user": self = .user(identifier)
        case "apikey": self = .apiKey(identifier)
        case "job": self = .job(identifier)
        case "public": self = .publicVisitor
        default: self = .system
        }
    }

    /// "user:alice", "job:recheck", "public".
    public var display: String { identifier.isEmpty ? kind : "\(kind):\(identifier)" }
}

/// One entry in the hash-chained audit log.
public struct AuditEvent: Sendable, Equatable {
    /// Position in the chain, from 1.
    public var sequence: Int64
    public var time: Date
    public var actor: AuditActor
    public var action: String
    public var subject: String
    /// Canonical JSON (sorted keys) of the details.
    public var detailsJSON: String
    /// Hash of the previous event (64 zeros for the first).
    public var previousHash: String
    /// Hash of this event.
    public var hash: String

    public init(
        sequence: Int64, time: Date, actor: AuditActor, action: String, subject: String,
        detailsJSON: String, previousHash: String, hash: String
    ) {
        self.sequence = sequence
        self.time = time
        self.actor = actor
        self.action = action
        self.subject = subject
        self.detailsJSON = detailsJSON
        self.previousHash = previousHash
        self.hash = hash
    }
}

/// The rules of the audit chain: how an event's hash is computed and how a chain is verified.
public enum AuditChain {
    /// The previous hash of the first event.
    public static let genesis = String(repeating: "0", count: 64)

    /// Canonical JSON for a details dictionary (sorted keys, no escaping of slashes).
    public static func canonicalJSON(_ details: [String: String]) -> String {
        guard !details.isEmpty,
            let data = try? JSONSerialization.data(
                withJSONObject: details, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// The time as stored and hashed: whole milliseconds since 1970.
    public static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    /// SHA-256 over the previous hash and every field of the event, each length-prefixed
    /// so that no two different events can serialise alike.
    public static func hash(
        sequence: Int64, time: Date, actor: AuditActor, action: String, subject: String,
        detailsJSON: String, previousHash: String
    ) -> String {
        var hasher = SHA256()
        for field in [
            previousHash, String(sequence), String(milliseconds(time)), actor.kind, actor.identifier,
            action, subject, detailsJSON,
        ] {
            let bytes = Array(field.utf8)
            hasher.update(data: Data(String(bytes.count).utf8 + [0x3A]))
            hasher.update(data: bytes)
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// Makes the event that follows `previous` (or the first one when `previous` is nil).
    public static func next(
        after previous: (sequence: Int64, hash: String)?, time: Date, actor: AuditActor, action: String,
        subject: String, details: [String: String]
    ) -> AuditEvent {
        let seq = (previous?.sequence ?? 0) + 1
        let prev = previous?.hash ?? genesis
        let json = canonicalJSON(details)
        let ms = Date(timeIntervalSince1970: Double(milliseconds(time)) / 1000)
        let h = hash(
            sequence: seq, time: ms, actor: actor, action: action, subject: subject, detailsJSON: json,
            previousHash: prev)
        return AuditEvent(
            sequence: seq, time: ms, actor: actor, action: action, subject: subject, detailsJSON: json,
            previousHash: prev, hash: h)
    }

    /// Why a chain does not verify.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// The event's fields do not hash to its stored hash: it was modified.
        case modified(sequence: Int64)
        /// The event does not point at the hash of the event before it: one was deleted, inserted or reordered.
        case broken(sequence: Int64, expectedPrevious: String)
        /// A sequence number is missing or out of order.
        case gap(expected: Int64, found: Int64)

        public var description: String {
            switch self {
            case .modified(let s): "event \(s) was modified: its content does not match its hash"
            case .broken(let s, _):
                "event \(s) does not follow the event before it (an event was deleted, inserted or reordered)"
            case .gap(let e, let f): "expected event \(e) but found event \(f) (an event was deleted or reordered)"
            }
        }

        /// The first event that does not verify.
        public var sequence: Int64 {
            switch self {
            case .modified(let s), .broken(let s, _): s
            case .gap(let e, _): e
            }
        }
    }

    /// Incremental verifier: feed events in stored order; the first failure is returned.
    public struct Verifier: Sendable {
        private var expectedSequence: Int64 = 1
        private var previousHash: String = AuditChain.genesis
        /// How many events verified so far.
        public private(set) var verified: Int64 = 0

        public init() {}

        /// Checks the next event in order.
        public mutating func check(_ e: AuditEvent) throws(Failure) {
            if e.sequence != expectedSequence { throw .gap(expected: expectedSequence, found: e.sequence) }
            let recomputed = AuditChain.hash(
                sequence: e.sequence, time: e.time, actor: e.actor, action: e.action, subject: e.subject,
                detailsJSON: e.detailsJSON, previousHash: e.previousHash)
            if recomputed != e.hash { throw .modified(sequence: e.sequence) }
            if e.previousHash != previousHash {
                throw .broken(sequence: e.sequence, expectedPrevious: previousHash)
            }
            previousHash = e.hash
            expectedSequence += 1
            verified += 1
        }

        /// Checks the chain's recorded head (last sequence and hash) against what was verified,
        /// so that deleting the newest events is detected too.
        public func checkHead(sequence: Int64, hash: String) throws(Failure) {
            if sequence != expectedSequence - 1 { throw .gap(expected: expectedSequence, found: sequence) }
            if hash != previousHash { throw .broken(sequence: sequence, expectedPrevious: previousHash) }
        }
    }
}
