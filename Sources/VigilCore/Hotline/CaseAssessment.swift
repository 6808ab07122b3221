import Foundation

/// The outcome of an assessment, as ICCAM (INHOPE's case-exchange system) classifies it.
public enum AssessmentOutcome: String, Sendable, Codable, CaseIterable {
    /// Illegal under the INTERPOL baseline: illegal in every country.
    case internationallyIllegal = "baseline"
    /// Illegal under this country's law (name the provision).
    case nationallyIllegal = "national"
    /// Assessed and found not illegal.
    case notIllegal = "not-illegal"
    /// Not something this hotline handles (adult content, fraud, copyright, …).
    case outOfRemit = "out-of-remit"
    /// The same content as another case.
    case duplicate

    /// Whether the outcome allows action (a notice, a referral, a list entry).
    public var isIllegal: Bool { self == .internationallyIllegal || self == .nationallyIllegal }
}

/// What kind of media the assessed content is (named apart from VigilMedia's `MediaType`, which sniffs file formats).
public enum ContentMediaType: String, Sendable, Codable, CaseIterable {
    case image, video, audio, text, mixed, other
}

/// The apparent age group of the youngest victim, as ICCAM records it.
public enum ApparentAgeGroup: String, Sendable, Codable, CaseIterable {
    /// Baby or toddler.
    case infant
    /// A child before puberty.
    case prepubescent
    /// A child in puberty.
    case pubescent
    /// The age cannot be told from the content.
    case notDetermined = "not-determined"
}

/// An analyst's assessment of a case.
public struct CaseAssessment: Sendable, Equatable, Codable {
    /// What the content is, in law.
    public var outcome: AssessmentOutcome
    /// The national legal provision, from the operator's list (needed for ``AssessmentOutcome/nationallyIllegal``).
    public var legalProvision: String?
    /// The content category, from the operator's scheme.
    public var category: String?
    /// Image, video, …
    public var mediaType: ContentMediaType?
    /// The apparent age group of the youngest victim.
    public var apparentAgeGroup: ApparentAgeGroup?
    /// The analyst's notes, for colleagues (never shown to the reporter).
    public var notes: String

    /// An assessment; only the outcome is always needed.
    public init(
        outcome: AssessmentOutcome, legalProvision: String? = nil, category: String? = nil,
        mediaType: ContentMediaType? = nil, apparentAgeGroup: ApparentAgeGroup? = nil, notes: String = ""
    ) {
        self.outcome = outcome
        self.legalProvision = legalProvision
        self.category = category
        self.mediaType = mediaType
        self.apparentAgeGroup = apparentAgeGroup
        self.notes = notes
    }
}

/// A decision that leads to action outside the hotline. Each may need a second analyst (see ``FourEyesPolicy``).
public enum CaseDecision: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Send a notice to the host or the service.
    case notice
    /// Refer the case to national law enforcement.
    case lawEnforcementReferral
    /// Refer the case to the partner hotline in `country` (ISO 3166-1 alpha-2, upper case), where the content is
    /// hosted.
    case partnerReferral(country: String)
    /// Propose an entry on the block list.
    case listEntry

    /// The kind, without the country.
    public var kind: Kind {
        switch self {
        case .notice: .notice
        case .lawEnforcementReferral: .lawEnforcementReferral
        case .partnerReferral: .partnerReferral
        case .listEntry: .listEntry
        }
    }

    /// Decision kinds, for the four-eyes policy.
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        case notice
        case lawEnforcementReferral = "le-referral"
        case partnerReferral = "partner-referral"
        case listEntry = "list-entry"
    }

    /// `notice`, `le-referral`, `partner-referral:DE`, `list-entry`.
    public var description: String {
        if case .partnerReferral(let country) = self { return "partner-referral:\(country)" }
        return kind.rawValue
    }
}

/// Which decisions need a second analyst's confirmation before they take effect.
public struct FourEyesPolicy: Sendable, Equatable, Codable {
    /// The decision kinds that need confirmation.
    public var required: Set<CaseDecision.Kind>

    /// By default only list proposals need a second analyst.
    public init(required: Set<CaseDecision.Kind> = [.listEntry]) { self.required = required }

    /// Every decision needs a second analyst.
    public static let all = FourEyesPolicy(required: Set(CaseDecision.Kind.allCases))
    /// No decision needs a second analyst.
    public static let none = FourEyesPolicy(required: [])

    /// Whether `decision` needs confirmation.
    public func requiresConfirmation(_ decision: CaseDecision) -> Bool { required.contains(decision.kind) }
}

/// A law-enforcement hold: while it lasts no notice is sent, no list entry is published and no partner hotline is
/// told, so that an investigation is not tipped off.
///
/// A hold may also say *notify after* a date before its expiry: from then on notices to the host may leave (the
/// investigators have what they need from the live content), while list publication and partner referrals stay
/// held until the hold ends.
public struct CaseHold: Sendable, Equatable, Codable {
    /// Why; shown to law-enforcement liaison users only, never to analysts and never in the audit details.
    public var reason: String
    /// When the hold ends by itself.
    public var expiresAt: Date
    /// The user who placed it.
    public var placedBy: String
    /// From when notices to the host may leave although the hold goes on; nil keeps notices back for the whole hold.
    public var notifyAfter: Date?

    /// A hold placed by `placedBy` until `expiresAt`, optionally letting notices leave from `notifyAfter`.
    public init(reason: String, expiresAt: Date, placedBy: String, notifyAfter: Date? = nil) {
        self.reason = reason
        self.expiresAt = expiresAt
        self.placedBy = placedBy
        self.notifyAfter = notifyAfter
    }

    /// Whether this hold keeps `action` back at `time`.
    public func keepsBack(_ action: CaseAction, at time: Date) -> Bool {
        guard expiresAt > time, action.isDeferredByHold else { return false }
        if case .sendNotice = action, let notifyAfter, notifyAfter <= time { return false }
        return true
    }
}

/// What a reporter sees on the status page: deliberately coarse.
public enum PublicCaseStatus: String, Sendable, Codable, CaseIterable {
    case received
    case beingAssessed = "being-assessed"
    case actionTaken = "action-taken"
    case closed

    /// The catalog key of the status text: `status.received`, `status.being_assessed`, …
    public var messageKey: String { "status.\(rawValue.replacingOccurrences(of: "-", with: "_"))" }
}
