import Foundation
import SQLKit
import Testing
import Vapor
import VigilCore
import VigilStore
import VigilTestSupport

@testable import VigilWeb

/// The findings of the attacker's and the examiner's pass (issue 17), each as the request that used to succeed.
@Suite("Hardening")
struct HardeningTests {
    func report(_ app: Application, _ url: String) async throws -> Int64 {
        try await app.hotlineStoreForTests.submit(
            try ReportSubmission(kind: .url, url: url).validated(), language: "en", actor: .publicVisitor
        ).caseID
    }

    @Test("sign-in never redirects off the site, however the next path is spelled")
    func openRedirect() async throws {
        try await withVigilApp { app, clock in
            let a = Accounts(
                db: app.db, clock: clock, tokens: SystemTokenSource(), passwords: BcryptPasswords(cost: 4),
                configuration: try app.vigil.configuration, secrets: try app.secretSealer)
            let (_, token) = try await a.createUser(username: "ana", role: .analyst, actor: .system)
            let totp = try await a.setInitialPassword(token: token, password: Staff.password)
            _ = try await a.confirmEnrolment(token: token, code: totp.code(at: clock.now()))
            for next in ["/%09/evil.example/", "//evil.example/", "/%5Cevil.example", "/\\evil.example"] {
                clock.advance(by: 30)
                let b = TestBrowser(app)
                try await b.get("/login")
                let step1 = try await b.post(
                    "/login", form: [("username", "ana"), ("password", Staff.password), ("next", next)])
                #expect(step1.status == .seeOther)
                let code = try await b.post(
                    "/login/code", form: [("code", totp.code(at: clock.now())), ("next", next)])
                #expect(code.location == "/dashboard", "\(next) → \(code.location ?? "none")")
            }
        }
    }

    @Test("the liaison sees and acts only on referred cases and its own holds: every other case is 404")
    func needToKnow() async throws {
        try await withVigilApp { app, clock in
            let secret = try await report(app, "http://not-referred.test/a")
            let referred = try await report(app, "http://referred.test/b")
            let store = try app.hotlineStoreForTests
            try await store.apply(.claim(by: "ana"), to: referred, actor: .user("ana"))
            try await store.apply(
                .assess(CaseAssessment(outcome: .internationallyIllegal), by: "ana"), to: referred, actor: .user("ana"))
            try await store.apply(.referToLawEnforcement(by: "ana"), to: referred, actor: .user("ana"))
            let (leo, _) = try await Staff.signedIn(app, clock: clock, username: "leo", role: .leLiaison)
            let (ana, _) = try await Staff.signedIn(app, clock: clock, username: "ana", role: .analyst)
            // Every case route, as the role test walks them.
            for route in app.routes.all where route.path.first.map({ "\($0)" }) == "cases" {
                guard route.path.count > 1, case .parameter = route.path[1] else { continue }
                let path = RouteRulesTests.concretePath(route, parameter: String(secret))
                let res =
                    route.method == .GET
                    ? try await leo.get(path) : try await leo.post(path, form: [("action", "hold"), ("reason", "x")])
                #expect(
                    [.notFound, .forbidden].contains(res.status), "\(route.method) \(path) gave \(res.status)")
                #expect(!res.body.contains("not-referred"), "\(route.method) \(path) leaked the case")
            }
            #expect(try await leo.get("/cases/\(secret)").status == .notFound)
            #expect(try await leo.get("/cases/\(secret)/referral").status == .notFound)
            #expect(try await leo.get("/cases/\(referred)").status == .ok)
            #expect(try await leo.get("/cases/\(referred)/referral?format=json").status == .ok)
            #expect(
                try await leo.post("/cases/\(referred)/act", form: [("action", "hold"), ("reason", "Op")]).status
                    == .seeOther)
            #expect(try await ana.get("/cases/\(secret)").status == .ok, "analysts still see every case")
        }
    }

    @Test("a CSRF token the client chose is refused; the server's token is accepted")
    func csrfChosenByClient() async throws {
        try await withVigilApp { app, _ in
            let forged = TestBrowser(app)
            let body = "kind=behaviour&details=something+worrying&_csrf=abcdefghijklmnopqrstuvwxyz0123456789"
            let res = try await forged.send(
                .POST, "/report",
                headers: [
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Cookie": "vigil_csrf=abcdefghijklmnopqrstuvwxyz0123456789",
                ], body: body)
            #expect(res.status == .forbidden)
            let real = TestBrowser(app)
            try await real.get("/report")
            let token = try #require(real.cookies["vigil_csrf"])
            #expect(token.contains("."), "random value and MAC")
            let ok = try await real.post("/report", form: [("kind", "behaviour"), ("details", "something worrying")])
            #expect(ok.status != .forbidden)
        }
    }

    @Test("a locked account gets the same answer as an unknown name")
    func lockedLooksUnknown() async throws {
        try await withVigilApp { app, clock in
            _ = try await Staff.signedIn(app, clock: clock, username: "ana", role: .analyst)
            func attempt(_ name: String) async throws -> TestBrowser.Page {
                let b = TestBrowser(app)
                try await b.get("/login")
                return try await b.post("/login", form: [("username", name), ("password", "wrong guess")])
            }
            for _ in try 0..<app.vigil.configuration.lockoutThreshold { _ = try await attempt("ana") }
            let locked = try await attempt("ana")
            let unknown = try await attempt("nobody-here")
            #expect(locked.status == unknown.status)
            #expect(locked.body.contains(Accounts.refusal) && unknown.body.contains(Accounts.refusal))
            #expect(!locked.body.contains("locked after"))
        }
    }

    @Test("over-long segments are 404 without an error log, control characters 400, TRACE 405")
    func paths() async throws {
        try await withVigilApp { app, _ in
            let b = TestBrowser(app)
            #expect(try await b.get("/" + String(repeating: "a", count: 256)).status == .notFound)
            #expect(try await b.get("/static/" + String(repeating: "b", count: 300) + ".js").status == .notFound)
            let nul = try await b.get("/static/copy.js%00.html")
            #expect(nul.status == .badRequest)
            #expect(nul.headers.contentType != .html || !nul.body.contains("function"))
            #expect(try await b.get("/cases%0a").status == .badRequest)
            let trace = try await b.send(.TRACE, "/api/v1/reports", body: nil)
            #expect(trace.status == .methodNotAllowed)
            #expect(trace.headers.first(name: "Allow") == "POST")
            #expect(try await b.send(.DELETE, "/cases/1", body: nil).headers.first(name: "Allow") == "GET, HEAD")
            #expect(try await b.send(.TRACE, "/no/such/page", body: nil).status == .notFound)
            let get = try await b.get("/api/v1/reports")
            #expect(get.status == .methodNotAllowed && get.headers.first(name: "Allow") == "POST")
            #expect(try await b.get("/api/v1/reports/R-7KQ4-M2XD").status == .notFound, "a handler's 404 stays")
        }
    }

    @Test("reports API: 415 for a form body, 422 naming unknown concerns, plain field names in JSON errors")
    func reportsAPI() async throws {
        try await withVigilApp { app, _ in
            let b = TestBrowser(app)
            let form = try await b.send(
                .POST, "/api/v1/reports", headers: ["Content-Type": "application/x-www-form-urlencoded"],
                body: "kind=url&url=http://x.test/")
            #expect(form.status == .unsupportedMediaType)
            let concerns = try await b.send(
                .POST, "/api/v1/reports", headers: ["Content-Type": "application/json"],
                body: #"{"kind":"behaviour","details":"worrying chat","concerns":["grooming","catfish"]}"#)
            #expect(concerns.status == .unprocessableEntity)
            #expect(concerns.body.contains("'catfish'") && concerns.body.contains(#""field":"concerns""#))
            let missing = try await b.send(
                .POST, "/api/v1/reports", headers: ["Content-Type": "application/json"], body: #"{"url":"x"}"#)
            #expect(missing.status == .badRequest)
            #expect(missing.body.contains("The field 'kind' is required."), "\(missing.body)")
            #expect(!missing.body.contains("CodingKeys"))
        }
    }

    @Test("reference lookups are throttled per address, with Retry-After")
    func lookupThrottle() async throws {
        try await withVigilApp { app, _ in
            let b = TestBrowser(app)
            var statuses: [HTTPResponseStatus] = []
            for _ in 0...HotlineServices.lookupsPerMinute {
                statuses.append(try await b.get("/api/v1/reports/R-7KQ4-M2XD").status)
            }
            #expect(statuses.dropLast().allSatisfy { $0 != .tooManyRequests })
            let last = try await b.get("/status?reference=R-7KQ4-M2XD")
            #expect(last.status == .tooManyRequests)
            #expect(last.headers.first(name: "Retry-After") == "60")
        }
    }

    @Test("TOTP secrets are encrypted at rest, and sign-in still works")
    func totpAtRest() async throws {
        try await withVigilApp { app, clock in
            let (browser, totp) = try await Staff.signedIn(app, clock: clock, username: "ana", role: .analyst)
            #expect(try await browser.get("/dashboard").status == .ok)
            let row = try #require(
                try await (app.db as! any SQLDatabase).select().column("totp_secret").from("users").where(
                    "username", .equal, "ana"
                ).first())
            let stored = try row.decode(column: "totp_secret", as: String.self)
            #expect(stored.hasPrefix("v1:"))
            #expect(!stored.contains(totp.base32Secret))
        }
    }
}
