import Vapor
import VigilCore
import VigilStore

/// The public hotline: home, report form, thank-you page with the reference, status check. Every page in the
/// visitor's language (right-to-left where it reads so), without JavaScript, and storing no visitor address.
enum PublicController {
    /// Frame and texts for public pages.
    struct PublicLayout: Encodable {
        struct Language: Encodable {
            let code: String
            let name: String
            let selected: Bool
        }
        let lang: String
        let dir: String
        let t: [String: String]
        let languages: [Language]
        let path: String
        let csrf: String
    }

    static func layout(_ req: Request, extra: [String: String] = [:]) throws -> PublicLayout {
        let l = try req.localizer
        let c = try req.vigil.configuration
        var args = [
            "site_name": c.siteName, "emergency_number": c.emergencyNumber, "helpline_name": c.helplineName,
            "helpline_number": c.helplineNumber, "retention_days": String(c.contactRetentionDays),
        ]
        for (k, v) in extra { args[k] = v }
        var t: [String: String] = [:]
        let catalog = try req.hotline.catalog
        for key in (catalog.tables[catalog.fallbackLanguage] ?? [:]).keys {
            t[key.replacingOccurrences(of: ".", with: "_")] = l(key, args)
        }
        let languages = catalog.languages.map { code in
            PublicLayout.Language(
                code: code, name: catalog.localizer(for: code)("language.name"), selected: code == l.language)
        }
        return PublicLayout(
            lang: l.language, dir: l.direction.rawValue, t: t, languages: languages, path: req.url.path,
            csrf: req.csrfToken)
    }

    /// Renders a public page, remembering an explicit language choice in a cookie.
    static func render(_ req: Request, _ template: String, _ context: some Encodable, status: HTTPResponseStatus = .ok)
        async throws -> Response
    {
        let res = try await req.view.render(template, context).encodeResponse(status: status, for: req)
        if let choice = req.query[String.self, at: "lang"], let l = try req.hotline.catalog.language(forChoice: choice)
        {
            res.cookies["vigil_lang"] = HTTPCookies.Value(
                string: l, maxAge: 365 * 86400, path: "/", isSecure: try req.vigil.configuration.cookiesAreSecure,
                isHTTPOnly: true, sameSite: .lax)
        }
        res.headers.replaceOrAdd(name: .contentLanguage, value: try req.localizer.language)
        res.headers.replaceOrAdd(name: .vary, value: "Accept-Language, Cookie")
        return res
    }

    struct Page: Encodable { let layout: PublicLayout }

    static func home(_ req: Request) async throws -> Response {
        try await render(req, "public-home", Page(layout: layout(req)))
    }

    struct FormValues: Codable {
        var kind: String?
        var url: String?
        var newsgroup: String?
        var message_id: String?
        var p2p: String?
        var service_kind: String?
        var service: String?
        var profile: String?
        var concerns: [String]?
        var details: String?
        var danger: String?
        var contact: String?
        var website: String?  // honeypot: people leave it empty
    }

    struct FormPage: Encodable {
        let layout: PublicLayout
        let values: FormValues
        let errors: [String: String]
        let errorList: [String]
        let concerns: [String: Bool]
        /// A platform's report link filled the form in (`/report?kind=url&url=…&service=…`).
        var prefilled = false
    }

    /// Fields a report link may fill in, as the form names them.
    static let linkFields: [WritableKeyPath<FormValues, String?>: String] = [
        \.url: "url", \.newsgroup: "newsgroup", \.message_id: "message_id", \.p2p: "p2p",
        \.service_kind: "service_kind", \.profile: "profile",
    ]

    /// The report form, empty or filled in by a platform's report link. A filled-in form is checked as a sent one
    /// would be, and its problems shown beside the fields, but nothing is sent until the reporter sends it.
    static func form(_ req: Request) async throws -> Response {
        var v = FormValues()
        let kind = req.query[String.self, at: "kind"].flatMap(ReportKind.init(rawValue:))
        v.kind = kind?.rawValue ?? "url"
        var given: Set<String> = []
        for (path, name) in linkFields {
            if let text = req.query[String.self, at: name]?.trimmingCharacters(in: .whitespacesAndNewlines),
                !text.isEmpty
            {
                v[keyPath: path] = String(text.prefix(4096))
                given.insert(name)
            }
        }
        // The platform's name: the service of a profile report; for other kinds, said on the page.
        let service = req.query[String.self, at: "service"].map {
            String($0.trimmingCharacters(in: .whitespacesAndNewlines).prefix(100))
        }
        if let service, !service.isEmpty, kind == .profile {
            v.service = service
            given.insert("service")
        }
        var errors: [String: String] = [:]
        if !given.isEmpty, let submission = submission(v) {
            let l = try req.localizer
            do { _ = try submission.validated() } catch {
                for issue in error.issues
                where given.contains(issue.field.rawValue) && errors[issue.field.rawValue] == nil {
                    errors[issue.field.rawValue] = l(issue.messageKey, issue.messageArguments)
                }
            }
        }
        let from = service.flatMap { $0.isEmpty ? nil : $0 } ?? ""
        var page = FormPage(
            layout: try layout(req, extra: ["service_note": from.isEmpty ? "" : " (\(from))"]), values: v,
            errors: errors,
            errorList: Array(Set(errors.values)).sorted(), concerns: [:])
        page.prefilled = !given.isEmpty
        return try await render(req, "public-report", page)
    }

    struct ButtonPage: Encodable {
        struct Snippet: Encodable {
            let language: String
            let name: String
            let html: String
        }
        let layout: PublicLayout
        let format: String
        let example: String
        let snippets: [Snippet]
    }

    /// For platforms: the report link's format and a copy-paste snippet per language (a plain link: no script, no
    /// tracking, nothing a strict Content-Security-Policy refuses).
    static func button(_ req: Request) async throws -> Response {
        let c = try req.vigil.configuration
        let catalog = try req.hotline.catalog
        let base = c.baseURL
        let snippets = catalog.languages.map { code -> ButtonPage.Snippet in
            let l = catalog.localizer(for: code)
            let text = l("button.link_text", ["site_name": c.siteName])
            let href = "\(base)/report?kind=url&amp;url=PAGE_ADDRESS&amp;service=YOUR_SITE&amp;lang=\(code)"
            return .init(
                language: code, name: l("language.name"),
                html: "<a href=\"\(href)\" rel=\"nofollow noopener\" lang=\"\(code)\">\(text)</a>")
        }
        return try await render(
            req, "public-report-button",
            ButtonPage(
                layout: layout(req), format: "\(base)/report?kind=url&url=PAGE_ADDRESS&service=YOUR_SITE&lang=LANGUAGE",
                example:
                    "\(base)/report?kind=url&url=https%3A%2F%2Fvideos.example.test%2Fwatch%2F123&service=Example%20Videos&lang=fr",
                snippets: snippets))
    }

    static func submission(_ v: FormValues) -> ReportSubmission? {
        guard let kind = v.kind.flatMap(ReportKind.init(rawValue:)) else { return nil }
        return ReportSubmission(
            kind: kind, url: v.url, newsgroup: v.newsgroup, messageID: v.message_id, p2p: v.p2p,
            serviceKind: v.service_kind.flatMap(ProfileService.init(rawValue:)), service: v.service, profile: v.profile,
            concerns: Set((v.concerns ?? []).compactMap(BehaviourConcern.init(rawValue:))), details: v.details,
            childInImmediateDanger: v.danger == "on" || v.danger == "true", contact: v.contact, source: .publicReporter)
    }

    struct ThanksPage: Encodable {
        let layout: PublicLayout
        let reference: String
        let danger: Bool
    }

    static func submit(_ req: Request) async throws -> Response {
        let v = try req.content.decode(FormValues.self)
        let l = try req.localizer
        func again(_ errors: [String: String], status: HTTPResponseStatus) async throws -> Response {
            let page = FormPage(
                layout: try layout(req, extra: ["service_note": ""]), values: v, errors: errors,
                errorList: Array(Set(errors.values)).sorted(),
                concerns: Dictionary(uniqueKeysWithValues: (v.concerns ?? []).map { ($0, true) }))
            return try await render(req, "public-report", page, status: status)
        }
        guard v.website?.isEmpty ?? true else {
            return try await again(["form": l("error.generic")], status: .badRequest)
        }
        let (limiter, address, now) = try (req.hotline.reportLimiter, req.clientAddress, req.vigil.clock.now())
        guard await limiter.allow(address, now: now) else {
            return try await again(["form": l("error.rate_limited")], status: .tooManyRequests)
        }
        guard let submission = submission(v) else {
            return try await again(["kind": l("error.invalid.kind")], status: .badRequest)
        }
        let report: ValidatedReport
        do { report = try submission.validated() } catch {
            var errors: [String: String] = [:]
            for issue in error.issues where errors[issue.field.rawValue] == nil {
                errors[issue.field.rawValue] = l(issue.messageKey, issue.messageArguments)
            }
            return try await again(errors, status: .badRequest)
        }
        let done = try await req.application.reportCommitter.submit(
            .init(report: report, language: l.language, actor: .publicVisitor))
        // Post/redirect/get would need the reference in a URL; the page is shown directly, only after the commit.
        return try await render(
            req, "public-thanks",
            ThanksPage(
                layout: layout(req, extra: ["reference": done.reference.description]),
                reference: done.reference.description, danger: report.childInImmediateDanger))
    }

    struct StatusPage: Encodable {
        let layout: PublicLayout
        let reference: String
        let status: String?
        let error: String?
    }

    static func status(_ req: Request) async throws -> Response {
        let l = try req.localizer
        guard let typed = req.query[String.self, at: "reference"], !typed.isEmpty else {
            return try await render(
                req, "public-status", StatusPage(layout: layout(req), reference: "", status: nil, error: nil))
        }
        try await req.application.limitLookups(req)
        guard let ref = try? ReportReference(parsing: typed) else {
            return try await render(
                req, "public-status",
                StatusPage(layout: layout(req), reference: typed, status: nil, error: l("status.invalid")),
                status: .badRequest)
        }
        guard let st = try await req.hotlineStore.publicStatus(of: ref) else {
            return try await render(
                req, "public-status",
                StatusPage(layout: layout(req), reference: ref.description, status: nil, error: l("status.not_found")),
                status: .notFound)
        }
        return try await render(
            req, "public-status",
            StatusPage(
                layout: layout(req, extra: ["reference": ref.description]), reference: ref.description,
                status: l(st.messageKey), error: nil))
    }
}
