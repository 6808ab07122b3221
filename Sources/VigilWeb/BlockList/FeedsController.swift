import Vapor
import VigilCore
import VigilFormats
import VigilStore

/// Feeds for ISPs, schools, libraries and cafés: every format of the current signed version, with ETags, diffs
/// since a version, and every download audited.
enum FeedsController {
    static func publicKey(_ req: Request) async throws -> Response {
        guard let key = try req.blockList.publicKeyBase64 else {
            throw Abort(.serviceUnavailable, reason: "The signing key is not loaded yet.")
        }
        var headers = HTTPHeaders()
        headers.contentType = .plainText
        return Response(status: .ok, headers: headers, body: .init(string: key + "\n"))
    }

    static func feed(_ req: Request) async throws -> Response {
        guard case .partner(let keyID, let partner, _) = req.caller else { throw Abort(.unauthorized) }
        let name = req.parameters.get("format") ?? ""
        guard let format = FeedFormat(rawValue: name) else {
            throw Abort(
                .notFound,
                reason: "No feed '\(name)'. Feeds: \(FeedFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        // A download never publishes: verifications that run out are taken off by the publication job queued for
        // their expiry, which the server's worker runs within seconds.
        let service = try req.blockList
        let store = try req.blockListStore
        guard let current = try await service.feed(format, db: req.db, clock: req.vigil.clock) else {
            throw Abort(.notFound, reason: "No version of the list has been published yet.")
        }
        var bytes = current.bytes
        var signature = current.signature
        var etag = current.etag
        let sinceGiven = (req.url.query ?? "").split(separator: "&").contains {
            $0.hasPrefix("since=") || $0 == "since"
        }
        if sinceGiven {
            guard let since = req.query[Int64.self, at: "since"] else {
                throw Abort(.badRequest, reason: "'since' must be one version number.")
            }
            guard format == .json else { throw Abort(.badRequest, reason: "'since' is only for the json feed.") }
            guard since >= 0, since <= current.version else {
                throw Abort(.badRequest, reason: "'since' must be a published version (0 to \(current.version)).")
            }
            let old = since == 0 ? [] : (try await store.targets(at: since)?.1 ?? [])
            guard let (info, targets) = try await store.targets(at: current.version) else { throw Abort(.notFound) }
            bytes = FeedRenderer.diffJSON(
                since: since, old: old,
                to: PublishedList(version: info.version, publishedAt: info.createdAt, targets: targets))
            signature = service.sign(bytes) ?? ""

            etag = "\"v\(current.version)-since\(since)\""
        }
        let notModified = req.headers[.ifNoneMatch].contains {
            $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.contains(etag)
        }
        try await store.recordDownload(
            apiKey: keyID, partner: partner,
            format: notModified ? "\(format.rawValue) (not modified)" : format.rawValue,
            version: current.version)
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .eTag, value: etag)
        headers.replaceOrAdd(name: "X-Vigil-List-Version", value: String(current.version))
        headers.replaceOrAdd(name: .cacheControl, value: "private, no-cache")
        if notModified { return Response(status: .notModified, headers: headers) }
        headers.replaceOrAdd(name: "X-Vigil-Signature", value: "ed25519=\(signature)")
        headers.replaceOrAdd(name: .contentType, value: format.contentType)
        headers.replaceOrAdd(
            name: .contentDisposition,
            value: "attachment; filename=\"vigil-\(format.rawValue)-v\(current.version).\(format.fileExtension)\"")
        return Response(status: .ok, headers: headers, body: .init(data: Data(bytes)))
    }
}
