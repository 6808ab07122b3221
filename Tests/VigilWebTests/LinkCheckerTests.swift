import Foundation
import NIOCore
import Synchronization
import Testing
import Vapor
import VigilCore
import VigilMedia
import VigilStore
import VigilTestSupport

@testable import VigilApp
@testable import VigilWeb

/// The automated retest, against a real HTTP server on loopback standing in for listed sites.
@Suite("Automated checks of listed addresses")
struct LinkCheckerTests {
    /// A site on 127.0.0.1 with a live page, a removed one, redirects and an endless redirect loop.
    func withSite(_ body: (Int) async throws -> Void) async throws {
        try await withSite { port, _ in try await body(port) }
    }

    /// The same, with a count of the requests the site answered on `/live` and `/page.html`.
    final class Hits: Sendable {
        let count = Mutex(0)
        func add() { count.withLock { $0 += 1 } }
        var value: Int { count.withLock { $0 } }
    }

    func withSite(_ body: (Int, Hits) async throws -> Void) async throws {
        let hits = Hits()
        let site = try await Application.make(.testing)
        site.logger.logLevel = .error
        site.http.server.configuration.hostname = "127.0.0.1"
        site.http.server.configuration.port = 0
        site.get("live") { _ in
            hits.add()
            return
                Response(
                    status: .ok, headers: ["Content-Type": "text/html"],
                    body: .init(string: String(repeating: "x", count: 3_000_000)))
        }
        site.get("removed") { _ in Response(status: .notFound) }
        site.get("page.html") { _ in
            hits.add()
            return Response(
                status: .ok, headers: ["Content-Type": "text/html; charset=utf-8"],
                body: .init(
                    string:
                        #"<html><body><IMG alt="a" src="/img/known.bmp"><img src='img/other.bmp'><img src="/img/missing.bmp"></body></html>"#
                ))
        }
        site.get("img", "known.bmp") { _ in
            hits.add()
            return Response(
                status: .ok, headers: ["Content-Type": "image/bmp"], body: .init(data: Data(Self.bmp(seed: 1))))
        }
        site.get("other.bmp") { _ in Response(status: .notFound) }
        site.get("img", "other.bmp") { _ in
            hits.add()
            return Response(
                status: .ok, headers: ["Content-Type": "image/bmp"], body: .init(data: Data(Self.bmp(seed: 2))))
        }
        site.get("moved") { _ in Response(status: .found, headers: ["Location": "/removed"]) }
        site.get("to-metadata") { _ in
            Response(status: .found, headers: ["Location": "http://169.254.169.254/latest/meta-data/"])
        }
        site.get("to-decimal") { _ in Response(status: .found, headers: ["Location": "http://2130706433:1/x"]) }
        site.get("loop", ":n") { req in
            let n = req.parameters.get("n", as: Int.self) ?? 0
            return Response(status: .found, headers: ["Location": "/loop/\(n + 1)"])
        }
        try await site.server.start(address: .hostname("127.0.0.1", port: 0))
        do {
            try await body(site.http.server.shared.localAddress!.port!, hits)
        } catch {
            await site.server.shutdown()
            try? await site.asyncShutdown()
            throw error
        }
        await site.server.shutdown()
        try await site.asyncShutdown()
    }

    /// A resolver that answers every name with the addresses it was given, counting the questions.
    struct FixedResolver: NameResolver {
        let answers: [String: [IPAddress]]
        func addresses(of name: String) async throws(OutboundRefusal) -> [IPAddress] {
            guard let found = answers[name] else { throw .noSuchName(name) }
            return found
        }
    }

    /// The policy a lab sets to reach its own loopback servers (`fetch_allow_cidrs = 127.0.0.0/8`).
    /// The default connect timeout: with the whole suite on two cores a loopback connect has taken
    /// more than half a second (CI failed twice on `connectTimeout` with 500 ms).
    static let lab = OutboundFetcher(
        policy: OutboundAddressPolicy(allowed: [IPRange(cidr: "127.0.0.0/8")!]),
        resolver: FixedResolver(answers: ["site.test": [IPAddress(v4: 0x7F00_0001)]]))
    /// The same for a closed port only: AsyncHTTPClient retries a refused connection until the
    /// connect timeout, so it is short here to keep the test quick.
    static let labClosedPort = OutboundFetcher(
        policy: OutboundAddressPolicy(allowed: [IPRange(cidr: "127.0.0.0/8")!]),
        resolver: FixedResolver(answers: [:]), connectTimeout: .milliseconds(500))
    /// The default: nothing but public addresses.
    static let strict = OutboundFetcher(
        policy: OutboundAddressPolicy(),
        resolver: FixedResolver(answers: [
            "rebind.test": [IPAddress(host: "93.184.216.34")!, IPAddress(v4: 0x7F00_0001)],
            "metadata.test": [IPAddress(host: "169.254.169.254")!],
        ]), connectTimeout: .milliseconds(500))

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
            let checker = LinkChecker(fetcher: Self.lab, timeout: .seconds(30)) { outcomes in
                outcomes.filter { $0.record?.digests?.md5 == knownMD5 }.count
            }
            let page = await checker.check("http://127.0.0.1:\(port)/page.html")
            #expect(page.outcome == .live)
            #expect(page.detail.hasSuffix("1 of 2 images on the page in the national hash set"), "\(page.detail)")
            let image = await checker.check("http://127.0.0.1:\(port)/img/known.bmp")
            #expect(image.detail.hasSuffix("the image is in the national hash set"))
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
            let checker = LinkChecker(fetcher: Self.lab, timeout: .seconds(30))
            let live = await checker.check("http://127.0.0.1:\(port)/live")
            #expect(live.outcome == .live && live.detail.contains("HTTP 200"))
            let moved = await checker.check("http://127.0.0.1:\(port)/moved")
            #expect(moved.outcome == .gone && moved.detail.contains("/removed"))
            let loop = await checker.check("http://127.0.0.1:\(port)/loop/0")
            #expect(loop.outcome == .inconclusive)
            let closed = await LinkChecker(fetcher: Self.labClosedPort, timeout: .seconds(30))
                .check("http://127.0.0.1:1/")
            #expect(closed.outcome == .gone, "\(closed.detail)")
        }
    }

    @Test("by default a loopback, decimal-spelled or metadata address is never contacted; a lab's allowed range is")
    func privateAddressesRefused() async throws {
        try await withSite { port, hits in
            let strict = LinkChecker(fetcher: Self.strict, timeout: .seconds(30))
            for address in [
                "http://127.0.0.1:\(port)/live", "http://2130706433:\(port)/live", "http://0x7f.1:\(port)/live",
                "http://[::ffff:127.0.0.1]:\(port)/live", "http://localhost:\(port)/live",
                "http://169.254.169.254/latest/meta-data/", "http://metadata.test/", "http://rebind.test:\(port)/live",
            ] {
                let result = await strict.check(address)
                #expect(result.outcome == .inconclusive, "\(address): \(result.detail)")
                #expect(result.detail.contains("outbound-fetch policy"), "\(address): \(result.detail)")
            }
            #expect(hits.value == 0, "the site was never contacted")
            let lab = LinkChecker(fetcher: Self.lab, timeout: .seconds(30))
            #expect(await lab.check("http://127.0.0.1:\(port)/live").outcome == .live)
            #expect(await lab.check("http://site.test:\(port)/live").outcome == .live, "a name pinned to its address")
            #expect(hits.value == 2)
        }
    }

    @Test("a redirect to a private address is refused at that hop, whatever the first hop was allowed")
    func redirectsChecked() async throws {
        try await withSite { port in
            let lab = LinkChecker(fetcher: Self.lab, timeout: .seconds(30))
            let metadata = await lab.check("http://127.0.0.1:\(port)/to-metadata")
            #expect(metadata.outcome == .inconclusive)
            #expect(metadata.detail.contains("169.254.169.254 is link-local"), "\(metadata.detail)")
            // The decimal spelling is 127.0.0.1 port 1, allowed in the lab and closed.
            let decimal = await LinkChecker(fetcher: Self.labClosedPort, timeout: .seconds(30))
                .check("http://127.0.0.1:\(port)/to-decimal")
            #expect(decimal.outcome != .live, "\(decimal.detail)")
        }
    }

    @Test("without the image check a page's images are never fetched")
    func noSubresources() async throws {
        try await withSite { port, hits in
            let checker = LinkChecker(fetcher: Self.lab, timeout: .seconds(30))
            let page = await checker.check("http://127.0.0.1:\(port)/page.html")
            #expect(page.outcome == .live)
            #expect(!page.detail.contains("images"), "\(page.detail)")
            #expect(hits.value == 1)
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
