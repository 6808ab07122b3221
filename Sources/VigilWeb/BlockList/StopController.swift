import Vapor
import VigilCore
import VigilStore

/// Answers for listed domains, whichever path was asked: a resolver's RPZ answer sends the visitor here. Nothing
/// about the visitor is recorded beyond a counter (no log line, no address, not even the path).
struct StopPageMiddleware: AsyncMiddleware {
    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard let hostHeader = req.headers.first(name: .host) else { return try await next.respond(to: req) }
        let host = hostHeader.hasPrefix("[") ? hostHeader : String(hostHeader.split(separator: ":", maxSplits: 1)[0])
        let service = try req.blockList
        guard service.isListedHost(host) else { return try await next.respond(to: req) }
        if let canary = service.canaryDomain, host.lowercased() == canary || host.lowercased().hasSuffix("." + canary),
            req.url.path == "/vigil-canary.svg"
        {
            return StopController.canaryImage(version: service.currentVersion)
        }
        return try await StopController.stopPage(req)
    }
}

enum StopController {
    struct Page: Encodable {
        let layout: PublicController.PublicLayout
        let helpContact: String
    }

    static func args(_ req: Request) throws -> [String: String] {
        let c = try req.vigil.configuration
        return ["legal_basis": c.stopLegalBasis, "help_name": c.stopHelpName, "help_contact": c.stopHelpContact]
    }

    /// The STOP page, in the visitor's language, with status 451 (Unavailable For Legal Reasons).
    static func stopPage(_ req: Request) async throws -> Response {
        try req.vigil.metrics.stopPageView()
        let res = try await PublicController.render(
            req, "stop",
            Page(
                layout: PublicController.layout(req, extra: args(req)),
                helpContact: req.vigil.configuration.stopHelpContact),
            status: .unavailableForLegalReasons)
        res.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return res
    }

    /// What a filtered connection gets for the canary's image: a green mark with the list version.
    static func canaryImage(version: Int64) -> Response {
        let svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="360" height="48" role="img" aria-label="Filtered: this connection applies the national list">\
            <rect width="360" height="48" rx="6" fill="#e6f4ea"/><text x="16" y="30" font-family="sans-serif" font-size="16" fill="#0b6b2c">\
            ✓ Filtered: this connection applies list version \(version)</text></svg>
            """
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: "image/svg+xml")
        headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return Response(status: .ok, headers: headers, body: .init(string: svg))
    }

    struct FilterPage: Encodable {
        let layout: PublicController.PublicLayout
        let canaryURL: String?
    }

    /// "Is my connection filtered?": embeds the canary's image; a connection that applies the list loads it from
    /// Vigil's STOP address, one that does not cannot load it and shows the fallback text.
    static func filterCheck(_ req: Request) async throws -> Response {
        let canary = try req.blockList.canaryDomain.map { "http://\($0)/vigil-canary.svg" }
        let res = try await PublicController.render(
            req, "filter-check", FilterPage(layout: PublicController.layout(req), canaryURL: canary))
        if let domain = try req.blockList.canaryDomain {
            res.headers.replaceOrAdd(
                name: "Content-Security-Policy",
                value: SecurityHeadersMiddleware.policy(objectSource: "http://\(domain)"))
        }
        return res
    }
}

extension Metrics {
    /// Counts a STOP page shown (the only trace a visitor leaves).
    func stopPageView() {
        registry.makeCounter(
            descriptor: .init(
                namespace: "vigil", metricName: "stop_page_views", unitName: "total",
                helpText: "STOP pages shown (nothing else about visitors is kept)")
        ).increment()
    }
}
