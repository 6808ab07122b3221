import Foundation
import Vapor
import VigilCore
import VigilStore

/// Partner hotlines for administrators: the same operations as `vigil partner`, audited the same way, and each
/// link's health (what waits, what failed, the last message each way).
enum PartnersController {
    struct Row: Encodable {
        let name: String
        let label: String
        let countries: String
        let enabled: Bool
        let keys: [String]
        let apiKey: Bool
        let url: String
        let pending: Int
        let failed: Int
        let lastDelivered: String
        let lastReceived: String
        let lastError: String
    }

    struct Page: Encodable {
        let layout: Layout
        let partners: [Row]
        let ownKeyID: String
        let ownPublicKey: String
        let error: String?
    }

    static func page(_ req: Request, flash: String? = nil, error: String? = nil, status: HTTPResponseStatus = .ok)
        async throws -> Response
    {
        let store = FederationStore(db: req.db, clock: try req.vigil.clock)
        let now = store.clock.now()
        let health = try await store.health()
        let rows = try await store.partners().map { p in
            let h = health[p.name] ?? FederationStore.Health()
            return Row(
                name: p.name, label: p.label, countries: p.countries.joined(separator: ", "), enabled: p.enabled,
                keys: p.keys.filter { $0.isCurrent(at: now) }.map { k in
                    k.id + (k.retireAfter.map { " (until \(Format.dateTime($0)))" } ?? "")
                }, apiKey: p.hasAPIKey, url: p.baseURL, pending: h.pending, failed: h.failed,
                lastDelivered: h.lastDelivered.map(Format.dateTime) ?? "—",
                lastReceived: h.lastReceived.map(Format.dateTime) ?? "—", lastError: h.lastError ?? "")
        }
        let raw = try req.application.blockList.signingKey?.publicKey.rawRepresentation
        return try await req.view.render(
            "admin-partners",
            Page(
                layout: Layout(req, title: "Partner hotlines", flash: flash), partners: rows,
                ownKeyID: raw.map(FederationKeyID.of) ?? "", ownPublicKey: raw?.base64EncodedString() ?? "",
                error: error)
        ).encodeResponse(status: status, for: req)
    }

    struct SwitchForm: Content { var enabled: String }

    static func change(_ req: Request) async throws -> Response {
        let name = req.parameters.get("name") ?? ""
        let f = try req.content.decode(SwitchForm.self)
        do {
            try await FederationStore(db: req.db, clock: try req.vigil.clock).setEnabled(
                name, f.enabled == "true", actor: req.auditActor)
            return try await page(req, flash: "Partner \(name) switched \(f.enabled == "true" ? "on" : "off").")
        } catch let error as any VigilFailure where error.kind != .internalFailure {
            return try await page(req, error: sentence(error.description), status: error.kind.httpStatus)
        }
    }

    struct AddForm: Content {
        var name: String
        var label: String?
        var countries: String
        var url: String
        var publicKey: String
        var apiKey: String?
    }

    static func add(_ req: Request) async throws -> Response {
        let f = try req.content.decode(AddForm.self)
        let name = f.name.trimmingCharacters(in: .whitespaces)
        let label = f.label?.trimmingCharacters(in: .whitespaces) ?? ""
        let partner = FederationPartner(
            name: name, label: label.isEmpty ? name : label,
            countries: f.countries.uppercased().split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init),
            baseURL: f.url.trimmingCharacters(in: .whitespaces))
        let apiKey = f.apiKey.flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
        do {
            try await FederationStore(db: req.db, clock: try req.vigil.clock, secrets: try req.application.secretSealer)
                .addPartner(partner, publicKey: f.publicKey, apiKey: apiKey, actor: req.auditActor)
            return try await page(req, flash: "Partner \(name) added.")
        } catch let error as any VigilFailure where error.kind != .internalFailure {
            return try await page(req, error: sentence(error.description), status: error.kind.httpStatus)
        }
    }
}
