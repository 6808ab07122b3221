import Foundation
import Vapor

/// Refuses request targets no page has, before anything touches the file system: a control character (NUL
/// included) anywhere in the decoded path is a 400 (`/static/copy.js%00.html` would otherwise open `copy.js` and
/// be typed as HTML), a segment longer than a file name can be or a path longer than any Vigil route is a plain 404
/// (not a logged 500), and TRACE or CONNECT is a 405.
struct PathGuardMiddleware: AsyncMiddleware {
    static let maxSegmentBytes = 255
    static let maxPathBytes = 2048

    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        if req.method == .TRACE || req.method == .CONNECT {
            throw Abort(.methodNotAllowed, reason: "This method is not supported.")
        }
        let raw = req.url.path
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
        return try await next.respond(to: req)
    }
}
