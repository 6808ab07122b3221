import Vapor
import VigilApp
import VigilCore
import VigilStore

/// Administrators keep the partner hotlines and providers' webhooks, and the notice templates per language;
/// providers confirm removal through the one-time link in a notice.
enum ChannelsController {
    struct Row: Encodable {
        let key: String
        let kind: String
        let name: String
        let language: String
        let delivery: String
        let address: String
    }

    struct Template: Encodable {
        let language: String
        let body: String
    }

    struct Page: Encodable {
        let layout: Layout
        let rows: [Row]
        let templates: [Template]
        let defaultTemplate: String
        let error: String?
    }

    static func page(_ req: Request, error: String? = nil, status: HTTPResponseStatus = .ok) async throws -> Response {
        let store = NoticeStore(db: req.db, clock: try req.vigil.clock)
        let rows = try await store.channels().map {
            Row(
                key: $0.key, kind: $0.kind.rawValue, name: $0.name, language: $0.language,
                delivery: $0.delivery.rawValue, address: $0.address)
        }
        let templates = try await store.templates().sorted { $0.key < $1.key }.map {
            Template(language: $0.key, body: $0.value)
        }
        return try await req.view.render(
            "admin-channels",
            Page(
                layout: Layout(req, title: "Partners and notices"), rows: rows, templates: templates,
                defaultTemplate: NoticeService.defaultTemplate, error: error)
        )
        .encodeResponse(status: status, for: req)
    }

    struct ChannelForm: Content {
        var key: String
        var kind: String
        var name: String
        var language: String?
        var delivery: String
        var address: String
        var secret: String?
    }

    static func setChannel(_ req: Request) async throws -> Response {
        let (user, _) = try req.requireStaff()
        let f = try req.content.decode(ChannelForm.self)
        do {
            guard let kind = NoticeStore.Channel.Kind(rawValue: f.kind),
                let delivery = NoticeStore.Channel.Delivery(rawValue: f.delivery)
            else {
                throw StoreError.invalid("choose partner or provider, and e-mail or webhook")
            }
            try await NoticeStore(db: req.db, clock: req.vigil.clock).setChannel(
                .init(
                    key: f.key.trimmingCharacters(in: .whitespaces), kind: kind, name: f.name,
                    language: (f.language ?? "en").isEmpty ? "en" : f.language!,
                    delivery: delivery, address: f.address.trimmingCharacters(in: .whitespaces),
                    secret: f.secret.flatMap { $0.isEmpty ? nil : $0 }),
                by: .user(user))
        } catch let error as StoreError {
            return try await page(req, error: sentence(error.description), status: .unprocessableEntity)
        }
        return req.redirect(to: "/admin/channels", redirectType: .normal)
    }

    struct TemplateForm: Content {
        var language: String
        var body: String
    }

    static func setTemplate(_ req: Request) async throws -> Response {
        let (user, _) = try req.requireStaff()
        let f = try req.content.decode(TemplateForm.self)
        do {
            try await NoticeStore(db: req.db, clock: req.vigil.clock).setTemplate(
                language: f.language, body: f.body, by: .user(user))
        } catch let error as StoreError {
            return try await page(req, error: sentence(error.description), status: .unprocessableEntity)
        }
        return req.redirect(to: "/admin/channels", redirectType: .normal)
    }

    /// The one-time link in a notice: the provider says the content is gone; Vigil checks at once.
    static func confirm(_ req: Request) async throws -> Response {
        let token = req.parameters.get("token") ?? ""
        let store = NoticeStore(db: req.db, clock: try req.vigil.clock)
        let text: String
        var status = HTTPResponseStatus.ok
        if let id = try await store.consumeConfirmation(token) {
            try await JobQueue(db: req.db, clock: req.vigil.clock, owner: "web").enqueue(
                NoticeService.confirmedJob, payload: NoticeStore.noticePayload(id))
            text =
                "Thank you. We are checking the addresses of notice \(id) now; you will hear from us again only if they are still online."
        } else {
            text = "This confirmation link is not valid or was already used."
            status = .notFound
        }
        var headers = HTTPHeaders()
        headers.contentType = .plainText
        return Response(status: status, headers: headers, body: .init(string: text + "\n"))
    }
}
