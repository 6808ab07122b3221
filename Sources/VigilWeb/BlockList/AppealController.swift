import Vapor
import VigilCore
import VigilStore

/// The public side of the block list: the appeal form and its status, the published criteria and figures.
enum AppealController {
    struct FormValues: Codable {
        var target: String?
        var grounds: String?
        var contact: String?
        var website: String?  // honeypot
    }

    struct FormPage: Encodable {
        let layout: PublicController.PublicLayout
        let values: FormValues
        let errors: [String]
    }

    static func form(_ req: Request) async throws -> Response {
        let values = FormValues(target: req.query[String.self, at: "target"])
        return try await PublicController.render(
            req, "appeal", FormPage(layout: PublicController.layout(req), values: values, errors: []))
    }

    struct ThanksPage: Encodable {
        let layout: PublicController.PublicLayout
        let reference: String
    }

    static func submit(_ req: Request) async throws -> Response {
        let f = try req.content.decode(FormValues.self)
        let l = try req.localizer
        if let bait = f.website, !bait.isEmpty {
            throw Abort(.badRequest, reason: "The form was not filled in by a person.")
        }
        var errors: [String] = []
        if (f.target ?? "").trimmingCharacters(in: .whitespaces).isEmpty { errors.append(l("appeal.error.target")) }
        if (f.grounds ?? "").trimmingCharacters(in: .whitespaces).isEmpty { errors.append(l("appeal.error.grounds")) }
        if !errors.isEmpty {
            return try await PublicController.render(
                req, "appeal", FormPage(layout: PublicController.layout(req), values: f, errors: errors),
                status: .unprocessableEntity)
        }
        let reference = try await req.blockListStore.submitAppeal(
            target: f.target ?? "", grounds: f.grounds ?? "", contact: f.contact, language: l.language,
            sealer: req.hotline.sealer, tokens: req.vigil.tokens)
        return try await PublicController.render(
            req, "appeal-thanks",
            ThanksPage(
                layout: PublicController.layout(req, extra: ["reference": reference]), reference: reference))
    }

    struct StatusPage: Encodable {
        let layout: PublicController.PublicLayout
        let reference: String
        let status: String?
        let outcome: String?
        let error: String?
    }

    static func status(_ req: Request) async throws -> Response {
        let reference = (req.query[String.self, at: "reference"] ?? "").trimmingCharacters(in: .whitespaces)
        var status: String?
        var outcome: String?
        var error: String?
        if !reference.isEmpty {
            if let appeal = try await req.blockListStore.appeal(reference) {
                status = try req.localizer("appeal.state.\(appeal.state.rawValue)")
                outcome = appeal.outcome
            } else {
                error = try req.localizer("appeal.status.not_found")
            }
        }
        return try await PublicController.render(
            req, "appeal-status",
            StatusPage(
                layout: PublicController.layout(req), reference: reference, status: status, outcome: outcome,
                error: error))
    }

    // MARK: criteria and figures

    struct Criterion: Encodable {
        let code: String
        let text: String
    }

    struct Figure: Encodable {
        let label: String
        let value: Int
    }

    struct ListPage: Encodable {
        let layout: PublicController.PublicLayout
        let criteria: [Criterion]
        let version: String
        let byKind: [Figure]
        let byAge: [Figure]
        let changes: [Figure]
        let appeals: [Figure]
        let canary: Bool
    }

    /// The published criteria and the list's figures: entries by type and age, additions and removals with their
    /// reasons, appeals and outcomes. Never an address.
    static func listPage(_ req: Request) async throws -> Response {
        let stats = try await req.blockListStore.statistics()
        let criteria = try req.vigil.configuration.listCriteria.map { line -> Criterion in
            let parts = line.split(separator: ":", maxSplits: 1)
            return Criterion(
                code: String(parts[0]).trimmingCharacters(in: .whitespaces),
                text: parts.count > 1 ? String(parts[1]).trimmingCharacters(in: .whitespaces) : "")
        }
        let page = ListPage(
            layout: try PublicController.layout(req), criteria: criteria,
            version: stats.currentVersion.map(String.init) ?? "—",
            byKind: ListEntryKind.allCases.map { Figure(label: $0.label, value: stats.publishedByKind[$0] ?? 0) },
            byAge: stats.ageBuckets.map { Figure(label: $0.label, value: $0.count) },
            changes: stats.changes.map {
                Figure(label: "\($0.change == "add" ? "Added" : "Removed"): \($0.reason)", value: $0.count)
            },
            appeals: [AppealState.received, .suspended, .upheld, .rejected].map {
                Figure(label: $0.rawValue, value: stats.appeals[$0] ?? 0)
            },
            canary: try req.blockList.canaryDomain != nil)
        return try await PublicController.render(req, "blocklist", page)
    }
}
