import Foundation
import Vapor

/// Refuses request targets no page has, before anything touches the file system: a control character (NUL
/// included) anywhere in the decoded path is a 400 (`/static/copy.js%00.html` would otherwise open `copy.js` and
/// be typed as HTML), a segment longer than a file name can be or a path longer than any Vigil route is a plain 404
/// (not a logged 500), and a method no route of the path takes (TRACE, DELETE, …) is a 405 with `Allow` naming the
/// methods that path does take (RFC 9110), or a 404 where the path has no route at all.
struct PathGuardMiddleware: AsyncMiddleware {
    static let maxSegmentBytes = 255
    static let maxPathBytes = 2048

    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let raw = req.url.path
        // Vigil routes only GET and POST (HEAD rides on GET): anything else is answered here, without the router.
        if ![.GET, .HEAD, .POST].contains(req.method) { try Self.refuseMethod(req, path: raw) }
        guard let decoded = raw.removingPercentEncoding else {
            throw Abort(.badRequest, reason: "The address is not correctly percent-encoded.")
        }
        if decoded.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw Abort(.badRequest, reason: "The address holds a control character.")
        }
        if raw.utf8.count > Self.maxPathBytes
            || decoded.split(separator: "/").contains(where: { $0.utf8.count > Self.maxSegmentBytes })
        {
            throw Abort(.notFound)
        }
        do {
            return try await next.respond(to: req)
        } catch let abort as any AbortError where abort.status == .notFound {
            // A GET to a POST-only address (or the reverse) reaches no route: that is a 405, not a 404. A 404 from a
            // handler whose route this is (no such case) stays a 404. Only on this error path is the table read.
            let allowed = Self.methods(forPath: raw, in: req.application.routes)
            let method = req.method == .HEAD ? "GET" : req.method.rawValue
            if !allowed.isEmpty, !allowed.contains(method) { try Self.refuseMethod(req, path: raw) }
            throw abort
        }
    }

    /// Answers a method the path's routes do not take: 405 with `Allow`, or 404 where the path has no route.
    static func refuseMethod(_ req: Request, path: String) throws -> Never {
        let allowed = methods(forPath: path, in: req.application.routes)
        guard !allowed.isEmpty else { throw Abort(.notFound) }
        throw Abort(
            .methodNotAllowed, headers: ["Allow": allowed.joined(separator: ", ")],
            reason: "This address takes \(allowed.joined(separator: " or ")) only.")
    }

    /// The methods the route table has for `path` (HEAD with GET), in a stable order.
    static func methods(forPath path: String, in routes: Routes) -> [String] {
        let segments = path.split(separator: "/").map(String.init)
        var found: Set<String> = []
        for route in routes.all where matches(route.path, segments) {
            found.insert(route.method.rawValue)
            if route.method == .GET { found.insert("HEAD") }
        }
        return ["GET", "HEAD", "POST"].filter(found.contains) + found.subtracting(["GET", "HEAD", "POST"]).sorted()
    }

    static func matches(_ pattern: [PathComponent], _ segments: [String]) -> Bool {
        for (i, component) in pattern.enumerated() {
            switch component {
            case .catchall: return segments.count > i
            case .constant(let text): guard i < segments.count, segments[i] == text else { return false }
            case .parameter, .anything: guard i < segments.count else { return false }
            }
        }
        return pattern.count == segments.count
    }
}
