import Foundation
import NIOCore
import Testing
import Vapor
import VigilCore
import VigilMedia
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
        site.get("live") { _ in
            Response(
                status: .ok, headers: ["Content-Type": "text/html"],
                body: .init(string: String(repeating: "x", count: 3_000_000)))
        }
        site.get("removed") { _ in Response(status: .notFound) }
        site.get("page.html") { _ in
            Response(
                status: .ok, headers: ["Content-Type": "text/html; charset=utf-8"],
                body: .init(
                    string:
                        #"<html><body><IMG alt="a" src="/img/known.bmp"><img src='img/other.bmp'><img src="/img/missing.bmp"></body></html>"#
                ))
        }
        site.get("img", "known.bmp") { _ in
            Response(status: .ok, headers: ["Content-Type": "image/bmp"], body: .init(data: Data(Self.bmp(seed: 1))))
        }
        site.get("other.bmp") { _ in Response(status: .notFound) }
        site.get("img", "other.bmp") { _ in
            Response(status: .ok, headers: ["Content-Type": "image/bmp"], body: .init(data: Data(Self.bmp(seed: 2))))
        }
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

    /// A 64x48 24-bit BMP of benign noise.
    static func bmp(seed: UInt64) -> [UInt8] {
        let w = 64, h = 48, row = (w * 3 + 3) & ~3
        var out: [UInt8] = Array("BM".utf8)
        func le32(_ v: Int) { out += [0, 8, 16, 24].map { UInt8(truncatingIfNeeded: v >> $0) } }
        func le16(_ v: Int) { out += [0, 8].map { UInt8(truncatingIfNeeded: v >> $0) } }
        le32(54 + row * h); le32(0); le32(54); le32(40); le32(w); le32(h); le16(1); le16(24); le32(0); le32(row * h);
        le32(2835); le32(2835); le32(0); le32(0)
        var x = seed &* 0x9E37_79B9_7F4A_7C15
        for _ in 0..<h {
            for _ in 0..<row { x ^= x << 13; x ^= x >> 7; x ^= x << 17; out.append(UInt8(truncatingIfNeeded: x)) }
        }
        return out
    }

    @Test("a live page's images are fetched, hashed in memory and matched: the check says how many are known")
    func imagesOnThePage() async throws {
        try await withSite { port in
            let known = Self.bmp(seed: 1).withUnsafeBytes {
                FileHasher(options: HashOptions()).hash(bytes: $0, name: "k")
            }
            let knownMD5 = try #require(known.record?.digests?.md5)
            #expect(known.record?.pdq != nil, "a BMP decodes and gets a PDQ")
            let client = LinkChecker.makeClient(proxy: nil, connectTimeout: .milliseconds(500))
            let checker = LinkChecker(client: client, timeout: .seconds(10)) { outcomes in
                outcomes.filter { $0.record?.digests?.md5 == knownMD5 }.count
            }
            let page = await checker.check("http://127.0.0.1:\(port)/page.html")
            #expect(page.outcome == .live)
            #expect(page.detail.hasSuffix("1 of 2 images on the page in the national hash set"), "\(page.detail)")
            let image = await checker.check("http://127.0.0.1:\(port)/img/known.bmp")
            #expect(image.detail.hasSuffix("the image is in the national hash set"))
            try await client.shutdown()
        }
        #expect(
            LinkChecker.imageSources(
                in: #"<img src="a.png"><img data-x=1 src='//cdn.test/b.jpg'><img src="javascript:x">"#,
                base: "http://h.test/d/p.html")
                == ["http://h.test/d/a.png", "http://cdn.test/b.jpg"])
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
            let hotline = HotlineStore(
                db: app.db, clock: clock, tokens: SystemTokenSource(), sealer: nil, triage: try TriagePolicy())
            let caseID = try await hotline.submit(
                try ReportSubmission(kind: .url, url: "http://site.test/x").validated(),
                language: "en", actor: .publicVisitor
            ).caseID
            let list = BlockListStore(db: app.db, clock: clock)
            var ids: [String: Int64] = [:]
            for path in ["live", "removed"] {
                let e = try await list.propose(
                    target: try ListTarget(kind: .url, parsing: "http://site.test/\(path)"),
                    criterion: "A", caseID: caseID, dedicatedReason: nil, by: "ana")
                try await list.verify(e.id, by: "bo")
                ids[path] = e.id
            }
            let fetched = Fetched()
            let fake: (String) async -> LinkChecker.Result = { address in
                await fetched.add(address)
                return address.hasSuffix("/removed")
                    ? .init(outcome: .gone, detail: "HTTP 404") : .init(outcome: .live, detail: "HTTP 200")
            }
            #expect(
                try await LinkChecker.run(store: list, interval: 43_200, dropGone: true, limit: 10, check: fake) == 2)
            #expect(
                try await LinkChecker.run(store: list, interval: 43_200, dropGone: true, limit: 10, check: fake) == 0,
                "not due yet")
            clock.advance(by: 43_201)
            #expect(
                try await LinkChecker.run(store: list, interval: 43_200, dropGone: true, limit: 10, check: fake) == 2)
            #expect(
                await fetched.all.sorted() == [
                    "http://site.test/live", "http://site.test/live", "http://site.test/removed",
                    "http://site.test/removed",
                ])
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
