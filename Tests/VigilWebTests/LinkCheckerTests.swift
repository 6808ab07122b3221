import Foundation
import NIOCore
import Testing
import Vapor
import VigilCore
import VigilStore
import VigilTestSupport
@testable import VigilWeb

/// The automated retest, against a real HTTP server on loopback standing in for listed sites.
@Suite("Automated checks of listed addresses")
struct LinkCheckerTests {
    /// A site on 127.0.0.1 with a live page, a removed one, redirects and an endless redirect loop.
    func withSite(_ body: (Int) async throws -> Void) async throws {
        let site = try await Application.make(.testing)
        site.logger.logLevel = .error
        site.http.server.configuration.hostname = "127.0.0.1"
        site.http.server.configuration.port = 0
        site.get("live") { _ in Response(status: .ok, headers: ["Content-Type": "text/html"], body: .init(string: String(repeating: "x", count: 3_000_000))) }
        site.get("removed") { _ in Response(status: .notFound) }
        site.get("moved") { _ in Response(status: .found, headers: ["Location": "/removed"]) }
        site.get("loop", ":n") { req in
            let n = req.parameters.get("n", as: Int.self) ?? 0
            return Response(status: .found, headers: ["Location": "/loop/\(n + 1)"])
        }
        try await site.server.start(address: .hostname("127.0.0.1", port: 0))
        do {
            try await body(site.http.server.shared.localAddress!.port!)
        } catch {
            await site.server.shutdown()
            try? await site.asyncShutdown()
            throw error
        }
        await site.server.shutdown()
        try await site.asyncShutdown()
    }

    @Test("live, gone (404 after a redirect, refused connection) and inconclusive (too many redirects) are told apart")
    func outcomes() async throws {
        try await withSite { port in
            let client = LinkChecker.makeClient(proxy: nil, connectTimeout: .milliseconds(500))
            let checker = LinkChecker(client: client, timeout: .seconds(10))
            let live = await checker.check("http://127.0.0.1:\(port)/live")
            #expect(live.outcome == .live && live.detail.contains("HTTP 200"))
            let moved = await checker.check("http://127.0.0.1:\(port)/moved")
            #expect(moved.outcome == .gone && moved.detail.contains("/removed"))
            let loop = await checker.check("http://127.0.0.1:\(port)/loop/0")
            #expect(loop.outcome == .inconclusive)
            let closed = await checker.check("http://127.0.0.1:1/")
            #expect(closed.outcome == .gone, "\(closed.detail)")
            try await client.shutdown()
        }
    }

    @Test("the job checks each due entry once per interval; two gone checks remove it when auto-drop is on")
    func job() async throws {
        try await withVigilApp { app, clock in
            let hotline = HotlineStore(db: app.db, clock: clock, tokens: SystemTokenSource(), sealer: nil, triage: try TriagePolicy())
            let caseID = try await hotline.submit(try ReportSubmission(kind: .url, url: "http://site.test/x").validated(),
                                                  language: "en", actor: .publicVisitor).caseID
            let list = BlockListStore(db: app.db, clock: clock)
            var ids: [String: Int64] = [:]
            for path in ["live", "removed"] {
                let e = try await list.propose(target: try ListTarget(kind: .url, parsing: "http://site.test/\(path)"),
                                               criterion: "A", caseID: caseID, dedicatedReason: nil, by: "ana")
                try await list.verify(e.id, by: "bo")
                ids[path] = e.id
            }
            let fetched = Fetched()
            let fake: (String) async -> LinkChecker.Result = { address in
                await fetched.add(address)
                return address.hasSuffix("/removed") ? .init(outcome: .gone, detail: "HTTP 404") : .init(outcome: .live, detail: "HTTP 200")
            }
            #expect(try await LinkChecker.run(store: list, interval: 43_200, dropGone: true, limit: 10, check: fake) == 2)
            #expect(try await LinkChecker.run(store: list, interval: 43_200, dropGone: true, limit: 10, check: fake) == 0, "not due yet")
            clock.advance(by: 43_201)
            #expect(try await LinkChecker.run(store: list, interval: 43_200, dropGone: true, limit: 10, check: fake) == 2)
            #expect(await fetched.all.sorted() == ["http://site.test/live", "http://site.test/live", "http://site.test/removed", "http://site.test/removed"])
            #expect(try await list.entry(ids["live"]!)?.entry.state == .active)
            let removed = try #require(try await list.entry(ids["removed"]!)?.entry)
            #expect(removed.state == .removed && removed.removalReason == "content gone (automated check)")
        }
    }
}

actor Fetched {
    var all: [String] = []
    func add(_ s: String) { all.append(s) }
}
