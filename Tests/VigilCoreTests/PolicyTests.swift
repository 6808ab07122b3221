import Foundation
import Testing
import VigilCore

@Suite("Safe Markdown for awareness pages")
struct SafeMarkdownTests {
    @Test("headings, paragraphs, lists, emphasis and allowed links render")
    func subset() {
        let html = SafeMarkdown.render(
            """
            # Title

            Some *kind* words and **strong** ones, with `code`.
            A second line.

            - one
            - [report](/report)

            1. first
            2. [site](https://example.test/a?b=1&c=2)
            """)
        #expect(html.contains("<h1>Title</h1>"))
        #expect(
            html.contains(
                "<p>Some <em>kind</em> words and <strong>strong</strong> ones, with <code>code</code>.\nA second line.</p>"
            ))
        #expect(html.contains("<ul>\n<li>one</li>\n<li><a href=\"/report\">report</a></li>\n</ul>"))
        #expect(
            html.contains(
                "<ol>\n<li>first</li>\n<li><a href=\"https://example.test/a?b=1&amp;c=2\" rel=\"noopener noreferrer\">site</a></li>\n</ol>"
            ))
        #expect(SafeMarkdown.title(of: "intro\n# The **title**\n") == "The title")
    }

    @Test("raw HTML is shown as text, never as markup")
    func escapesHTML() {
        let html = SafeMarkdown.render(
            "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)> & \"quotes\" 'single'\n\n# <b>head</b>")
        #expect(!html.contains("<script"))
        #expect(!html.contains("<img"))
        #expect(!html.contains("<b>"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains("&amp; &quot;quotes&quot; &#39;single&#39;"))
        #expect(html.contains("<h1>&lt;b&gt;head&lt;/b&gt;</h1>"))
    }

    @Test(
        "links to javascript:, data:, vbscript: and disguised schemes keep only their text",
        arguments: [
            "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "data:text/html;base64,PHNjcmlwdD4=",
            "vbscript:msgbox", "java\tscript:alert(1)", "//evil.test/x", "/\\evil.test", "file:///etc/passwd",
            "ftp://example.test/",
        ])
    func rejectsSchemes(target: String) {
        let html = SafeMarkdown.render("[click](\(target))")
        #expect(!html.contains("<a"), "\(target) must not become a link")
        #expect(html.contains("click"))
        #expect(!SafeMarkdown.isSafeLink(target.trimmingCharacters(in: .whitespaces)))
    }

    @Test("an allowed link cannot break out of its attribute")
    func attributeEscaping() {
        let html = SafeMarkdown.render("[x](https://example.test/\"onmouseover=alert(1))")
        #expect(html.contains("href=\"https://example.test/&quot;onmouseover=alert(1\""))
        #expect(!html.contains("\"onmouseover"))
        #expect(SafeMarkdown.isSafeLink("mailto:help@example.test"))
        #expect(SafeMarkdown.isSafeLink("page#part"))
    }

    @Test("snake_case words and lone markers stay text")
    func lonelyMarkers() {
        #expect(SafeMarkdown.render("a_b_c and 2 * 3 * 4") == "<p>a_b_c and 2 * 3 * 4</p>\n")
        #expect(SafeMarkdown.render("\\*not em\\*") == "<p>*not em*</p>\n")
    }
}

@Suite("Global legislation review")
struct GlobalReviewTests {
    static func review() throws -> GlobalReview {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("Sources/VigilWeb/Resources/Policy/global-review-2009.tsv").path
        return try GlobalReview.parse(tsv: try String(contentsOfFile: path, encoding: .utf8))
    }

    @Test("the shipped table has 187 countries and the guidelines' totals")
    func counts() throws {
        let r = try Self.review()
        let s = r.summary
        #expect(s.countries == 187)
        #expect(s.allFive == 5)
        #expect(
            r.rows(filter: .allFive).map(\.country) == [
                "Australia", "Belgium", "France", "South Africa", "United States",
            ])
        #expect(s.allButISP == 24)
        #expect(s.meeting[.specificLegislation] == 94)
        #expect(s.none == 93)
        // As printed (the guidelines' footnote says 54, 24 and 36).
        let withLaw = r.rows(filter: .specific)
        #expect(withLaw.filter { !$0.meets(.definition) }.count == 55)
        #expect(withLaw.filter { !$0.meets(.computerFacilitated) }.count == 26)
        #expect(withLaw.filter { !$0.meets(.simplePossession) }.count == 38)
        #expect(r.row(named: "china")?.footnotes == [41, 42, 43])
    }

    @Test("search ignores case and accents; sort by score puts the five first")
    func searchAndSort() throws {
        let r = try Self.review()
        #expect(r.rows(search: "cote").map(\.country) == ["Côte d'Ivoire"])
        #expect(
            r.rows(sort: .score).prefix(5).map(\.country) == [
                "Australia", "Belgium", "France", "South Africa", "United States",
            ])
        #expect(r.rows(filter: .none, search: "afgh").count == 1)
    }

    @Test("a malformed table names its line")
    func malformed() {
        #expect(throws: GlobalReviewError.badRow(line: 2)) {
            try GlobalReview.parse(
                tsv:
                    "country\tspecific_legislation\tdefinition\tcomputer_facilitated\tsimple_possession\tisp_reporting\tfootnotes\nX\tyes\tmaybe\tno\tno\tno\t\n"
            )
        }
    }
}

@Suite("Transparency figures")
struct TransparencyTests {
    struct FakeSource: TransparencySource {
        var figures: Set<TransparencyFigure> { [.reportsPerMonth] }
        func figure(_ f: TransparencyFigure, in p: ReportingPeriod) async throws -> FigureTable {
            FigureTable(columns: ["received"], rows: p.months.map { .init(label: $0.description, values: [1]) })
        }
    }

    @Test("a figure no source gives is not in use, never zero")
    func notInUse() async throws {
        let p = ReportingPeriod(first: Month(year: 2026, month: 1)!, last: Month(year: 2026, month: 3)!)
        let all = try await Transparency.collect(from: [FakeSource()], period: p)
        #expect(all[.removalTime] == .notInUse)
        #expect(all[.blockListSize] == .notInUse)
        #expect(all[.appeals] == .notInUse)
        guard case .table(let t) = all[.reportsPerMonth] else { Issue.record("expected a table"); return }
        #expect(t.rows.map(\.label) == ["2026-01", "2026-02", "2026-03"])
    }

    @Test("periods: reversed, too long, quarter, twelve months")
    func periods() {
        let jan = Month(year: 2026, month: 1)!, dec = Month(year: 2025, month: 12)!
        #expect(ReportingPeriod(first: jan, last: dec).first == dec)
        let long = ReportingPeriod(first: Month(year: 2000, month: 1)!, last: jan)
        #expect(long.months.count == ReportingPeriod.maxMonths && long.last == jan)
        let may = Month(year: 2026, month: 5)!.start + 86_400 * 10
        #expect(
            ReportingPeriod.quarter(containing: may).months.map(\.description) == ["2026-04", "2026-05", "2026-06"])
        #expect(ReportingPeriod.lastTwelveMonths(until: may).first.description == "2025-06")
        #expect(Month(parsing: "2026-13") == nil && Month(parsing: "26-01") == nil)
    }

    @Test("median and 90th percentile by nearest rank")
    func percentiles() {
        #expect(Transparency.median([]) == nil)
        #expect(Transparency.median([3, 1, 2]) == 2)
        #expect(Transparency.percentile(90, of: Array(1...10).map(Double.init)) == 9)
        #expect(Transparency.percentile(90, of: [5]) == 5)
    }

    @Test("the CSV carries the numbers exactly as the chart formats them; formula characters are neutralised")
    func csv() {
        let t = FigureTable(
            columns: ["share"], rows: [.init(label: "url", values: [66.666]), .init(label: "=cmd", values: [33.333])],
            unit: .percent)
        #expect(
            t.csv(labelHeader: "Type", columnTitles: ["Share, %"], rowLabels: ["Web page", "=cmd"])
                == "Type,\"Share, %\"\r\nWeb page,66.7\r\n'=cmd,33.3\r\n")
    }

    @Test("CSV fields: spreadsheet tables neutralise formulas; data files keep every value and quote only when needed")
    func csvFields() {
        #expect(CSVText.field("-1,5") == "\"'-1,5\"" && CSVText.field("\tx") == "'\tx" && CSVText.field("@a") == "'@a")
        #expect(CSVText.field("plain") == "plain" && CSVText.field("say \"hi\"") == "\"say \"\"hi\"\"\"")
        // A hash list's field stays as written: a leading minus is data, and ICSE's separator is the semicolon.
        #expect(CSVText.quoted("-clip.mp4") == "-clip.mp4" && CSVText.quoted("a,b") == "\"a,b\"")
        #expect(CSVText.quoted("a,b", separator: ";") == "a,b" && CSVText.quoted("a;b", separator: ";") == "\"a;b\"")
        #expect(CSVText.quoted("two\nlines") == "\"two\nlines\"")
        // A CR-LF pair and a comma under a combining accent are single characters; they are quoted all the same.
        #expect(CSVText.quoted("a\r\n=HYPERLINK(1)") == "\"a\r\n=HYPERLINK(1)\"")
        #expect(CSVText.quoted("a,\u{301}b") == "\"a,\u{301}b\"" && CSVText.field("x\r\ny") == "\"x\r\ny\"")
    }

    @Test("rare labels are grouped as other, keeping the total")
    func grouping() {
        let t = FigureTable(
            columns: ["cases"],
            rows: [.init(label: "DE", values: [5]), .init(label: "NL", values: [1]), .init(label: "US", values: [2])])
        let g = t.groupingSmall(below: 3)
        #expect(g.rows == [.init(label: "DE", values: [5]), .init(label: "other", values: [3])])
    }
}

@Suite("National checklist definition")
struct ChecklistDefinitionTests {
    @Test("an operator's file translates items by id and adds new ones")
    func merge() throws {
        let base = try ChecklistDefinition.parse(
            Data(
                """
                {"parts":[{"id":"p","title":"Part"}],"items":[{"id":"a","part":"p","area":"Law","text":"Review the law","evidence":["hotline"]},{"id":"b","part":"p","area":"Law","text":"B"}]}
                """.utf8), file: "base")
        let own = try ChecklistDefinition.parse(
            Data(
                """
                {"items":[{"id":"a","part":"p","area":"Loi","text":"Revoir la loi","evidence":["hotline"]},{"id":"z","part":"p","area":"Extra","text":"Our own item"}]}
                """.utf8), file: "own")
        let m = base.merged(with: own)
        #expect(m.items.map(\.id) == ["a", "b", "z"])
        #expect(m.item("a")?.text == "Revoir la loi")
        #expect(m.item("a")?.evidence == [.hotline])
        #expect(throws: ChecklistError.self) {
            try ChecklistDefinition.parse(Data("{\"items\":[{\"id\":\"\"}]}".utf8), file: "bad")
        }
    }

    @Test("entries accept http(s) links and real dates only")
    func validation() throws {
        let ok = try ChecklistEntry(
            itemID: "a", status: .inPlace, evidence: "  Law 12/2024 ", links: ["https://example.test/law", " "],
            reviewDate: "2027-02-28"
        ).validated()
        #expect(ok.evidence == "Law 12/2024" && ok.links == ["https://example.test/law"])
        #expect(throws: ChecklistError.self) {
            try ChecklistEntry(itemID: "a", links: ["javascript:alert(1)"]).validated()
        }
        #expect(throws: ChecklistError.self) { try ChecklistEntry(itemID: "a", links: ["/relative"]).validated() }
        #expect(throws: ChecklistError.self) { try ChecklistEntry(itemID: "a", reviewDate: "2027-02-30").validated() }
        let due = ChecklistEntry(itemID: "a", reviewDate: "2026-01-01")
        #expect(due.reviewIsDue(at: Month(year: 2026, month: 1)!.start + 86_400))
        #expect(!due.reviewIsDue(at: Month(year: 2026, month: 1)!.start + 3600))
    }
}
