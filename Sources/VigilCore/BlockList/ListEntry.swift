import Foundation

/// What a block-list entry covers.
public enum ListEntryKind: String, Sendable, Codable, CaseIterable {
    /// One exact canonical URL (host, path and query).
    case url
    /// A Safe Browsing path-prefix expression (`host/dir/`): every URL under it, on the host and its subdomains.
    case prefix
    /// A whole domain and its subdomains; allowed only when the whole host is dedicated to such material.
    case domain
    /// A Usenet newsgroup.
    case newsgroup

    public var label: String {
        switch self {
        case .url: "Exact URL"
        case .prefix: "URL prefix"
        case .domain: "Whole domain"
        case .newsgroup: "Newsgroup"
        }
    }
}

/// An entry's target in the one form feeds and lookups use.
public struct ListTarget: Sendable, Hashable, Codable, CustomStringConvertible {
    public let kind: ListEntryKind
    /// `host/path?query` for a URL, `host/path/` for a prefix, `host` for a domain, the name for a newsgroup.
    public let value: String

    public init(kind: ListEntryKind, value: String) {
        self.kind = kind
        self.value = value
    }

    /// Parses what an analyst typed into the canonical target, so that the list holds one spelling of each thing.
    /// - Throws: ``ListEntryError`` saying what is wrong with the text.
    public init(kind: ListEntryKind, parsing text: String) throws(ListEntryError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw .emptyTarget }
        self.kind = kind
        switch kind {
        case .newsgroup:
            do { value = try Newsgroup.normalize(trimmed) } catch { throw .invalidTarget(error.description) }
        case .url, .prefix, .domain:
            let canonical: String
            do {
                canonical = try CanonicalURL.canonicalize(
                    kind == .domain && !trimmed.contains("/") ? trimmed + "/" : trimmed)
            } catch {
                throw .invalidTarget(error.description)
            }
            let schemeless = canonical.components(separatedBy: "://").dropFirst().joined(separator: "://")
            guard let host = CanonicalURL.host(of: canonical), !host.isEmpty else { throw .invalidTarget("no host") }
            guard !host.contains(" ") else { throw .invalidTarget("a host name cannot contain spaces") }
            switch kind {
            case .domain:
                guard schemeless == host + "/" else {
                    throw .invalidTarget("a domain entry is a host name alone; use a URL or prefix entry for a path")
                }
                value = host
            case .prefix:
                // Safe Browsing prefix expressions have no query and end with a slash.
                guard !schemeless.contains("?") else { throw .invalidTarget("a prefix cannot have a query") }
                value = schemeless.hasSuffix("/") ? schemeless : schemeless + "/"
            default:
                value = schemeless
            }
        }
    }

    /// Where a check fetches a web target typed as `text`: the scheme, host and port as typed (the canonical value,
    /// like Safe Browsing's expressions, keeps neither), or `nil` when that is plain `http://host` on port 80.
    public static func origin(typed text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let withScheme = trimmed.contains("://") ? trimmed : "http://" + trimmed
        guard let parts = URLComponents(string: withScheme), let scheme = parts.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let canonical = try? CanonicalURL.canonicalize(withScheme),
            let host = CanonicalURL.host(of: canonical)
        else { return nil }
        let defaultPort = scheme == "https" ? 443 : 80
        if scheme == "http", parts.port == nil || parts.port == defaultPort { return nil }
        return scheme + "://" + host + (parts.port.map { $0 == defaultPort ? "" : ":\($0)" } ?? "")
    }

    /// The host a web entry is on (`nil` for a newsgroup).
    public var host: String? {
        guard kind != .newsgroup else { return nil }
        return String(value.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)[0])
    }

    /// The lookup expression this entry's hash is taken over: the value itself, with `host/` for a domain.
    public var expression: String { kind == .domain ? value + "/" : value }

    /// The target written so that it cannot be clicked or pasted by accident (`example[.]com/a`), for auditors.
    public var defanged: String { value.replacingOccurrences(of: ".", with: "[.]") }

    public var description: String { "\(kind.rawValue):\(value)" }
}

/// Where an entry is in its life.
public enum ListEntryState: String, Sendable, Codable, CaseIterable {
    /// Proposed by one analyst; waits for a second to verify it. Never published.
    case proposed
    /// Verified by a second person; published while the verification is fresh and the case is not held.
    case active
    /// Not re-verified in time: out of the list until someone verifies it again.
    case expired
    /// Taken off the list for good (content gone, decision, upheld appeal).
    case removed
    /// Out of the list while an appeal is decided.
    case suspended
    /// The verifier turned the proposal down.
    case rejected

    public var label: String {
        switch self {
        case .proposed: "Proposed"
        case .active: "Active"
        case .expired: "Expired"
        case .removed: "Removed"
        case .suspended: "Suspended (appeal)"
        case .rejected: "Rejected"
        }
    }
}

/// The result of one automated check of a listed URL.
public enum ListCheckOutcome: String, Sendable, Codable {
    /// The address still answers with content.
    case live
    /// 404/410, no such domain, or connection refused.
    case gone
    /// Anything else (time-out, 5xx): says nothing either way.
    case inconclusive
}

/// One entry of the block list, with who proposed and verified it and when its verification runs out.
public struct ListEntry: Sendable, Equatable, Codable {
    public var id: Int64
    public var target: ListTarget
    /// The published criterion it meets (one of the operator's criteria).
    public var criterion: String
    public var caseID: Int64?
    /// Why the whole domain is dedicated to such material (domain entries only).
    public var dedicatedReason: String?
    public var state: ListEntryState
    public var proposedBy: String
    public var proposedAt: Date
    public var verifiedBy: String?
    public var verifiedAt: Date?
    public var expiresAt: Date?
    public var lastCheckAt: Date?
    public var lastCheck: ListCheckOutcome?
    /// Consecutive `gone` checks.
    public var goneCount: Int
    /// A harmless test entry the operator publishes to check that partners apply the list.
    public var canary: Bool
    public var removalReason: String?

    /// The scheme, host and port the analyst typed when they are not `http://` on port 80 (``ListTarget/origin(typed:)``):
    /// checks fetch the address as listed.
    public var origin: String?

    public init(
        id: Int64, target: ListTarget, criterion: String, caseID: Int64?, dedicatedReason: String?,
        state: ListEntryState, proposedBy: String, proposedAt: Date, verifiedBy: String? = nil,
        verifiedAt: Date? = nil, expiresAt: Date? = nil, lastCheckAt: Date? = nil,
        lastCheck: ListCheckOutcome? = nil, goneCount: Int = 0, canary: Bool = false, removalReason: String? = nil
    ) {
        self.id = id
        self.target = target
        self.criterion = criterion
        self.caseID = caseID
        self.dedicatedReason = dedicatedReason
        self.state = state
        self.proposedBy = proposedBy
        self.proposedAt = proposedAt
        self.verifiedBy = verifiedBy
        self.verifiedAt = verifiedAt
        self.expiresAt = expiresAt
        self.lastCheckAt = lastCheckAt
        self.lastCheck = lastCheck
        self.goneCount = goneCount
        self.canary = canary
        self.removalReason = removalReason
    }

    /// Whether the entry belongs in a version published at `now`, given whether its case is under a hold.
    public func isPublishable(at now: Date, caseHeld: Bool) -> Bool {
        Self.isPublishable(state: state, canary: canary, expiresAt: expiresAt, at: now, caseHeld: caseHeld)
    }

    /// The publishable rule on an entry's stored facts (for the store, which reads them without the whole entry):
    /// active, its case not under a hold, and a canary or verified until after `now`.
    public static func isPublishable(
        state: ListEntryState, canary: Bool, expiresAt: Date?, at now: Date, caseHeld: Bool
    ) -> Bool {
        guard state == .active, !caseHeld else { return false }
        if canary { return true }
        guard let expiresAt else { return false }
        return expiresAt > now
    }
}

/// The rules of the block list: four eyes, expiry, retesting. Each method changes the entry or throws.
public struct ListPolicy: Sendable, Equatable {
    /// How long a verification lasts (the list is not cumulative: entries must be re-verified).
    public var verificationLifetime: TimeInterval
    /// Consecutive `gone` checks after which an entry is marked for removal.
    public var goneChecksForRemoval: Int

    public init(verificationLifetime: TimeInterval = 7 * 86_400, goneChecksForRemoval: Int = 2) {
        self.verificationLifetime = verificationLifetime
        self.goneChecksForRemoval = goneChecksForRemoval
    }

    /// Validates a proposal.
    public func validateProposal(
        target: ListTarget, criterion: String, criteria: [String], caseID: Int64?,
        dedicatedReason: String?, canary: Bool
    ) throws(ListEntryError) {
        guard !criterion.isEmpty else { throw .criterionMissing }
        if !criteria.isEmpty, !canary, !criteria.contains(criterion) { throw .unknownCriterion(criterion) }
        if !canary, caseID == nil { throw .caseMissing }
        if target.kind == .domain, !canary, (dedicatedReason ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
            throw .dedicatedReasonMissing
        }
    }

    /// A second person verifies a proposal, or re-verifies an active or expired entry: the entry is (again)
    /// published until `now + verificationLifetime`.
    public func verify(_ entry: inout ListEntry, by user: String, at now: Date) throws(ListEntryError) {
        switch entry.state {
        case .proposed, .active, .expired: break
        default: throw .notAllowed(action: "verify", state: entry.state)
        }
        guard user != entry.proposedBy else { throw .sameAsProposer }
        entry.state = .active
        entry.verifiedBy = user
        entry.verifiedAt = now
        entry.expiresAt = now + verificationLifetime
        entry.goneCount = 0
    }

    /// The verifier turns a proposal down.
    public func reject(_ entry: inout ListEntry, by user: String, reason: String) throws(ListEntryError) {
        guard entry.state == .proposed else { throw .notAllowed(action: "reject", state: entry.state) }
        guard user != entry.proposedBy else { throw .sameAsProposer }
        entry.state = .rejected
        entry.removalReason = reason
    }

    /// Marks an active entry whose verification ran out.
    public func expireIfDue(_ entry: inout ListEntry, at now: Date) -> Bool {
        guard entry.state == .active, !entry.canary, let expiresAt = entry.expiresAt, expiresAt <= now else {
            return false
        }
        entry.state = .expired
        return true
    }

    /// Takes an entry off the list for good.
    public func remove(_ entry: inout ListEntry, reason: String) throws(ListEntryError) {
        switch entry.state {
        case .proposed, .active, .expired, .suspended: break
        default: throw .notAllowed(action: "remove", state: entry.state)
        }
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw .reasonMissing }
        entry.state = .removed
        entry.removalReason = reason
    }

    /// An appeal suspends the entry at once.
    public func suspend(_ entry: inout ListEntry) throws(ListEntryError) {
        guard entry.state == .active || entry.state == .expired else {
            throw .notAllowed(action: "suspend", state: entry.state)
        }
        entry.state = .suspended
    }

    /// An appeal that was rejected puts a suspended entry back; it needs a fresh verification if it ran out meanwhile.
    public func reinstate(_ entry: inout ListEntry, at now: Date) throws(ListEntryError) {
        guard entry.state == .suspended else { throw .notAllowed(action: "reinstate", state: entry.state) }
        entry.state = (entry.expiresAt.map { $0 > now } ?? false) ? .active : .expired
    }

    /// Records an automated check. Returns `true` when the entry has now been gone often enough to be removed.
    public func recordCheck(_ entry: inout ListEntry, outcome: ListCheckOutcome, at now: Date) -> Bool {
        entry.lastCheck = outcome
        entry.lastCheckAt = now
        switch outcome {
        case .gone: entry.goneCount += 1
        case .live: entry.goneCount = 0
        case .inconclusive: break
        }
        return entry.goneCount >= goneChecksForRemoval
    }
}

/// Why a list change was refused.
public enum ListEntryError: Error, Sendable, Equatable, CustomStringConvertible {
    case emptyTarget
    case invalidTarget(String)
    case criterionMissing
    case unknownCriterion(String)
    case caseMissing
    case dedicatedReasonMissing
    case sameAsProposer
    case notAllowed(action: String, state: ListEntryState)
    case reasonMissing
    case appealDeciderInvolved

    public var description: String {
        switch self {
        case .emptyTarget: "give the URL, prefix, domain or newsgroup to list"
        case .invalidTarget(let why): "not a valid target: \(why)"
        case .criterionMissing: "choose the published criterion the entry meets"
        case .unknownCriterion(let c): "\"\(c)\" is not one of the published criteria"
        case .caseMissing: "an entry must belong to a case"
        case .dedicatedReasonMissing:
            "a whole domain may be listed only when the whole host is dedicated to such material: record why"
        case .sameAsProposer: "the verifier must be a different person from the proposer (four eyes)"
        case .notAllowed(let action, let state): "cannot \(action) an entry that is \(state.label.lowercased())"
        case .reasonMissing: "give the reason"
        case .appealDeciderInvolved: "an appeal is decided by a supervisor who neither proposed nor verified the entry"
        }
    }
}
