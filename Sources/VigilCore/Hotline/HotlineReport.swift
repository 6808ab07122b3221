import Foundation

/// What a report is about. The raw values are stable: they appear in forms, the API and the database.
public enum ReportKind: String, Sendable, Codable, CaseIterable {
    /// A web page, image or file reachable by a URL.
    case url
    /// A newsgroup, or one message in it.
    case newsgroup
    /// A file or share on a peer-to-peer network (magnet link, ed2k link, info-hash).
    case p2p
    /// An account or profile on a chat, social or gaming service.
    case profile
    /// Worrying behaviour towards a child, described in free text.
    case behaviour
}

/// The kind of service a reported profile is on.
public enum ProfileService: String, Sendable, Codable, CaseIterable {
    case chat
    case social
    case gaming
    case other
}

/// What kind of worrying behaviour towards a child a reporter describes.
public enum BehaviourConcern: String, Sendable, Codable, CaseIterable, Comparable {
    /// An adult building trust with a child to abuse them.
    case grooming
    /// Threats to share sexual images unless the child pays or sends more.
    case sextortion
    case bullying
    case threats
    case other

    /// Form order.
    public static func < (a: Self, b: Self) -> Bool {
        allCases.firstIndex(of: a) ?? 0 < allCases.firstIndex(of: b) ?? 0
    }
}

/// Who sent a report. The source decides the service-level deadline (see ``TriagePolicy``).
public enum ReportSource: String, Sendable, Codable, CaseIterable {
    /// A member of the public, through the public site or the anonymous API.
    case publicReporter = "public"
    /// Another country's hotline (an INHOPE partner).
    case hotlinePartner = "hotline"
    /// The police.
    case police
    /// A platform (an electronic service provider) reporting what it found.
    case platform
    /// A professional: teacher, social worker, researcher, trusted flagger.
    case professional
}

/// A report as it arrives from the form or the API: every field as typed, nothing checked yet.
public struct ReportSubmission: Sendable, Equatable {
    /// What the report is about; decides which fields are required.
    public var kind: ReportKind
    /// The address of the page or file (kind ``ReportKind/url``).
    public var url: String?
    /// The newsgroup name (kind ``ReportKind/newsgroup``).
    public var newsgroup: String?
    /// The Message-ID of one article in the newsgroup, optional.
    public var messageID: String?
    /// A magnet link, ed2k link or info-hash (kind ``ReportKind/p2p``).
    public var p2p: String?
    /// The kind of service for a profile.
    public var serviceKind: ProfileService?
    /// The name of the app, site or game ("ExampleChat").
    public var service: String?
    /// The user name, user ID or profile address.
    public var profile: String?
    /// The behaviours a reporter ticked (kind ``ReportKind/behaviour``).
    public var concerns: Set<BehaviourConcern>
    /// Free text: what the reporter saw or what happened.
    public var details: String?
    /// "A child is in immediate danger."
    public var childInImmediateDanger: Bool
    /// How to reach the reporter for updates; nil for an anonymous report.
    public var contact: String?
    /// Who sends the report.
    public var source: ReportSource

    /// A submission; every field but the kind is optional here and checked by ``validated()``.
    public init(
        kind: ReportKind, url: String? = nil, newsgroup: String? = nil, messageID: String? = nil, p2p: String? = nil,
        serviceKind: ProfileService? = nil, service: String? = nil, profile: String? = nil,
        concerns: Set<BehaviourConcern> = [], details: String? = nil, childInImmediateDanger: Bool = false,
        contact: String? = nil, source: ReportSource = .publicReporter
    ) {
        self.kind = kind
        self.url = url
        self.newsgroup = newsgroup
        self.messageID = messageID
        self.p2p = p2p
        self.serviceKind = serviceKind
        self.service = service
        self.profile = profile
        self.concerns = concerns
        self.details = details
        self.childInImmediateDanger = childInImmediateDanger
        self.contact = contact
        self.source = source
    }

    /// Checks the submission and turns it into a ``ValidatedReport``.
    /// - Throws: ``ReportValidationError`` listing every field that is wrong, in form order.
    public func validated() throws(ReportValidationError) -> ValidatedReport {
        try ValidatedReport(self)
    }
}

/// The form and API fields, named as in ``ReportSubmission``. The raw value is the form field name.
public enum ReportField: String, Sendable, Codable, CaseIterable {
    case kind, url, newsgroup, messageID = "message_id", p2p, serviceKind = "service_kind", service, profile
    case concerns, details, contact
}

/// One thing wrong with one field.
public struct ReportFieldIssue: Sendable, Equatable, CustomStringConvertible {
    /// What is wrong.
    public enum Problem: Sendable, Equatable {
        /// The field is needed for this kind of report and is empty.
        case required
        /// The field is longer than `limit` characters (Unicode scalars).
        case tooLong(limit: Int)
        /// The field has a character that is not allowed (a control character).
        case invalidCharacters
        /// The field does not read as what it should be; `reason` is a short English reason for logs and the API.
        case invalid(reason: String)
    }

    /// The field, named as in the form.
    public var field: ReportField
    /// What is wrong with it.
    public var problem: Problem

    /// An issue with `field`.
    public init(field: ReportField, problem: Problem) {
        self.field = field
        self.problem = problem
    }

    /// The catalog key of the message shown beside the field (see the translation files): `error.required`,
    /// `error.too_long` (placeholder `{limit}`), `error.invalid_characters`, or `error.invalid.FIELD`.
    public var messageKey: String {
        switch problem {
        case .required: "error.required"
        case .tooLong: "error.too_long"
        case .invalidCharacters: "error.invalid_characters"
        case .invalid: "error.invalid.\(field.rawValue)"
        }
    }

    /// The values for the message's placeholders.
    public var messageArguments: [String: String] {
        if case .tooLong(let limit) = problem { return ["limit": String(limit)] }
        return [:]
    }

    /// `field: reason` in English, for the API and logs.
    public var description: String {
        switch problem {
        case .required: "\(field.rawValue): required"
        case .tooLong(let limit): "\(field.rawValue): longer than \(limit) characters"
        case .invalidCharacters: "\(field.rawValue): contains control characters"
        case .invalid(let reason): "\(field.rawValue): \(reason)"
        }
    }
}

/// A submission was refused; ``issues`` names every field that is wrong.
public struct ReportValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Every problem, in form order.
    public var issues: [ReportFieldIssue]

    /// An error listing `issues`.
    public init(issues: [ReportFieldIssue]) { self.issues = issues }

    /// The issues for one field.
    public func issues(for field: ReportField) -> [ReportFieldIssue] { issues.filter { $0.field == field } }

    /// Every issue, separated by semicolons.
    public var description: String { issues.map(\.description).joined(separator: "; ") }
}

/// The key under which reports join one open case. Two reports with equal keys are the same thing reported twice.
public struct CaseKey: Sendable, Hashable, Codable, CustomStringConvertible {
    /// `https://example.com/a`, `news:alt.example`, `urn:btih:…`, `profile:gaming:examplegame:someone`.
    public let rawValue: String

    /// A key as stored.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// The key.
    public var description: String { rawValue }
}

/// What a validated report points at.
public enum ReportSubject: Sendable, Hashable {
    /// A web page or file, canonicalised.
    case web(ReportTarget)
    /// A newsgroup, normalised, and optionally one article in it (`<id@host>`).
    case newsgroup(ReportTarget, messageID: String?)
    /// A P2P file.
    case p2p(ReportTarget)
    /// A profile: the kind of service, its name, the user name or ID as given (trimmed), and its canonical address
    /// when the reporter gave one.
    case profile(ProfileService, service: String?, identifier: String, address: ReportTarget?)
    /// Worrying behaviour; the details are in the report's free text.
    case behaviour(concerns: Set<BehaviourConcern>)
}

/// A report that passed validation: the fields trimmed and within limits, the target canonicalised.
public struct ValidatedReport: Sendable, Equatable {
    /// Longest accepted values, in Unicode scalars.
    public enum Limit {
        /// A URL: as long as the canonicaliser accepts.
        public static let url = CanonicalURL.maxInputLength
        /// A newsgroup name.
        public static let newsgroup = Newsgroup.maxLength
        /// RFC 5536 limits a Message-ID to 250 octets.
        public static let messageID = 250
        /// A magnet or ed2k link (magnet links with trackers run long).
        public static let p2p = 8_192
        /// The name of an app, site or game.
        public static let service = 100
        /// A user name, ID or profile address.
        public static let profile = 2_048
        /// The free-text description.
        public static let details = 5_000
        /// An e-mail address (RFC 5321's path limit) or phone number.
        public static let contact = 254
    }

    /// What the report is about.
    public let kind: ReportKind
    /// What it points at, canonicalised.
    public let subject: ReportSubject
    /// The free text, trimmed; nil when empty.
    public let details: String?
    /// The reporter said a child is in immediate danger.
    public let childInImmediateDanger: Bool
    /// How to reach the reporter; nil for an anonymous report. Seal ``ReporterContact/text`` before storing it
    /// (``ContactSealer``).
    public let contact: ReporterContact?
    /// Who sent it.
    public let source: ReportSource
    /// A web report's URL as given (trimmed): the canonical form drops the port and the fragment, and a recheck or a
    /// notice needs the address that can actually be fetched.
    public let reportedURL: String?

    /// Whether the reporter left a way to reach them.
    public var isAnonymous: Bool { contact == nil }

    /// The key of the case this report joins: the canonical URL, `news:GROUP`, the P2P key, or for a profile its
    /// canonical address or `profile:SERVICEKIND:SERVICE:IDENTIFIER` in lower case. Nil for behaviour reports, which
    /// always open a case of their own: two descriptions of behaviour are never "the same thing" by text.
    public var caseKey: CaseKey? {
        switch subject {
        case .web(let target), .newsgroup(let target, _), .p2p(let target):
            return CaseKey(rawValue: target.canonicalKey)
        case .profile(let kind, let service, let identifier, let address):
            if let address { return CaseKey(rawValue: address.canonicalKey) }
            let name = (service ?? "").lowercased()
            return CaseKey(rawValue: "profile:\(kind.rawValue):\(name):\(identifier.lowercased())")
        case .behaviour:
            return nil
        }
    }

    init(_ s: ReportSubmission) throws(ReportValidationError) {
        var issues: [ReportFieldIssue] = []
        func text(_ value: String?, _ field: ReportField, limit: Int, multiline: Bool = false) -> String? {
            guard let trimmed = value?.trimmingCharacters(in: .whitespacesAndNewlines), !trimmed.isEmpty else {
                return nil
            }
            if trimmed.unicodeScalars.count > limit {
                issues.append(.init(field: field, problem: .tooLong(limit: limit)))
                return nil
            }
            let allowed: (Unicode.Scalar) -> Bool = {
                let v = $0.value
                if multiline && (v == 0x0A || v == 0x0D || v == 0x09) { return true }
                return !(v < 0x20 || (v >= 0x7F && v < 0xA0))
            }
            guard trimmed.unicodeScalars.allSatisfy(allowed) else {
                issues.append(.init(field: field, problem: .invalidCharacters))
                return nil
            }
            return trimmed
        }
        func required(_ value: String?, _ field: ReportField) -> String? {
            if value == nil, !issues.contains(where: { $0.field == field }) {
                issues.append(.init(field: field, problem: .required))
            }
            return value
        }
        func invalid(_ field: ReportField, _ error: URLCanonicalizationError) {
            issues.append(.init(field: field, problem: .invalid(reason: error.description)))
        }

        let details = text(s.details, .details, limit: Limit.details, multiline: true)
        var contact: ReporterContact?
        if let typed = text(s.contact, .contact, limit: Limit.contact) {
            contact = ReporterContact(typed)
            if contact == nil {
                issues.append(
                    .init(field: .contact, problem: .invalid(reason: "not an e-mail address or phone number")))
            }
        }
        let kindOfService = s.serviceKind ?? .other
        var subject: ReportSubject?
        var reportedURL: String?
        switch s.kind {
        case .url:
            if let url = required(text(s.url, .url, limit: Limit.url), .url) {
                do throws(URLCanonicalizationError) {
                    subject = .web(try ReportTarget(url: url))
                    reportedURL = url
                } catch { invalid(.url, error) }
            }
        case .newsgroup:
            let group = required(text(s.newsgroup, .newsgroup, limit: Limit.newsgroup), .newsgroup)
            var messageID: String?
            if let rawID = text(s.messageID, .messageID, limit: Limit.messageID) {
                messageID = Self.normalizeMessageID(rawID)
                if messageID == nil {
                    issues.append(.init(field: .messageID, problem: .invalid(reason: "not a Message-ID (<id@host>)")))
                }
            }
            if let group {
                do throws(URLCanonicalizationError) {
                    subject = .newsgroup(try ReportTarget(newsgroup: group), messageID: messageID)
                } catch { invalid(.newsgroup, error) }
            }
        case .p2p:
            if let link = required(text(s.p2p, .p2p, limit: Limit.p2p), .p2p) {
                do throws(URLCanonicalizationError) {
                    subject = .p2p(try ReportTarget(p2p: link))
                } catch { invalid(.p2p, error) }
            }
        case .profile:
            let service = text(s.service, .service, limit: Limit.service)
            if let identifier = required(text(s.profile, .profile, limit: Limit.profile), .profile) {
                let lower = identifier.lowercased()
                if lower.hasPrefix("http://") || lower.hasPrefix("https://") || lower.hasPrefix("www.") {
                    do throws(URLCanonicalizationError) {
                        let address = try ReportTarget(url: identifier)
                        subject = .profile(kindOfService, service: service, identifier: identifier, address: address)
                    } catch { invalid(.profile, error) }
                } else if required(service, .service) != nil {
                    subject = .profile(kindOfService, service: service, identifier: identifier, address: nil)
                }
            }
        case .behaviour:
            if required(details, .details) != nil { subject = .behaviour(concerns: s.concerns) }
        }
        guard issues.isEmpty, let subject else {
            let order = ReportField.allCases
            throw ReportValidationError(
                issues: issues.sorted {
                    (order.firstIndex(of: $0.field) ?? 0) < (order.firstIndex(of: $1.field) ?? 0)
                })
        }
        self.kind = s.kind
        self.subject = subject
        self.details = details
        self.childInImmediateDanger = s.childInImmediateDanger
        self.contact = contact
        self.source = s.source
        self.reportedURL = reportedURL
    }

    /// `<local@domain>` with the angle brackets, or nil when the text is not a Message-ID (RFC 5536: printable ASCII
    /// without spaces, one `@` with text on both sides).
    public static func normalizeMessageID(_ text: String) -> String? {
        var body = Substring(text)
        if body.hasPrefix("news:") { body = body.dropFirst(5) }
        if body.hasPrefix("<") && body.hasSuffix(">") && body.count >= 2 { body = body.dropFirst().dropLast() }
        guard body.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "<") && $0 != UInt8(ascii: ">") })
        else { return nil }
        let parts = body.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        return "<\(body)>"
    }
}

/// How a reporter asked to be kept informed: an e-mail address or a phone number.
public enum ReporterContact: Sendable, Hashable, Codable {
    /// An address `local@domain`, the domain in lower case.
    case email(String)
    /// A phone number as `+` (when given) and 6 to 20 digits, without spaces or punctuation.
    case phone(String)

    /// Reads what a reporter typed: an e-mail address (one `@`, no spaces, a dot in the domain) or a phone number
    /// (digits with spaces, dots, dashes, slashes or parentheses, an optional leading `+`); nil for anything else.
    public init?(_ typed: String) {
        let text = typed.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.contains("@") {
            let parts = text.split(separator: "@", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, parts[1].count >= 3, parts[1].contains("."),
                !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
                text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0 != "<" && $0 != ">" && $0 != "," })
            else { return nil }
            self = .email("\(parts[0])@\(parts[1].lowercased())")
            return
        }
        var digits = ""
        for (i, c) in text.enumerated() {
            if c.isASCII, c.isNumber {
                digits.append(c)
            } else if c == "+" && i == 0 {
                digits.append(c)
            } else if !" .-/()".contains(c) {
                return nil
            }
        }
        let count = digits.filter(\.isNumber).count
        guard (6...20).contains(count) else { return nil }
        self = .phone(digits)
    }

    /// The contact as stored (sealed) and used: the address or the number.
    public var text: String {
        switch self {
        case .email(let address): address
        case .phone(let number): number
        }
    }
}
