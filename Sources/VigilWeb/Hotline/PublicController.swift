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
    }

    static func form(_ req: Request) async throws -> Response {
        var v = FormValues()
        v.kind = req.query[String.self, at: "kind"] ?? "url"
        return try await render(
            req, "public-report", FormPage(layout: layout(req), values: v, errors: [:], errorList: [], concerns: [:]))
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
                layout: try layout(req), values: v, errors: errors, errorList: Array(Set(errors.values)).sorted(),
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
