import Foundation
import Testing
import Vapor
import VigilCore
import VigilStore
import VigilTestSupport
import VigilWeb

@Suite("Policy pages: checklist, global review, awareness, transparency")
struct PolicyPagesTests {
    /// Reports over two months (testEpoch is 2027-01-15): December 3 (1 illegal, referred to DE), January 2 (1
    /// illegal, noticed here).
    func seed(_ app: Application, _ clock: ManualClock) async throws {
        let store = HotlineStore(
            db: app.db, clock: clock, tokens: SystemTokenSource(), sealer: nil, triage: try TriagePolicy(),
            fourEyes: .none)
        let epoch = clock.now()
        clock.set(Month(year: 2026, month: 12)!.start + 86_400 * 3)
        var ids: [Int64] = []
        for (i, kind) in [ReportKind.url, .url, .p2p, .url, .behaviour].enumerated() {
            if i == 3 { clock.set(Month(year: 2027, month: 1)!.start + 86_400 * 2) }
            var s = ReportSubmission(kind: kind, details: "test report \(i)")
            switch kind {
            case .p2p: s.p2p = "magnet:?xt=urn:btih:" + String(repeating: "a", count: 40)
            case .behaviour: s.concerns = [.bullying]
            default: s.url = "https://example.test/item/\(i)"
            }
            ids.append(try await store.submit(try s.validated(), language: "en", actor: .publicVisitor).caseID)
        }
        for (id, decision) in [
            (ids[0], CaseEvent.referToPartner(country: "DE", by: "ana")), (ids[3], .requestNotice(by: "ana")),
        ] {
            try await store.apply(.claim(by: "ana"), to: id, actor: .user("ana"))
            try await store.apply(
                .assess(CaseAssessment(outcome: .internationallyIllegal), by: "ana"), to: id, actor: .user("ana"))
            try await store.apply(decision, to: id, actor: .user("ana"))
        }
        try await store.apply(.claim(by: "ana"), to: ids[1], actor: .user("ana"))
        try await store.apply(.assess(CaseAssessment(outcome: .notIllegal), by: "ana"), to: ids[1], actor: .user("ana"))
        clock.set(epoch)
    }

    static func section(_ id: String, in body: String) -> String {
        guard let start = body.range(of: "id=\"fig-\(id)\"") else { return "" }
        let rest = body[start.upperBound...]
        return String(rest[..<(rest.range(of: "</section>")?.lowerBound ?? rest.endIndex)])
    }

    static func matches(_ pattern: String, in text: String) -> [String] {
        let re = try! NSRegularExpression(pattern: pattern)
        return re.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { m in
            Range(m.range(at: 1), in: text).map { String(text[$0]) }
        }
    }

    @Test("transparency: the period's figures, the CSV equal to the chart, and capabilities not in use shown as such")
    func transparency() async throws {
        try await withVigilApp(configure: { $0.country = "FR" }) { app, clock in
            try await seed(app, clock)
            let b = TestBrowser(app)
            let page = try await b.get("/transparency?from=2026-12&to=2027-01&lang=en")
            #expect(page.status == .ok)
            let monthly = Self.section("reports-per-month", in: page.body)
            let chart = Self.matches(#"data-value="([0-9.]+)""#, in: monthly)
            #expect(chart == ["3", "1", "2", "1"])
            let csv = try await b.get("/transparency/reports-per-month.csv?from=2026-12&to=2027-01&lang=en")
            #expect(csv.status == .ok)
            #expect(csv.body == "Month,Received,Actionable\r\n2026-12,3,1\r\n2027-01,2,1\r\n")
            let csvNumbers = csv.body.split(separator: "\r\n").dropFirst().flatMap {
                $0.split(separator: ",").dropFirst().map(String.init)
            }
            #expect(csvNumbers == chart, "the CSV has the chart's numbers")
            // Table beside the chart has the same numbers too.
            #expect(Self.matches(#"<td>([0-9.]+)</td>"#, in: monthly) == chart)
            // Share by type: both actionable reports are web pages.
            let byType = try await b.get("/transparency/actionable-by-type.csv?from=2026-12&to=2027-01")
            #expect(byType.body.contains("\"A web page, image or video\",100.0"))
            // Hosting: one abroad (DE), one here (FR); both below the small-count threshold, so grouped.
            let hosting = try await b.get("/transparency/hosting-countries.csv?from=2026-12&to=2027-01")
            #expect(hosting.body.contains("Other (fewer than 3 each),2"))
            #expect(!page.body.contains("example.test"), "no reported address is published")
            for notInUse in ["removal-time", "removed-within", "block-list-size", "block-list-reasons", "appeals"] {
                let s = Self.section(notInUse, in: page.body)
                #expect(s.contains("Not in use yet"), "\(notInUse)")
                #expect(!s.contains("<svg"), "\(notInUse) has no chart")
                #expect(try await b.get("/transparency/\(notInUse).csv").status == .notFound)
            }
            // A period with nothing in it shows zeros for the hotline (it is in use), not "not in use".
            let empty = try await b.get("/transparency?from=2020-01&to=2020-02")
            #expect(!Self.section("reports-per-month", in: empty.body).contains("Not in use yet"))
        }
    }

    @Test("every public policy page renders in all four languages, right to left in Arabic")
    func languages() async throws {
        try await withVigilApp(configure: {
            $0.countryName = "France"; $0.helplineName = "Childline Test"
        }) { app, _ in
            let b = TestBrowser(app)
            for lang in ["en", "fr", "es", "ar"] {
                for path in [
                    "/learn", "/learn/young-people", "/learn/parents", "/learn/teachers", "/global-review",
                    "/transparency",
                ] {
                    let page = try await b.get("\(path)?lang=\(lang)")
                    #expect(page.status == .ok, "\(path) in \(lang)")
                    #expect(
                        page.body.contains("<html lang=\"\(lang)\" dir=\"\(lang == "ar" ? "rtl" : "ltr")\">"),
                        "\(path) in \(lang)")
                    #expect(!page.body.contains("{helpline"), "placeholders filled in \(path) \(lang)")
                }
            }
            let learn = try await b.get("/learn/parents?lang=fr")
            #expect(learn.body.contains("Childline Test"))
            #expect(learn.body.contains("<a href=\"/report\">"))
            #expect(learn.body.contains("dir=\"ltr\"") && learn.body.contains("Pour les parents"))
            #expect(try await b.get("/learn/nope").status == .notFound)
        }
    }

    @Test("global review: all 187 countries, filters, search, and the operator's country with today's row")
    func globalReview() async throws {
        try await withVigilApp(configure: {
            $0.country = "FR"; $0.countryName = "France"
        }) { app, clock in
            let b = TestBrowser(app)
            let all = try await b.get("/global-review?lang=en")
            let table = String(all.body[all.body.range(of: "id=\"review-table\"")!.lowerBound...])
            #expect(
                Self.matches(#"<tr(?: class="own" aria-current="true")?><th scope="row">([^<]+)</th>"#, in: table).count
                    == 187)
            #expect(all.body.contains("187 of 187 countries shown."))
            let five = try await b.get("/global-review?filter=all-five&lang=en")
            #expect(
                Self.matches(
                    #"<tr(?: class="own" aria-current="true")?><th scope="row">([^<]+)</th><td class"#, in: five.body)
                    == ["Australia", "Belgium", "France", "South Africa", "United States"])
            #expect(five.body.contains("class=\"own\""))
            let none = try await b.get("/global-review?filter=none&lang=en")
            #expect(none.body.contains("93 of 187 countries shown."))
            #expect(all.body.contains("The situation today has not been recorded yet."))
            let (admin, _) = try await Staff.signedIn(app, clock: clock, username: "root", role: .admin)
            let saved = try await admin.post(
                "/admin/global-review",
                form: [("criteria[]", "specific_legislation"), ("criteria[]", "definition"), ("note", "Law of 2025")])
            #expect(saved.status == .ok)
            let after = try await b.get("/global-review?lang=en")
            #expect(after.body.contains("Law of 2025"))
            #expect(after.body.contains("Today (updated"))
            let csv = try await b.get("/global-review.csv")
            #expect(csv.body.split(separator: "\r\n").count == 188)
        }
    }

    @Test("an administrator previews, saves and restores the French parents' page; the public sees it, scripts never")
    func awarenessEditing() async throws {
        try await withVigilApp { app, clock in
            let (admin, _) = try await Staff.signedIn(app, clock: clock, username: "root", role: .admin)
            let editor = try await admin.get("/admin/learn/parents/fr")
            #expect(editor.status == .ok && editor.body.contains("Pour les parents"))
            let text =
                "# Pour les parents\n\nNouveau texte **positif**.\n\n<script>alert(1)</script> [x](javascript:alert(1))"
            let preview = try await admin.post(
                "/admin/learn/parents/fr", form: [("body", text), ("action", "preview")])
            #expect(preview.body.contains("<strong>positif</strong>"))
            #expect(!preview.body.contains("<script>alert"))
            #expect(!preview.body.contains("href=\"javascript"))
            #expect(
                !(try await TestBrowser(app).get("/learn/parents?lang=fr")).body.contains("Nouveau texte"),
                "a preview saves nothing")
            let saved = try await admin.post("/admin/learn/parents/fr", form: [("body", text), ("action", "save")])
            #expect(saved.status == .seeOther || saved.status == .found)
            let pub = try await TestBrowser(app).get("/learn/parents?lang=fr")
            #expect(pub.body.contains("Nouveau texte <strong>positif</strong>"))
            #expect(pub.body.contains("&lt;script&gt;") && !pub.body.contains("<script>alert"))
            #expect(!(try await TestBrowser(app).get("/learn/parents?lang=en")).body.contains("Nouveau texte"))
            let history = try await admin.get("/admin/learn/parents/fr")
            #expect(history.body.contains("?revision="))
            // A new page in a new language, without code.
            let made = try await admin.post("/admin/learn", form: [("slug", "gaming"), ("language", "sw")])
            #expect(made.location == "/admin/learn/gaming/sw")
            #expect(
                try await admin.post("/admin/learn", form: [("slug", "Bad Name"), ("language", "fr")]).status
                    == .badRequest)
            // Only administrators edit.
            let (analyst, _) = try await Staff.signedIn(app, clock: clock, username: "ana", role: .analyst)
            #expect(try await analyst.get("/admin/learn").status == .forbidden)
        }
    }

    @Test("a supervisor marks checklist items, sees live evidence, prints the report; changes are in the history")
    func checklist() async throws {
        try await withVigilApp { app, clock in
            try await seed(app, clock)
            let (sup, _) = try await Staff.signedIn(app, clock: clock, username: "sam", role: .supervisor)
            let page = try await sup.get("/checklist")
            #expect(page.status == .ok)
            #expect(page.body.contains("id=\"item-ka-1\"") && page.body.contains("id=\"item-nc-6\""))
            #expect(page.body.contains("Hotline reports received this quarter (since 2027-01-01): <strong>2</strong>"))
            #expect(
                page.body.contains(
                    "Notice and takedown: median time from report to removal: <strong>Not in use yet</strong>"))
            #expect(page.body.contains("Items in the national hash set: <strong>0</strong>"))
            let saved = try await sup.post(
                "/checklist/items/ka-3",
                form: [
                    ("status", "in-place"), ("evidence", "National hotline since 2026"),
                    ("links", "https://example.test/hotline"),
                    ("owner", "Ministry of Justice"), ("review_date", "2027-06-30"),
                ])
            #expect(saved.location == "/checklist?saved=1#item-ka-3")
            let bad = try await sup.post(
                "/checklist/items/ka-2", form: [("status", "in-place"), ("links", "javascript:alert(1)")])
            #expect(bad.status == .badRequest)
            let after = try await sup.get("/checklist")
            #expect(after.body.contains("data-status=\"in-place\">In place"))
            let report = try await sup.get("/checklist/report")
            #expect(report.body.contains("National hotline since 2026") && report.body.contains("Printable") == false)
            let csv = try await sup.get("/checklist/report.csv")
            #expect(
                csv.body.contains(
                    "In place,National hotline since 2026,https://example.test/hotline,Ministry of Justice,2027-06-30"))
            let history = try await sup.get("/checklist/history")
            #expect(history.body.contains("Ministry of Justice") && history.body.contains("sam"))
            // Auditors read; analysts do not.
            let (auditor, _) = try await Staff.signedIn(app, clock: clock, username: "aud", role: .auditor)
            let read = try await auditor.get("/checklist")
            #expect(read.status == .ok && !read.body.contains("Update this item"))
            #expect(
                try await auditor.post("/checklist/items/ka-1", form: [("status", "in-place")]).status == .forbidden)
            let (analyst, _) = try await Staff.signedIn(app, clock: clock, username: "ana2", role: .analyst)
            #expect(try await analyst.get("/checklist").status == .forbidden)
        }
    }
}

@Suite("Global review sorting links")
struct GlobalReviewSortTests {
    @Test("a column heading keeps the filter and the search, and a second click reverses the order")
    func sortLinks() async throws {
        try await withVigilApp { app, _ in
            let page = try await TestBrowser(app).get("/global-review?filter=specific&q=a&sort=score&lang=en")
            #expect(page.body.contains("href=\"/global-review?filter=specific&amp;sort=score&amp;q=a&amp;order=desc\""))
            #expect(page.body.contains("href=\"/global-review?filter=specific&amp;sort=country&amp;q=a\""))
            let reversed = try await TestBrowser(app).get(
                "/global-review?filter=all-five&sort=country&order=desc&lang=en")
            let names = PolicyPagesTests.matches(#"<th scope="row">([A-Z][^<]+)</th><td class"#, in: reversed.body)
            #expect(names == ["United States", "South Africa", "France", "Belgium", "Australia"])
        }
    }
}

@Suite("Operator's own policy files")
struct OperatorPolicyFilesTests {
    @Test("a checklist.json and Markdown pages in the data folder translate, extend and add pages without code")
    func overrides() async throws {
        try await withVigilApp(configure: { c in
            let dir = (c.dataDirectory as NSString).appendingPathComponent("policy")
            try? FileManager.default.createDirectory(atPath: dir + "/learn/fr", withIntermediateDirectories: true)
            FileManager.default.createFile(
                atPath: dir + "/checklist.json",
                contents: Data(
                    """
                    {"items": [
                      {"id": "ka-1", "part": "key-areas", "area": "Cadre juridique", "number": "1", "text": "Revoir le cadre juridique.", "evidence": ["global-review"]},
                      {"id": "own-1", "part": "national-checklist", "area": "Our own item", "text": "Train every school counsellor.", "evidence": ["awareness"]}
                    ]}
                    """.utf8))
            FileManager.default.createFile(
                atPath: dir + "/learn/fr/jeux-video.md",
                contents: Data("# Jeux vidéo\\n\\nJouer en ligne, *ensemble*.".utf8))
        }) { app, clock in
            let (sup, _) = try await Staff.signedIn(app, clock: clock, username: "sam", role: .supervisor)
            let checklist = try await sup.get("/checklist")
            #expect(checklist.body.contains("Revoir le cadre juridique."))
            #expect(
                checklist.body.contains("id=\"item-own-1\"")
                    && checklist.body.contains("Train every school counsellor."))
            #expect(checklist.body.contains("id=\"item-nc-6\""), "shipped items stay")
            let b = TestBrowser(app)
            let fr = try await b.get("/learn/jeux-video?lang=fr")
            #expect(fr.status == .ok && fr.body.contains("Jouer en ligne, <em>ensemble</em>."))
            let en = try await b.get("/learn/jeux-video?lang=en")
            #expect(en.status == .ok && en.body.contains("lang=\"fr\""), "shown in the language it is written in")
            #expect(try await b.get("/learn?lang=fr").body.contains("href=\"/learn/jeux-video\""))
        }
    }
}

@Suite("Transparency sources plug in")
struct TransparencyPlugInTests {
    /// What the block list (#6) and notice-and-takedown (#7) will register.
    struct FakeBlockList: TransparencySource {
        var figures: Set<TransparencyFigure> { [.blockListSize, .appeals, .removalTime] }
        func figure(_ f: TransparencyFigure, in p: ReportingPeriod) async throws -> FigureTable {
            switch f {
            case .blockListSize:
                FigureTable(
                    columns: ["size", "additions", "removals"],
                    rows: p.months.map { .init(label: $0.description, values: [12, 3, 1]) })
            case .appeals:
                FigureTable(
                    columns: ["count"],
                    rows: [.init(label: "upheld", values: [2]), .init(label: "rejected", values: [1])],
                    rowKind: "outcome")
            default:
                FigureTable(
                    columns: ["days"], rows: [.init(label: "median", values: [1.5]), .init(label: "p90", values: [4])],
                    unit: .days, rowKind: "item")
            }
        }
    }

    @Test("a registered source's figures appear on the page, in the CSVs and in the checklist's live evidence")
    func plugIn() async throws {
        try await withVigilApp { app, clock in
            app.transparencySources.insert({ _ in FakeBlockList() }, at: 0)
            let b = TestBrowser(app)
            let page = try await b.get("/transparency?lang=en")
            let size = PolicyPagesTests.section("block-list-size", in: page.body)
            #expect(size.contains("<svg") && !size.contains("Not in use yet"))
            #expect(PolicyPagesTests.section("removed-within", in: page.body).contains("Not in use yet"))
            let csv = try await b.get("/transparency/block-list-size.csv?from=2027-01&to=2027-01")
            #expect(csv.status == .ok && csv.body.hasSuffix("2027-01,12,3,1\r\n"))
            let (sup, _) = try await Staff.signedIn(app, clock: clock, username: "sam", role: .supervisor)
            let checklist = try await sup.get("/checklist")
            #expect(checklist.body.contains("Block-list entries (verified, expiring): <strong>12</strong>"))
            #expect(checklist.body.contains("Appeals this quarter: <strong>3</strong>"))
            #expect(
                checklist.body.contains("Median time from report to removal this quarter: <strong>1.5 days</strong>"))
        }
    }
}

@Suite("The operator's country")
struct OwnCountryTests {
    @Test("the country code alone finds the country's row by its English name")
    func byCode() async throws {
        try await withVigilApp(configure: { $0.country = "ZA" }) { app, _ in
            let page = try await TestBrowser(app).get("/global-review?lang=en")
            #expect(page.body.contains("<tr class=\"own\" aria-current=\"true\"><th scope=\"row\">South Africa</th>"))
            #expect(page.body.contains("South Africa then and now"))
        }
    }
}

@Suite("Transparency cache")
struct TransparencyCacheTests {
    @Test("the public figures are recounted after five minutes, not on every request")
    func recount() async throws {
        try await withVigilApp { app, clock in
            let b = TestBrowser(app)
            let store = HotlineStore(
                db: app.db, clock: clock, tokens: SystemTokenSource(), sealer: nil, triage: try TriagePolicy())
            func report(_ n: Int) async throws {
                var s = ReportSubmission(kind: .url, details: "cache test")
                s.url = "https://example.test/cache/\(n)"
                _ = try await store.submit(try s.validated(), language: "en", actor: .publicVisitor)
            }
            try await report(1)
            let month = Month(containing: clock.now()).description
            let csv = "/transparency/reports-per-month.csv?from=\(month)&to=\(month)"
            #expect(try await b.get(csv).body.hasSuffix("\(month),1,0\r\n"))
            try await report(2)
            clock.advance(by: 60)
            #expect(try await b.get(csv).body.hasSuffix("\(month),1,0\r\n"), "within five minutes: the same figures")
            clock.advance(by: 300)
            #expect(try await b.get(csv).body.hasSuffix("\(month),2,0\r\n"), "after five minutes: recounted")
        }
    }
}
