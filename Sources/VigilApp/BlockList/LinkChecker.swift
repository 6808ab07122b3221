import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import VigilApp
import VigilCore
import VigilMedia
import VigilStore

/// The first layer of retesting: fetches each active entry's address on a schedule and records whether the
/// content is still there. Bodies are read and discarded as they arrive (at most 1 MiB), never stored. At most 5
/// redirects are followed, by hand, so that each hop can be recorded; an optional proxy is used for every hop.
public struct LinkChecker: Sendable {
    /// What one fetch found.
    public struct Result: Sendable, Equatable {
        let outcome: ListCheckOutcome
        let detail: String
    }

    /// Every hop goes through the outbound-fetch policy (resolved, checked, pinned).
    public let fetcher: OutboundFetcher
    public let timeout: TimeAmount
    /// How many of these fetched images' hashes are in the national hash set (the pictures themselves are hashed in
    /// memory and dropped, never written anywhere). `nil`: no image check, and no sub-resource of a page is fetched.
    public var knownImages: (@Sendable ([FileOutcome]) async -> Int)?
    public static let maxRedirects = 5
    public static let maxBodyBytes = 1 << 20
    /// Pages and images are kept in memory up to these sizes for the image check, then dropped.
    public static let maxPageBytes = 2 << 20
    public static let maxImageBytes = 20 << 20
    public static let maxImagesPerPage = 10

    /// The address a check fetches for an entry: as listed, with the scheme and port the analyst typed (the stored
    /// value has neither; without an origin it is `http://` on port 80).
    public static func address(for entry: ListEntry) -> String? {
        let target = entry.target
        guard target.kind != .newsgroup, let host = target.host else { return nil }
        let origin = entry.origin ?? "http://" + host
        let rest = target.kind == .domain ? "/" : String(target.value.dropFirst(host.count))
        return origin + (rest.isEmpty ? "/" : rest)
    }

    /// One fetch, following up to 5 redirects by hand. The body is kept (in memory, up to `keep` bytes) only when
    /// `keepWhen` says so for the content type; otherwise it is read and discarded.
    public struct Fetched: Sendable {
        let status: UInt
        let url: String
        let type: String
        let body: [UInt8]?
        /// Where a redirect points.
        var location: String? = nil
    }

    public enum FetchFailure: Error {
        case gone(String)
        case inconclusive(String)
    }

    public func fetch(_ address: String, keep: Int, keepWhen: (String) -> Bool) async
        -> Swift.Result<Fetched, FetchFailure>
    {
        var url = address
        for hop in 0...Self.maxRedirects {
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "User-Agent", value: "Vigil-list-check/1")
            do {
                let fetched = try await fetcher.execute(request, timeout: timeout) { response in
                    let type = response.headers.first(name: "Content-Type") ?? "unknown type"
                    let status = UInt(response.status.code)
                    let wanted = (200..<300).contains(status) && keepWhen(type.lowercased())
                    var kept: [UInt8] = []
                    var seen = 0
                    for try await chunk in response.body {
                        seen += chunk.readableBytes
                        if wanted, kept.count < keep { kept += chunk.readableBytesView.prefix(keep - kept.count) }
                        if seen >= max(Self.maxBodyBytes, wanted ? keep : 0) { break }
                    }
                    return Fetched(
                        status: status, url: url, type: type, body: wanted ? kept : nil,
                        location: response.headers.first(name: "Location"))
                }
                let status = fetched.status
                if [301, 302, 303, 307, 308].contains(status) {
                    guard hop < Self.maxRedirects, let location = fetched.location,
                        let next = URL(string: location, relativeTo: URL(string: url))?.absoluteURL.absoluteString,
                        next.hasPrefix("http://") || next.hasPrefix("https://")
                    else { return .failure(.inconclusive("HTTP \(status): redirect not followed from \(url)")) }
                    url = next
                    continue
                }
                return .success(fetched)
            } catch let refusal as OutboundRefusal {
                switch refusal {
                case .noSuchName: return .failure(.gone("no such domain for \(url)"))
                case .forbidden, .unresolved, .badURL: return .failure(.inconclusive("\(refusal) at \(url)"))
                }
            } catch {
                let text = String(describing: error)
                if text.contains("connectionRefused") || text.contains("Connection refused")
                    || text.contains("ECONNREFUSED")
                {
                    return .failure(.gone("connection refused at \(url)"))
                }
                return .failure(.inconclusive("\(String(text.prefix(160))) at \(url)"))
            }
        }
        return .failure(.inconclusive("more than \(Self.maxRedirects) redirects"))
    }

    public func check(_ address: String) async -> Result {
        let probe = knownImages != nil
        let fetched = await fetch(address, keep: Self.maxImageBytes) {
            probe && ($0.hasPrefix("image/") || $0.hasPrefix("text/html"))
        }
        switch fetched {
        case .failure(.gone(let why)): return Result(outcome: .gone, detail: why)
        case .failure(.inconclusive(let why)): return Result(outcome: .inconclusive, detail: why)
        case .success(let page):
            switch page.status {
            case 200..<300:
                var detail = "HTTP \(page.status), \(page.type), at \(page.url)"
                if let note = await imageNote(page) { detail += "; " + note }
                return Result(outcome: .live, detail: detail)
            case 404, 410: return Result(outcome: .gone, detail: "HTTP \(page.status) at \(page.url)")
            default: return Result(outcome: .inconclusive, detail: "HTTP \(page.status) at \(page.url)")
            }
        }
    }

    /// For an image, or a page's images: how many are in the national hash set.
    public func imageNote(_ page: Fetched) async -> String? {
        guard let knownImages, let body = page.body else { return nil }
        let hasher = FileHasher(options: HashOptions())
        if page.type.lowercased().hasPrefix("image/") {
            let outcome = body.withUnsafeBytes { hasher.hash(bytes: $0, name: page.url) }
            return await knownImages([outcome]) > 0
                ? "the image is in the national hash set" : "the image is not in the national hash set"
        }
        let sources = Self.imageSources(
            in: String(decoding: body.prefix(Self.maxPageBytes), as: UTF8.self), base: page.url)
        guard !sources.isEmpty else { return "no images on the page" }
        var outcomes: [FileOutcome] = []
        for src in sources.prefix(Self.maxImagesPerPage) {
            if case .success(let image) = await fetch(
                src, keep: Self.maxImageBytes, keepWhen: { $0.hasPrefix("image/") }), let bytes = image.body
            {
                outcomes.append(bytes.withUnsafeBytes { hasher.hash(bytes: $0, name: src) })
            }
        }
        let known = await knownImages(outcomes)
        return "\(known) of \(outcomes.count) images on the page in the national hash set"
    }

    /// The `src` of each `<img>` on a page, made absolute; http(s) only, no duplicates.
    public static func imageSources(in html: String, base: String) -> [String] {
        guard
            let regex = try? NSRegularExpression(
                pattern: #"<img\b[^>]*?\bsrc\s*=\s*["']([^"'>]+)["']"#, options: [.caseInsensitive])
        else { return [] }
        var out: [String] = []
        let range = NSRange(html.startIndex..., in: html)
        for m in regex.matches(in: html, range: range) {
            guard let r = Range(m.range(at: 1), in: html),
                let url = URL(
                    string: String(html[r]).trimmingCharacters(in: .whitespaces), relativeTo: URL(string: base))?
                    .absoluteURL.absoluteString,
                url.hasPrefix("http://") || url.hasPrefix("https://"), !out.contains(url)
            else { continue }
            out.append(url)
        }
        return out
    }

    /// Checks every active entry not checked within `interval`, at most `limit` of them; returns how many.
    @discardableResult
    public static func run(
        store: BlockListStore, interval: TimeInterval, fetcher: OutboundFetcher, dropGone: Bool, limit: Int = 500,
        knownImages: (@Sendable ([FileOutcome]) async -> Int)? = nil
    ) async throws -> Int {
        let checker = LinkChecker(fetcher: fetcher, timeout: .seconds(30), knownImages: knownImages)
        return try await run(store: store, interval: interval, dropGone: dropGone, limit: limit) {
            await checker.check($0)
        }
    }

    /// The job with the fetch given: records a result for every entry due, each audited when it marks or removes.
    public static func run(
        store: BlockListStore, interval: TimeInterval, dropGone: Bool, limit: Int,
        check: (String) async -> Result
    ) async throws -> Int {
        let due = try await store.dueForCheck(before: store.clock.now() - interval, limit: limit)
        var checked = 0
        for entry in due {
            guard let address = address(for: entry) else { continue }
            let result = await check(address)
            try await store.recordCheck(entry.id, outcome: result.outcome, detail: result.detail, dropGone: dropGone)
            checked += 1
        }
        return checked
    }
}

extension LinkChecker {
    /// The image check against the server's match index: an image counts as known when any of its digests is in
    /// the set or its PDQ hash is within the usual radius (31).
    public static func knownImages(_ matcher: @escaping @Sendable () async throws -> HashSetMatcher)
        -> @Sendable ([FileOutcome]) async -> Int
    {
        { outcomes in
            guard let m = try? await matcher() else { return 0 }
            var known = 0
            for outcome in outcomes {
                guard let r = outcome.record else { continue }
                var queries: [HashDigest] = []
                if let d = r.digests {
                    queries += [
                        try? HashDigest(.md5, d.md5), try? HashDigest(.sha1, d.sha1),
                        try? HashDigest(.sha256, d.sha256),
                    ].compactMap { $0 }
                }
                if let p = r.pdq, let q = try? HashDigest(.pdq, "\(p.hash)") { queries.append(q) }
                if let hits = try? await m.match(queries), hits.contains(where: { !$0.isEmpty }) { known += 1 }
            }
            return known
        }
    }
}
