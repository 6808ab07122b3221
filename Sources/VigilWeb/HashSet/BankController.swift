import Foundation
import Vapor
import VigilCore
import VigilStore

/// The hash set's banks for administrators: the same operations as `vigil bank`, audited the same way.
enum BankController {
    struct Row: Encodable {
        let name: String
        let label: String
        let kind: String
        let enabled: Bool
        let radius: Int
        let sampling: Int
        let reviewed: Bool
        let records: Int
    }

    struct Page: Encodable {
        let layout: Layout
        let banks: [Row]
        let error: String?
    }

    static func page(_ req: Request, flash: String? = nil, error: String? = nil, status: HTTPResponseStatus = .ok)
        async throws -> Response
    {
        let store = HashSetStore(db: req.db, clock: try req.vigil.clock)
        let counts = try await store.recordsPerBank()
        let rows = try await store.banks().map {
            Row(
                name: $0.name, label: $0.label, kind: $0.kind.rawValue, enabled: $0.enabled, radius: $0.pdqRadius,
                sampling: Int(($0.sampling * 100).rounded()), reviewed: $0.reviewed, records: counts[$0.name] ?? 0)
        }
        return try await req.view.render(
            "admin-banks", Page(layout: Layout(req, title: "Hash set banks", flash: flash), banks: rows, error: error)
        ).encodeResponse(status: status, for: req)
    }

    struct ChangeForm: Content {
        var radius: Int?
        var sampling: Int?
        var reviewed: String?
        var enabled: String?
    }

    static func change(_ req: Request) async throws -> Response {
        let name = req.parameters.get("name") ?? ""
        let f = try req.content.decode(ChangeForm.self)
        do {
            let bank = try await HashSetStore(db: req.db, clock: try req.vigil.clock).updateBank(
                name, actor: req.auditActor
            ) { b in
                if let r = f.radius { b.pdqRadius = r }
                if let s = f.sampling { b.sampling = Double(s) / 100 }
                b.reviewed = f.reviewed == "true"
                if let e = f.enabled { b.enabled = e == "true" }
            }
            return try await page(req, flash: "Bank \(bank.name) saved\(bank.enabled ? "" : " (off)").")
        } catch let error as any VigilFailure where error.kind != .internalFailure {
            return try await page(req, error: sentence(error.description), status: error.kind.httpStatus)
        }
    }

    struct AddForm: Content {
        var name: String
        var label: String?
        var kind: String
        var radius: Int?
        var reviewed: String?
    }

    static func add(_ req: Request) async throws -> Response {
        let f = try req.content.decode(AddForm.self)
        guard let kind = HashBank.Kind(rawValue: f.kind) else {
            throw Abort(.badRequest, reason: "The field 'kind' must be match or negative.")
        }
        let name = f.name.trimmingCharacters(in: .whitespaces)
        let label = f.label?.trimmingCharacters(in: .whitespaces) ?? ""
        let bank = HashBank(
            name: name, label: label.isEmpty ? name : label, kind: kind, pdqRadius: f.radius ?? 31,
            reviewed: f.reviewed == "true")
        do {
            try await HashSetStore(db: req.db, clock: try req.vigil.clock).addBank(bank, actor: req.auditActor)
        } catch let error as any VigilFailure where error.kind != .internalFailure {
            return try await page(req, error: sentence(error.description), status: error.kind.httpStatus)
        }
        return try await page(req, flash: "Bank \(bank.name) added.")
    }
}
