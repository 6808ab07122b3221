import Foundation

/// The national checklist as data: the items of the guidelines' "Key Areas for Consideration" and "A National
/// Checklist", read from JSON files an operator can translate or extend without code.
///
/// File format: `{"parts": [{"id", "title"}], "items": [{"id", "part", "area", "number", "text", "evidence"}]}`,
/// where `evidence` lists what Vigil itself shows live for the item (see ``LiveEvidence``). A later file replaces
/// parts and items with the same `id` (a translation) and adds new ones (an extension), keeping the order.
public struct ChecklistDefinition: Sendable, Equatable, Codable {
    public struct Part: Sendable, Equatable, Codable {
        public var id: String
        public var title: String
    }

    public struct Item: Sendable, Equatable, Codable {
        public var id: String
        public var part: String
        public var area: String
        public var number: String?
        public var text: String
        public var evidence: [LiveEvidence]?
    }

    public var parts: [Part]
    public var items: [Item]

    public init(parts: [Part] = [], items: [Item] = []) {
        self.parts = parts
        self.items = items
    }

    /// Reads one file's JSON.
    /// - Throws: ``ChecklistError/unreadable(_:_:)`` with the file name and the reason.
    public static func parse(_ data: Data, file: String) throws(ChecklistError) -> ChecklistDefinition {
        struct Partial: Decodable {
            var parts: [Part]?
            var items: [Item]?
        }
        let p: Partial
        do { p = try JSONDecoder().decode(Partial.self, from: data) } catch let error as DecodingError {
            throw .unreadable(file, Self.explain(error))
        } catch {
            throw .unreadable(file, "not JSON")
        }
        for item in p.items ?? [] where item.id.isEmpty || item.id.count > 64 || item.text.isEmpty {
            throw .unreadable(file, "every item needs an id (at most 64 characters) and a text")
        }
        return ChecklistDefinition(parts: p.parts ?? [], items: p.items ?? [])
    }

    /// One sentence for an operator: where in the file, and what is wrong.
    static func explain(_ error: DecodingError) -> String {
        func path(_ c: [any CodingKey]) -> String {
            c.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().drop(while: { $0 == "." })
                .description
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])) is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "\(path(context.codingPath)) has the wrong type"
        case .dataCorrupted(let context):
            if context.codingPath.last.map({ $0.stringValue == "evidence" || $0.intValue != nil }) == true,
                context.codingPath.contains(where: { $0.stringValue == "evidence" })
            {
                return "\(path(context.codingPath)): evidence is one of "
                    + LiveEvidence.allCases.map(\.rawValue).joined(separator: ", ")
            }
            return context.codingPath.isEmpty ? "not valid JSON" : "\(path(context.codingPath)) is not valid"
        @unknown default:
            return "not a checklist file"
        }
    }

    /// This definition with `other`'s parts and items laid over it (replacing by id, appending new ones).
    public func merged(with other: ChecklistDefinition) -> ChecklistDefinition {
        var out = self
        for p in other.parts {
            if let i = out.parts.firstIndex(where: { $0.id == p.id }) { out.parts[i] = p } else { out.parts.append(p) }
        }
        for item in other.items {
            if let i = out.items.firstIndex(where: { $0.id == item.id }) {
                out.items[i] = item
            } else {
                out.items.append(item)
            }
        }
        return out
    }

    /// Loads the files that exist, in order, each laid over the ones before.
    public static func load(files: [String]) throws(ChecklistError) -> ChecklistDefinition {
        var out = ChecklistDefinition()
        for path in files where FileManager.default.fileExists(atPath: path) {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw .unreadable(path, "cannot read the file")
            }
            out = out.merged(with: try parse(data, file: path))
        }
        return out
    }

    public func item(_ id: String) -> Item? { items.first { $0.id == id } }
}

/// Where Vigil itself shows that a checklist item is in place.
public enum LiveEvidence: String, Sendable, Codable, CaseIterable {
    /// The hotline takes reports (with the number received this quarter).
    case hotline
    /// A notice-and-takedown process (median report-to-removal time).
    case takedown
    /// A verified, expiring, appealable block list (entries, appeals).
    case blockList = "block-list"
    /// A national hash set (its size).
    case hashSet = "hash-set"
    /// The country's row in the global legislation review.
    case globalReview = "global-review"
    /// Public awareness pages (pages and languages published).
    case awareness
}

/// Where an item stands.
public enum ChecklistStatus: String, Sendable, Codable, CaseIterable {
    case notStarted = "not-started"
    case inProgress = "in-progress"
    case inPlace = "in-place"

    public var label: String {
        switch self {
        case .notStarted: "Not started"
        case .inProgress: "In progress"
        case .inPlace: "In place"
        }
    }
}

/// The self-assessment of one item, as a supervisor or administrator keeps it.
public struct ChecklistEntry: Sendable, Equatable, Codable {
    public var itemID: String
    public var status: ChecklistStatus
    /// What shows the item is in place (free text).
    public var evidence: String
    /// Links to documents (http or https only).
    public var links: [String]
    /// Who is responsible.
    public var owner: String
    /// When the item is next reviewed (`YYYY-MM-DD`).
    public var reviewDate: String?
    public var updatedAt: Date?
    public var updatedBy: String?

    public init(
        itemID: String, status: ChecklistStatus = .notStarted, evidence: String = "", links: [String] = [],
        owner: String = "", reviewDate: String? = nil, updatedAt: Date? = nil, updatedBy: String? = nil
    ) {
        self.itemID = itemID
        self.status = status
        self.evidence = evidence
        self.links = links
        self.owner = owner
        self.reviewDate = reviewDate
        self.updatedAt = updatedAt
        self.updatedBy = updatedBy
    }

    /// Checks the fields a person typed.
    /// - Throws: ``ChecklistError/invalid(_:)`` with a sentence saying what to correct.
    public func validated() throws(ChecklistError) -> ChecklistEntry {
        var e = self
        e.evidence = evidence.trimmingCharacters(in: .whitespacesAndNewlines)
        e.owner = owner.trimmingCharacters(in: .whitespacesAndNewlines)
        guard e.evidence.count <= 10_000 else { throw .invalid("The evidence is longer than 10,000 characters.") }
        guard e.owner.count <= 200 else { throw .invalid("The owner is longer than 200 characters.") }
        e.links = links.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard e.links.count <= 20 else { throw .invalid("At most 20 links.") }
        for l in e.links {
            let lower = l.lowercased()
            guard lower.hasPrefix("https://") || lower.hasPrefix("http://"), SafeMarkdown.isSafeLink(l) else {
                throw .invalid("A link must start with https:// or http:// (\(l.prefix(80))).")
            }
        }
        if let d = reviewDate?.trimmingCharacters(in: .whitespaces), !d.isEmpty {
            guard Self.parseDay(d) != nil else { throw .invalid("The review date must be a date such as 2027-03-31.") }
            e.reviewDate = d
        } else {
            e.reviewDate = nil
        }
        return e
    }

    /// Whether the review date has passed at `now`.
    public func reviewIsDue(at now: Date) -> Bool {
        guard let d = reviewDate, let day = Self.parseDay(d) else { return false }
        return day + 86_400 <= now
    }

    /// Reads `YYYY-MM-DD` (UTC midnight).
    public static func parseDay(_ text: String) -> Date? {
        let p = text.split(separator: "-")
        guard p.count == 3, p[0].count == 4, p[1].count == 2, p[2].count == 2,
            let y = Int(p[0]), let m = Int(p[1]), let d = Int(p[2]), (1...31).contains(d),
            let month = Month(year: y, month: m)
        else { return nil }
        let date = month.start + Double(d - 1) * 86_400
        return Month(containing: date) == month ? date : nil
    }
}

/// The checklist could not be read or a change was refused.
public enum ChecklistError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(String, String)
    case invalid(String)

    public var description: String {
        switch self {
        case .unreadable(let file, let reason): "\(file): \(reason)"
        case .invalid(let s): s
        }
    }
}
