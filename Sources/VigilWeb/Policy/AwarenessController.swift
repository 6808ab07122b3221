import Vapor
import VigilCore
import VigilStore

/// Awareness pages for young people, parents and teachers, in every public language: Markdown rendered by
/// ``SafeMarkdown`` (no raw HTML, no scripts), edited by administrators with a preview and a history of revisions.
/// A page's text is its newest revision, else the operator's file, else the shipped default.
enum AwarenessController {
    /// A page's text in one language and where it comes from.
    struct Resolved {
        let slug: String
        let language: String
        let markdown: String
        let revision: PolicyStore.Revision?
    }

    /// Every page name, shipped ones first.
    static func slugs(_ req: Request, edited: [String: PolicyStore.Revision]) throws -> [String] {
        let all = try Set(
            req.policy.defaultPages.keys.map { String($0.split(separator: "/")[0]) } + edited.values.map(\.slug))
        return PolicyServices.shippedOrder.filter(all.contains) + all.subtracting(PolicyServices.shippedOrder).sorted()
    }

    /// The text of `slug` for `language`, following the language's fallback chain (`fr-CA` → `fr` → `en`); a page
    /// written in none of those (an operator's page in one language only) is shown in the first language it has.
    static func resolve(_ req: Request, slug: String, language: String, edited: [String: PolicyStore.Revision])
        throws -> Resolved?
    {
        let (defaults, catalog) = (try req.policy.defaultPages, try req.hotline.catalog)
        let prefix = slug + "/"
        var written: Set<String> = []
        for key in Array(edited.keys) + Array(defaults.keys) where key.hasPrefix(prefix) {
            written.insert(String(key.dropFirst(prefix.count)))
        }
        let chain: [String] = LanguageTag.fallbackChain(language, fallback: catalog.fallbackLanguage)
        for lang in chain + written.sorted() {
            if let r = edited["\(slug)/\(lang)"] {
                return Resolved(slug: slug, language: lang, markdown: r.body, revision: r)
            }
            if let text = defaults["\(slug)/\(lang)"] {
                return Resolved(slug: slug, language: lang, markdown: text, revision: nil)
            }
        }
        return nil
    }

    /// Fills `{helpline_name}`, `{helpline_number}`, `{emergency_number}` and `{site_name}`, then renders.
    static func html(_ req: Request, _ markdown: String) throws -> String {
        let c = try req.vigil.configuration
        return SafeMarkdown.render(
            Localizer.fill(
                markdown,
                [
                    "helpline_name": c.helplineName, "helpline_number": c.helplineNumber,
                    "emergency_number": c.emergencyNumber, "site_name": c.siteName,
                ]))
    }

    struct Link: Encodable {
        let href: String
        let title: String
    }

    struct IndexPage: Encodable {
        let layout: PublicController.PublicLayout
        let pages: [Link]
    }

    static func index(_ req: Request) async throws -> Response {
        let edited = try await req.policyStore.currentAwarenessPages()
        let lang = try req.localizer.language
        let links = try slugs(req, edited: edited).compactMap { slug -> Link? in
            guard let r = try resolve(req, slug: slug, language: lang, edited: edited) else { return nil }
            return Link(href: "/learn/\(slug)", title: SafeMarkdown.title(of: r.markdown) ?? slug)
        }
        return try await PublicController.render(
            req, "public-learn-index", IndexPage(layout: PublicController.layout(req), pages: links))
    }

    struct Page: Encodable {
        let layout: PublicController.PublicLayout
        let title: String
        let html: String
        let fallback: Bool
        let contentLanguage: String
        let contentDir: String
    }

    static func page(_ req: Request) async throws -> Response {
        let slug = req.parameters.get("slug") ?? ""
        guard PolicyStore.isValidSlug(slug) else { throw Abort(.notFound) }
        let edited = try await req.policyStore.currentAwarenessPages()
        let l = try req.localizer
        guard let r = try resolve(req, slug: slug, language: l.language, edited: edited) else { throw Abort(.notFound) }
        return try await PublicController.render(
            req, "public-learn",
            Page(
                layout: PublicController.layout(req), title: SafeMarkdown.title(of: r.markdown) ?? slug,
                html: html(req, r.markdown),
                fallback: r.language != l.language, contentLanguage: r.language,
                contentDir: TextDirection.of(language: r.language).rawValue))
    }

    // MARK: - staff

    struct Cell: Encodable {
        let language: String
        let href: String
        let state: String
    }

    struct ListRow: Encodable {
        let slug: String
        let cells: [Cell]
    }

    struct ListPage: Encodable {
        let layout: Layout
        let languages: [String]
        let rows: [ListRow]
        let error: String?
    }

    static func adminList(_ req: Request) async throws -> Response {
        try await listPage(req, error: nil)
    }

    static func listPage(_ req: Request, error: String?, status: HTTPResponseStatus = .ok) async throws -> Response {
        let edited = try await req.policyStore.currentAwarenessPages()
        let languages = try Array(
            Set(
                req.hotline.catalog.languages + req.policy.defaultPages.keys.map { String($0.split(separator: "/")[1]) }
                    + edited.values.map(\.language))
        ).sorted()
        let rows = try slugs(req, edited: edited).map { slug in
            ListRow(
                slug: slug,
                cells: try languages.map { lang in
                    let state: String
                    if let r = edited["\(slug)/\(lang)"] {
                        state = "edited \(PolicyFormat.day(r.createdAt)) by \(r.author)"
                    } else if try req.policy.defaultPages["\(slug)/\(lang)"] != nil {
                        state = "default text"
                    } else {
                        state = "not written (shows a fallback)"
                    }
                    return Cell(language: lang, href: "/admin/learn/\(slug)/\(lang)", state: state)
                })
        }
        return try await req.view.render(
            "admin-learn",
            ListPage(layout: Layout(req, title: "Awareness pages"), languages: languages, rows: rows, error: error)
        )
        .encodeResponse(status: status, for: req)
    }

    struct CreateForm: Content {
        var slug: String?
        var language: String?
    }

    /// Starts a new page (or a new language of a page): checks the names and opens the editor.
    static func adminCreate(_ req: Request) async throws -> Response {
        let f = try req.content.decode(CreateForm.self)
        let slug = (f.slug ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        guard PolicyStore.isValidSlug(slug) else {
            return try await listPage(
                req, error: "A page name is 1 to 48 lower-case letters, digits and dashes (for example online-gaming).",
                status: .badRequest)
        }
        guard let lang = LanguageTag.normalize(f.language ?? "") else {
            return try await listPage(
                req, error: "The language must be a language tag such as fr, sw or pt-BR.", status: .badRequest)
        }
        return req.redirect(to: "/admin/learn/\(slug)/\(lang)", redirectType: .normal)
    }

    struct RevisionView: Encodable {
        let id: Int64
        let when: String
        let author: String
        let bytes: Int
        let href: String
    }

    struct EditorPage: Encodable {
        let layout: Layout
        let slug: String
        let language: String
        let dir: String
        let body: String
        let preview: String
        let source: String
        let revisions: [RevisionView]
        let publicHref: String
        let error: String?
    }

    static func names(_ req: Request) throws -> (String, String) {
        guard let slug = req.parameters.get("slug"), PolicyStore.isValidSlug(slug),
            let lang = req.parameters.get("lang").flatMap(LanguageTag.normalize)
        else { throw Abort(.notFound) }
        return (slug, lang)
    }

    static func editor(_ req: Request) async throws -> Response {
        let (slug, lang) = try names(req)
        let edited = try await req.policyStore.currentAwarenessPages()
        var body = ""
        var source = "New page: nothing is written in this language yet."
        if let id = req.query[Int64.self, at: "revision"], let r = try await req.policyStore.awarenessRevision(id),
            r.slug == slug, r.language == lang
        {
            body = r.body
            source =
                "Revision \(r.id) of \(PolicyFormat.minute(r.createdAt)) UTC by \(r.author), loaded into the editor. Save to make it the current text again."
        } else if let r = edited["\(slug)/\(lang)"] {
            body = r.body
            source = "Current text: revision \(r.id), saved by \(r.author)."
        } else if let d = try req.policy.defaultPages["\(slug)/\(lang)"] {
            body = d
            source =
                "Default text shipped with Vigil (or from the operator's policy/learn folder). Saving stores your version."
        }
        return try await editorPage(
            req, slug: slug, lang: lang, body: body, source: source,
            flash: req.query[String.self, at: "saved"] != nil ? "Saved. The public page shows the new text." : nil,
            error: nil)
    }

    static func editorPage(
        _ req: Request, slug: String, lang: String, body: String, source: String, flash: String?, error: String?,
        status: HTTPResponseStatus = .ok
    ) async throws -> Response {
        let history = try await req.policyStore.awarenessHistory(slug: slug, language: lang).map {
            RevisionView(
                id: $0.id, when: PolicyFormat.minute($0.createdAt), author: $0.author, bytes: $0.body.utf8.count,
                href: "/admin/learn/\(slug)/\(lang)?revision=\($0.id)")
        }
        let page = EditorPage(
            layout: Layout(req, title: "Edit \(slug) (\(lang))", flash: flash), slug: slug, language: lang,
            dir: TextDirection.of(language: lang).rawValue,
            body: body, preview: try html(req, body), source: source, revisions: history,
            publicHref: "/learn/\(slug)?lang=\(lang)", error: error)
        return try await req.view.render("admin-learn-edit", page).encodeResponse(status: status, for: req)
    }

    struct SaveForm: Content {
        var body: String?
        var action: String?
    }

    /// `action=preview` shows the posted text rendered, without saving; `action=save` stores a new revision.
    static func save(_ req: Request) async throws -> Response {
        let (username, _) = try req.requireStaff()
        let (slug, lang) = try names(req)
        let f = try req.content.decode(SaveForm.self)
        let body = f.body ?? ""
        if f.action != "save" {
            return try await editorPage(
                req, slug: slug, lang: lang, body: body, source: "Preview of your changes: not saved yet.", flash: nil,
                error: nil)
        }
        do {
            try await req.policyStore.saveAwarenessPage(slug: slug, language: lang, body: body, by: username)
        } catch let e as StoreError {
            return try await editorPage(
                req, slug: slug, lang: lang, body: body, source: "Not saved.", flash: nil, error: e.description,
                status: .badRequest)
        }
        return req.redirect(to: "/admin/learn/\(slug)/\(lang)?saved=1", redirectType: .normal)
    }
}
