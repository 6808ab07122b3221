import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Vapor
import VigilCore
import VigilStore

/// The first layer of retesting: fetches each active entry's address on a schedule and records whether the
/// content is still there. Bodies are read and discarded as they arrive (at most 1 MiB), never stored. At most 5
/// redirects are followed, by hand, so that each hop can be recorded; an optional proxy is used for every hop.
struct LinkChecker: Sendable {
    /// What one fetch found.
    struct Result: Sendable, Equatable {
        let outcome: ListCheckOutcome
        let detail: String
    }

    let client: HTTPClient
    let timeout: TimeAmount
    static let maxRedirects = 5
    static let maxBodyBytes = 1 << 20

    /// A client for checks: no automatic redirects, the configured proxy, short time-outs.
    /// A refused connection is retried by the client until the connect time-out, so a closed port costs that long.
    static func makeClient(proxy: String?, connectTimeout: TimeAmount = .seconds(10)) -> HTTPClient {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: connectTimeout, read: .seconds(20)))
        if let proxy, let url = URL(string: proxy), let host = url.host {
            configuration.proxy = .server(host: host, port: url.port ?? 3128)
        }
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// The address a check fetches for an entry (listed addresses are stored without a scheme).
    static func address(for target: ListTarget) -> String? {
        switch target.kind {
        case .url, .prefix: "http://" + target.value
        case .domain: "http://" + target.value + "/"
        case .newsgroup: nil
        }
    }

    func check(_ address: String) async -> Result {
        var url = address
        for hop in 0...Self.maxRedirects {
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "User-Agent", value: "Vigil-list-check/1")
            do {
                let response = try await client.execute(request, timeout: timeout)
                var seen = 0
                for try await chunk in response.body {
                    seen += chunk.readableBytes
                    if seen >= Self.maxBodyBytes { break }
                }
                let status = response.status.code
                let type = response.headers.first(name: "Content-Type") ?? "unknown type"
                switch status {
                case 200..<300:
                    return Result(outcome: .live, detail: "HTTP \(status), \(type), at \(url)")
                case 301, 302, 303, 307, 308:
                    guard hop < Self.maxRedirects, let location = response.headers.first(name: "Location"),
                          let next = URL(string: location, relativeTo: URL(string: url))?.absoluteURL.absoluteString,
                          next.hasPrefix("http://") || next.hasPrefix("https://")
                    else { return Result(outcome: .inconclusive, detail: "HTTP \(status): redirect not followed from \(url)") }
                    url = next
                case 404, 410:
                    return Result(outcome: .gone, detail: "HTTP \(status) at \(url)")
                default:
                    return Result(outcome: .inconclusive, detail: "HTTP \(status) at \(url)")
                }
            } catch {
                let text = String(describing: error)
                if text.contains("connectionRefused") || text.contains("Connection refused") || text.contains("ECONNREFUSED") {
                    return Result(outcome: .gone, detail: "connection refused at \(url)")
                }
                if text.contains("NXDOMAIN") || text.contains("Name or service not known") || text.contains("nodename nor servname")
                    || text.contains("No address") || text.contains("noAddress") {
                    return Result(outcome: .gone, detail: "no such domain for \(url)")
                }
                return Result(outcome: .inconclusive, detail: "\(String(text.prefix(160))) at \(url)")
            }
        }
        return Result(outcome: .inconclusive, detail: "more than \(Self.maxRedirects) redirects")
    }

    /// Checks every active entry not checked within `interval`, at most `limit` of them; returns how many.
    @discardableResult
    static func run(store: BlockListStore, interval: TimeInterval, proxy: String?, dropGone: Bool, limit: Int = 500) async throws -> Int {
        let client = makeClient(proxy: proxy)
        let checker = LinkChecker(client: client, timeout: .seconds(30))
        do {
            let n = try await run(store: store, interval: interval, dropGone: dropGone, limit: limit) { await checker.check($0) }
            try await client.shutdown()
            return n
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// The job with the fetch given: records a result for every entry due, each audited when it marks or removes.
    static func run(store: BlockListStore, interval: TimeInterval, dropGone: Bool, limit: Int,
                    check: (String) async -> Result) async throws -> Int {
        let due = try await store.dueForCheck(before: store.clock.now() - interval, limit: limit)
        var checked = 0
        for entry in due {
            guard let address = address(for: entry.target) else { continue }
            let result = await check(address)
            try await store.recordCheck(entry.id, outcome: result.outcome, detail: result.detail, dropGone: dropGone)
            checked += 1
        }
        return checked
    }
}
