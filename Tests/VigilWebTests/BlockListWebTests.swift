import Crypto
import Foundation
import Testing
import Vapor
import VigilCore
import VigilFormats
import VigilStore
import VigilTestSupport
import VigilWeb

@Suite("Block list on the web: feeds, the STOP page, appeals, roles")
struct BlockListWebTests {
    /// A published domain entry and a feeds key; returns the key and the entry's id.
    func seed(_ app: Application, _ clock: ManualClock, domain: String = "bad.test") async throws -> (
        key: String, entry: Int64
    ) {
        let hotline = HotlineStore(
            db: app.db, clock: clock, tokens: SystemTokenSource(), sealer: nil, triage: try TriagePolicy())
        let caseID = try await hotline.submit(
            try ReportSubmission(kind: .url, url: "http://\(domain)/").validated(), language: "en",
            actor: .publicVisitor
        ).caseID
        let list = BlockListStore(db: app.db, clock: clock)
        let e = try await list.propose(
            target: ListTarget(kind: .domain, value: domain), criterion: "B", caseID: caseID,
            dedicatedReason: "dedicated", by: "ana")
        try await list.verify(e.id, by: "bo")
        try await list.publish()
        let key = try await APIKeys(db: app.db, clock: clock, tokens: SystemTokenSource())
            .create(partner: "ISP One", scopes: [.feedsRead], actor: .system).secret
        return (key, e.id)
    }

    func feed(_ app: Application, _ path: String, key: String?, headers: HTTPHeaders = [:]) async throws
        -> TestBrowser.Page
    {
        var h = headers
        if let key { h.add(name: .authorization, value: "Bearer \(key)") }
        return try await TestBrowser(app).get(path, headers: h)
    }

    @Test(
        "feeds need a feeds:read key; bodies are signed with the published key; ETags answer 304; downloads are audited"
    )
    func feeds() async throws {
        try await withVigilApp { app, clock in
            let (key, _) = try await seed(app, clock)
            #expect(try await feed(app, "/api/v1/feeds/rpz", key: nil).status == .unauthorized)
            let matchKey = try await APIKeys(db: app.db, clock: clock, tokens: SystemTokenSource())
                .create(partner: "Platform", scopes: [.matchRead], actor: .system).secret
            #expect(try await feed(app, "/api/v1/feeds/rpz", key: matchKey).status == .forbidden)
            let res = try await feed(app, "/api/v1/feeds/rpz", key: key)
            #expect(res.status == .ok && res.body.contains("bad.test A 127.0.0.1"))
            let publicKey = try #require(
                FeedSignature.publicKey(base64: try await TestBrowser(app).get("/api/v1/feeds/public-key").body))
            let signature = try #require(
                res.headers.first(name: "X-Vigil-Signature")?.replacingOccurrences(of: "ed25519=", with: ""))
            #expect(FeedSignature.verify(Array(res.body.utf8), signature: signature, publicKey: publicKey))
            let etag = try #require(res.headers.first(name: .eTag))
            #expect(
                try await feed(app, "/api/v1/feeds/rpz", key: key, headers: ["If-None-Match": etag]).status
                    == .notModified)
            let hashed = try await feed(app, "/api/v1/feeds/hashed", key: key)
            #expect(
                try HashedList(parsing: Array(hashed.body.utf8), publicKey: publicKey).isListed("http://www.bad.test/x")
            )
            #expect(try await feed(app, "/api/v1/feeds/nope", key: key).status == .notFound)
            let downloads = try await AuditLog.list(
                on: app.db, filter: .init(action: "feed.download"), page: 1, per: 10
            ).0
            #expect(downloads.count == 3 && downloads.allSatisfy { $0.detailsJSON.contains("ISP One") })
        }
    }

    @Test(
        "an entry whose verification ran out is gone from the feed once the server's worker runs the publication queued for its expiry; a download never publishes"
    )
    func expiryAtFeedTime() async throws {
        try await withVigilApp { app, clock in
            let (key, _) = try await seed(app, clock)
            #expect(try await feed(app, "/api/v1/feeds/domains", key: key).body.contains("bad.test"))
            clock.advance(by: 7 * 86_400 + 60)
            let stale = try await feed(app, "/api/v1/feeds/domains", key: key)
            #expect(stale.headers.first(name: "X-Vigil-List-Version") == "2", "the download wrote nothing")
            #expect(try await VigilServer.runDueJobs(app) >= 1, "the publication queued for the expiry is due")
            let res = try await feed(app, "/api/v1/feeds/domains", key: key)
            #expect(!res.body.contains("bad.test"))
            #expect(
                res.headers.first(name: "X-Vigil-List-Version") == "3", "after the empty version 1 and the seed's 2")
        }
    }

    @Test("a request for a listed host gets the STOP page (451) in the visitor's language; other hosts get Vigil")
    func stopPage() async throws {
        try await withVigilApp { app, clock in
            _ = try await seed(app, clock)
            try await VigilServer.publishBlockList(app)
            let browser = TestBrowser(app)
            let stop = try await browser.get("/some/path", headers: ["Host": "www.bad.test", "Accept-Language": "fr"])
            #expect(stop.status == .unavailableForLegalReasons && stop.body.contains("Cette page a été bloquée"))
            #expect(stop.body.contains("/appeal"))
            let arabic = try await browser.get("/stop?lang=ar")
            #expect(arabic.body.contains("dir=\"rtl\"") && arabic.body.contains("تم حجب هذه الصفحة"))
            #expect(try await browser.get("/", headers: ["Host": "notbad.test"]).status == .ok)
        }
    }

    @Test(
        "appeals: missing grounds are explained and nothing is stored; a complete appeal gets a reference and a status")
    func appeals() async throws {
        try await withVigilApp { app, clock in
            _ = try await seed(app, clock)
            let browser = TestBrowser(app)
            _ = try await browser.get("/appeal")
            let incomplete = try await browser.post(
                "/appeal", form: [("target", "http://bad.test/"), ("grounds", " ")])
            #expect(incomplete.status == .unprocessableEntity && incomplete.body.contains("Please say why"))
            let done = try await browser.post(
                "/appeal",
                form: [("target", "http://bad.test/"), ("grounds", "my shop"), ("contact", "me@example.test")])
            let reference = try #require(
                TestBrowser.capture(#"id="reference" dir="ltr">(A-[0-9A-Z-]+)<"#, in: done.body))
            let status = try await browser.get("/appeal/status?reference=\(reference.lowercased())")
            #expect(status.body.contains("waiting for a supervisor"))
            let stored = try #require(try await BlockListStore(db: app.db, clock: clock).appeal(reference))
            #expect(stored.hasContact && stored.entryID != nil)
        }
    }

    @Test("auditors read the list defanged and change nothing; analysts cannot decide appeals")
    func roles() async throws {
        try await withVigilApp { app, clock in
            let (_, entry) = try await seed(app, clock)
            let (auditor, _) = try await Staff.signedIn(app, clock: clock, username: "aud", role: .auditor)
            let page = try await auditor.get("/list/\(entry)")
            #expect(page.status == .ok && page.body.contains("bad[.]test") && !page.body.contains("id=\"verify\""))
            #expect(
                try await auditor.post("/list", form: [("kind", "domain"), ("target", "x.test")]).status == .forbidden)
            let (analyst, _) = try await Staff.signedIn(app, clock: clock, username: "cy", role: .analyst)
            #expect(try await analyst.get("/list/\(entry)").body.contains("bad.test"))
            #expect(
                try await analyst.post("/list/appeals/A-0000-0000", form: [("decision", "suspend")]).status
                    == .forbidden)
            let proposal = try await analyst.post(
                "/list",
                form: [("kind", "domain"), ("target", "other.test"), ("criterion", "B: whole host"), ("case_id", "1")])
            #expect(
                proposal.status == .unprocessableEntity && proposal.body.contains("dedicated"),
                "a domain entry needs the reason")
        }
    }
}

@Suite("Block list and takedown figures on the transparency page")
struct BlockListTransparencyTests {
    @Test("not in use before the first entry; then the month's size, additions, reasons and appeals, never an address")
    func figures() async throws {
        try await withVigilApp { app, clock in
            let b = TestBrowser(app)
            let before = try await b.get("/transparency?lang=en")
            #expect(PolicyPagesTests.section("block-list-size", in: before.body).contains("Not in use yet"))
            #expect(PolicyPagesTests.section("removal-time", in: before.body).contains("Not in use yet"))
            _ = try await BlockListWebTests().seed(app, clock, domain: "bad.test")
            let list = BlockListStore(db: app.db, clock: clock)
            let ref = try await list.submitAppeal(
                target: "http://bad.test/", grounds: "mine", contact: nil, language: "en", sealer: nil,
                tokens: SystemTokenSource())
            _ = try await list.decideAppeal(ref, decision: .suspend, outcome: "", by: "sup")
            try await list.publish()
            let month = Month(containing: clock.now()).description
            let csv = try await b.get("/transparency/block-list-size.csv?from=\(month)&to=\(month)")
            #expect(csv.status == .ok && csv.body.hasSuffix("\(month),0,1,1\r\n"), "\(csv.body)")
            let reasons = try await b.get("/transparency/block-list-reasons.csv?from=\(month)&to=\(month)").body
            #expect(reasons.contains("added: verified,1") && reasons.contains("removed: suspended,1"))
            let page = try await b.get("/transparency?lang=en&from=\(month)&to=\(month)")
            #expect(PolicyPagesTests.section("appeals", in: page.body).contains("suspended"))
            #expect(!page.body.contains("bad.test"))
        }
    }
}
