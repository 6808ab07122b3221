import Vapor
import VigilCore
import VigilStore

/// `POST /api/v1/reports` and `GET /api/v1/reports/{reference}`: anonymous reporting with the public limit, or
/// batches of up to 1,000 items from partners holding `reports:write`, each item accepted or rejected on its own.
enum ReportsAPIController {
    static let maxBatch = 1000

    /// One report; field names follow the web form (and NCMEC's CyberTipline structure where it fits).
    struct Item: Content {
        var kind: String
        var url: String?
        var newsgroup: String?
        var message_id: String?
        var p2p: String?
        var service_kind: String?
        var service: String?
        var profile: String?
        var concerns: [String]?
        var details: String?
        var child_in_immediate_danger: Bool?
        var contact: String?
        var incident_time: String?
        var reported_users: [String]?
        var file_hashes: [FileHash]?
        var source: String?
    }

    struct FileHash: Content {
        var algorithm: String
        var value: String
    }

    struct Batch: Content { var reports: [Item] }

    struct FieldError: Content {
        let field: String
        let message: String
    }

    struct ItemResult: Content {
        let index: Int
        let accepted: Bool
        let reference: String?
        let errors: [FieldError]
    }

    struct BatchResult: Content {
        let accepted: Int
        let rejected: Int
        let results: [ItemResult]
    }

    static func submit(_ req: Request) async throws -> Response {
        guard let type = req.headers.contentType, type.type == "application",
            type.subType == "json" || type.subType.hasSuffix("+json")
        else {
            throw Abort(.unsupportedMediaType, reason: "Send reports as JSON (Content-Type: application/json).")
        }
        var items: [Item]
        var partnerKey: String?
        var source: ReportSource = .publicReporter
        if case .partner(let id, _, let scopes) = req.caller {
            guard scopes.contains(.reportsWrite) else {
                throw Abort(.forbidden, reason: "This API key does not have the reports:write scope.")
            }
            partnerKey = id
            source = .platform
            try await req.vigil.rateLimit(req)
        } else {
            let (limiter, address, now) = try (req.hotline.reportLimiter, req.clientAddress, req.vigil.clock.now())
            guard await limiter.allow(address, now: now)
            else {
                throw Abort(
                    .tooManyRequests, headers: ["Retry-After": "600"],
                    reason: "Too many reports from this address; try again later.")
            }
        }
        if let batch = try? req.content.decode(Batch.self) {
            items = batch.reports
            guard partnerKey != nil || items.count <= 1 else {
                throw Abort(
                    .badRequest,
                    reason: "Anonymous callers send one report at a time; batches need an API key with reports:write.")
            }
        } else {
            items = [try req.content.decode(Item.self)]
        }
        guard !items.isEmpty else {
            throw Abort(.badRequest, reason: "The field 'reports' must hold at least one report.")
        }
        guard items.count <= maxBatch else {
            throw Abort(.badRequest, reason: "The field 'reports' may hold at most \(maxBatch) reports.")
        }
        let store = try req.hotlineStore
        let actor = req.auditActor
        var results: [ItemResult] = []
        var toStore: [(Int, HotlineStore.Submission)] = []
        for (i, item) in items.enumerated() {
            guard let kind = ReportKind(rawValue: item.kind) else {
                results.append(
                    ItemResult(
                        index: i, accepted: false, reference: nil,
                        errors: [
                            FieldError(
                                field: "kind", message: "unknown kind; use url, newsgroup, p2p, profile or behaviour")
                        ]))
                continue
            }
            let unknownConcerns = (item.concerns ?? []).filter { BehaviourConcern(rawValue: $0) == nil }
            guard unknownConcerns.isEmpty else {
                let known = BehaviourConcern.allCases.map(\.rawValue).joined(separator: ", ")
                results.append(
                    ItemResult(
                        index: i, accepted: false, reference: nil,
                        errors: [
                            FieldError(
                                field: "concerns",
                                message:
                                    "unknown \(unknownConcerns.count == 1 ? "concern" : "concerns") \(unknownConcerns.map { "'\($0.prefix(40))'" }.joined(separator: ", ")); use \(known)"
                            )
                        ]))
                continue
            }
            var itemSource = source
            if partnerKey != nil, let s = item.source.flatMap(ReportSource.init(rawValue:)) { itemSource = s }
            let submission = ReportSubmission(
                kind: kind, url: item.url, newsgroup: item.newsgroup, messageID: item.message_id, p2p: item.p2p,
                serviceKind: item.service_kind.flatMap(ProfileService.init(rawValue:)), service: item.service,
                profile: item.profile,
                concerns: Set((item.concerns ?? []).compactMap(BehaviourConcern.init(rawValue:))),
                details: item.details,
                childInImmediateDanger: item.child_in_immediate_danger ?? false, contact: item.contact,
                source: itemSource)
            // Platform fields: validated here, kept with the report.
            var extraErrors: [FieldError] = []
            var hashes: [String] = []
            for h in item.file_hashes ?? [] {
                if let a = HashAlgorithm(rawValue: h.algorithm.lowercased()), let d = try? HashDigest(a, h.value) {
                    hashes.append(d.description)
                } else {
                    extraErrors.append(
                        FieldError(
                            field: "file_hashes", message: "'\(h.algorithm)' hash '\(h.value.prefix(80))' is not valid")
                    )
                }
            }
            if let t = item.incident_time, ISO8601DateFormatter().date(from: t) == nil {
                extraErrors.append(
                    FieldError(field: "incident_time", message: "must be an ISO 8601 time like 2026-01-31T12:00:00Z"))
            }
            let users = (item.reported_users ?? []).map { String($0.prefix(256)) }.prefix(100)
            guard extraErrors.isEmpty else {
                results.append(ItemResult(index: i, accepted: false, reference: nil, errors: extraErrors))
                continue
            }
            do {
                let validated = try submission.validated()
                var sub = HotlineStore.Submission(report: validated, language: "en", actor: actor, apiKey: partnerKey)
                sub.incidentTime = item.incident_time
                sub.reportedUsers = users.isEmpty ? nil : Array(users)
                sub.fileHashes = hashes.isEmpty ? nil : hashes
                if items.count == 1 {
                    let done = try await req.application.reportCommitter.submit(sub)
                    results.append(
                        ItemResult(index: i, accepted: true, reference: done.reference.description, errors: []))
                } else {
                    toStore.append((i, sub))
                    results.append(ItemResult(index: i, accepted: true, reference: nil, errors: []))
                }
            } catch let e as ReportValidationError {
                results.append(
                    ItemResult(
                        index: i, accepted: false, reference: nil,
                        errors: e.issues.map { FieldError(field: $0.field.rawValue, message: $0.description) }))
            }
        }
        if !toStore.isEmpty {
            // A partner's batch: its valid items in one transaction; references are filled in after the commit.
            let stored = try await store.submitBatch(toStore.map(\.1))
            for (k, (i, _)) in toStore.enumerated() {
                results[i] = ItemResult(
                    index: i, accepted: true, reference: stored[k].reference.description, errors: [])
            }
        }
        let accepted = results.filter(\.accepted).count
        let res = Response(status: accepted == 0 ? .unprocessableEntity : (partnerKey == nil ? .created : .ok))
        try res.content.encode(BatchResult(accepted: accepted, rejected: results.count - accepted, results: results))
        return res
    }

    struct Status: Content {
        let reference: String
        let status: String
    }

    static func status(_ req: Request) async throws -> Status {
        try await req.application.limitLookups(req)
        let text = try req.parameters.require("reference")
        guard let ref = try? ReportReference(parsing: text) else {
            throw Abort(.badRequest, reason: "This is not a report reference (like R-7KQ4-M2XD).")
        }
        guard let st = try await req.hotlineStore.publicStatus(of: ref) else {
            throw Abort(.notFound, reason: "No report has this reference.")
        }
        return Status(reference: ref.description, status: st.rawValue)
    }
}
