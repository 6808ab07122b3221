import Foundation

/// A bank of the national hash set: where its records came from and how they match. Every record belongs to one
/// bank. A `match` bank answers queries; a `negative` bank (known false positives, known benign material) suppresses
/// them: a query within a negative bank's radius of one of its hashes is answered "no match", with the reason kept
/// for staff. A disabled bank does neither.
public struct HashBank: Sendable, Codable, Equatable, Identifiable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case match
        case negative
    }

    /// The bank's name: `national`, `icse-import`, `partner:XX`, `platform:NAME`, `known-benign`, `false-positive`
    /// or another lower-case name.
    public let name: String
    public var label: String
    public var kind: Kind
    public var enabled: Bool
    /// The PDQ radius for this bank's hashes (0–63): lower for noisy sources.
    public var pdqRadius: Int
    /// The share of queries this bank answers (1 = every query; less samples a bank under evaluation).
    public var sampling: Double
    /// The bank's source already reviews each hash (an admin's judgement): its records need one confirmation.
    public var reviewed: Bool

    public var id: String { name }

    public init(
        name: String, label: String, kind: Kind = .match, enabled: Bool = true, pdqRadius: Int = 31,
        sampling: Double = 1, reviewed: Bool = false
    ) {
        self.name = name
        self.label = label
        self.kind = kind
        self.enabled = enabled
        self.pdqRadius = pdqRadius
        self.sampling = sampling
        self.reviewed = reviewed
    }

    /// The banks every installation has.
    public static let builtIn: [HashBank] = [
        HashBank(name: "national", label: "National hash set"),
        // A match bank: its hits come back flagged known-benign, so triage can set those files aside.
        HashBank(name: "known-benign", label: "Known benign files (NSRL and the like)", reviewed: true),
        HashBank(name: "false-positive", label: "Known false positives", kind: .negative, pdqRadius: 31),
    ]

    public static let defaultName = "national"
    public static let falsePositiveName = "false-positive"
    public static let knownBenignName = "known-benign"

    /// Checks a bank's name and settings; returns the first problem, or nil.
    public static func problem(name: String, pdqRadius: Int, sampling: Double) -> String? {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-_:.")
        if name.isEmpty || name.count > 64 || !name.allSatisfy(allowed.contains)
            || !(name.first?.isLetter ?? false)
        {
            return
                "a bank's name is 1–64 characters of a–z, 0–9, '-', '_', ':' and '.', starting with a letter (e.g. partner:fr)"
        }
        if !(0...63).contains(pdqRadius) { return "a bank's PDQ radius is between 0 and 63" }
        if !(sampling > 0 && sampling <= 1) { return "a bank's sampling is a share above 0 and at most 1" }
        return nil
    }

    /// Whether the bank answers a query whose sampling key is `key` (stable per query, so an answer can be repeated).
    public func samples(_ key: UInt64) -> Bool {
        sampling >= 1 || Double(key % 10_000) < sampling * 10_000
    }
}
