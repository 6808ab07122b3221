import Foundation

/// ICMEC's review of child-abuse-material legislation in the 187 INTERPOL member countries ("Child Pornography:
/// Model Legislation & Global Review", reprinted in the ITU Guidelines for Policy Makers on Child Online Protection,
/// 2009): one row per country, five criteria, footnote numbers.
public struct GlobalReview: Sendable, Equatable {
    /// The five criteria of the review, in the order of the printed table.
    public enum Criterion: String, Sendable, CaseIterable, Codable {
        case specificLegislation = "specific_legislation"
        case definition
        case computerFacilitated = "computer_facilitated"
        case simplePossession = "simple_possession"
        case ispReporting = "isp_reporting"

        /// The key of its column heading in the public catalog (`review.criterion.definition`, …).
        public var messageKey: String { "review.criterion.\(rawValue)" }
    }

    /// One country's row.
    public struct Row: Sendable, Equatable, Codable {
        public var country: String
        /// Which criteria the country meets.
        public var meets: Set<Criterion>
        /// The guidelines' footnote numbers attached to the country.
        public var footnotes: [Int]

        public init(country: String, meets: Set<Criterion>, footnotes: [Int] = []) {
            self.country = country
            self.meets = meets
            self.footnotes = footnotes
        }

        /// How many of the five criteria are met.
        public var score: Int { meets.count }
        public func meets(_ c: Criterion) -> Bool { meets.contains(c) }
    }

    /// The rows, in the table's order (alphabetical by the printed name).
    public let rows: [Row]

    public init(rows: [Row]) { self.rows = rows }

    /// Reads the tab-separated table: a header `country	specific_legislation	definition	computer_facilitated
    /// simple_possession	isp_reporting	footnotes`, then one row per country with `yes`/`no` and comma-separated
    /// footnote numbers.
    /// - Throws: ``GlobalReviewError`` naming the line that does not read.
    public static func parse(tsv text: String) throws(GlobalReviewError) -> GlobalReview {
        var lines = text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map {
            $0.hasSuffix("\r") ? $0.dropLast() : $0
        }
        guard let header = lines.first else { throw .empty }
        let columns = header.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        let expected = ["country"] + Criterion.allCases.map(\.rawValue) + ["footnotes"]
        guard columns == expected else { throw .badHeader(columns.joined(separator: ",")) }
        lines.removeFirst()
        var rows: [Row] = []
        for (n, line) in lines.enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard f.count == 6 || f.count == 7, !f[0].isEmpty else { throw .badRow(line: n + 2) }
            var meets: Set<Criterion> = []
            for (i, c) in Criterion.allCases.enumerated() {
                switch f[i + 1].lowercased() {
                case "yes": meets.insert(c)
                case "no": break
                default: throw .badRow(line: n + 2)
                }
            }
            let notes =
                f.count == 7
                ? f[6].split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } : []
            rows.append(Row(country: f[0], meets: meets, footnotes: notes))
        }
        return GlobalReview(rows: rows)
    }

    /// Ways of narrowing the table, as the public page offers them.
    public enum Filter: String, Sendable, CaseIterable {
        case all
        /// Countries meeting all five criteria.
        case allFive = "all-five"
        /// Countries meeting all criteria except ISP reporting.
        case allButISP = "all-but-isp"
        /// Countries with legislation specific to child abuse material.
        case specific
        /// Countries meeting none of the criteria.
        case none

        public func includes(_ row: Row) -> Bool {
            switch self {
            case .all: true
            case .allFive: row.score == 5
            case .allButISP: row.score == 4 && !row.meets(.ispReporting)
            case .specific: row.meets(.specificLegislation)
            case .none: row.meets.isEmpty
            }
        }
    }

    /// The order of the table.
    public enum Sort: String, Sendable, CaseIterable {
        case country
        /// Most criteria met first, then by name.
        case score
    }

    /// The rows that pass `filter` and whose name contains `search` (ignoring case and accents), in `sort` order.
    public func rows(filter: Filter = .all, search: String = "", sort: Sort = .country, descending: Bool = false)
        -> [Row]
    {
        let needle = search.trimmingCharacters(in: .whitespaces).folding(
            options: [.caseInsensitive, .diacriticInsensitive], locale: nil)
        var out = rows.filter { filter.includes($0) }
        if !needle.isEmpty {
            out = out.filter {
                $0.country.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil).contains(needle)
            }
        }
        switch sort {
        case .country: out.sort { $0.country.localizedStandardCompare($1.country) == .orderedAscending }
        case .score:
            out.sort {
                $0.score != $1.score
                    ? $0.score > $1.score : $0.country.localizedStandardCompare($1.country) == .orderedAscending
            }
        }
        return descending ? out.reversed() : out
    }

    /// The summary counts the guidelines quote.
    public struct Summary: Sendable, Equatable {
        public var countries: Int
        public var allFive: Int
        public var allButISP: Int
        public var none: Int
        /// Countries meeting each criterion.
        public var meeting: [Criterion: Int]
    }

    public var summary: Summary {
        var meeting: [Criterion: Int] = [:]
        for c in Criterion.allCases { meeting[c] = rows.filter { $0.meets(c) }.count }
        return Summary(
            countries: rows.count, allFive: rows.filter { Filter.allFive.includes($0) }.count,
            allButISP: rows.filter { Filter.allButISP.includes($0) }.count,
            none: rows.filter { $0.meets.isEmpty }.count,
            meeting: meeting)
    }

    /// The row of a country by its printed name (ignoring case), if the review has it.
    public func row(named name: String) -> Row? {
        let n = name.trimmingCharacters(in: .whitespaces).lowercased()
        return rows.first { $0.country.lowercased() == n }
    }
}

/// The review table could not be read.
public enum GlobalReviewError: Error, Sendable, Equatable, CustomStringConvertible {
    case empty
    case badHeader(String)
    case badRow(line: Int)

    public var description: String {
        switch self {
        case .empty: "the global review table is empty"
        case .badHeader(let h): "the global review table's header is not as expected: \(h)"
        case .badRow(let l): "line \(l) of the global review table is not a country with five yes/no columns"
        }
    }
}
