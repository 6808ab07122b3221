import Foundation
import Testing
import Vapor
import VigilCore
import VigilTestSupport
import VigilWeb

@testable import VigilStore

@Suite("Operations, errors and API keys")
struct OperationsTests {
    @Test("health reports the database, metrics count requests and logins")
    func healthAndMetrics() async throws {
        try await withVigilApp { app, _ in
            let b = TestBrowser(app)
            let h = try await b.get("/healthz")
            #expect(h.status == .ok)
            #expect(h.body.contains(#""database":"reachable""#))
            try await b.post("/login", form: [("username", "nobody"), ("password", "wrong")])
            #expect(try await b.get("/metrics").status == .unauthorized, "metrics need a metrics:read key")
            let m = try await b.get("/metrics", scopes: [.metricsRead])
            #expect(m.status == .ok)
            #expect(m.body.contains(#"vigil_http_requests_total{route="/healthz",method="GET",status="200"} 1"#))
            #expect(m.body.contains(#"vigil_logins_total{result="failure"} 1"#))
            #expect(m.body.contains("vigil_http_request_duration_seconds_bucket"))
        }
    }

    @Test("every response carries the security headers, errors included")
    func securityHeaders() async throws {
        try await withVigilApp { app, _ in
            let b = TestBrowser(app)
            for path in ["/", "/login", "/no-such-page", "/dashboard"] {
                let r = try await b.get(path)
                let csp = r.headers.first(name: "Content-Security-Policy") ?? ""
                #expect(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "\(path)")
                #expect(r.headers.first(name: "X-Frame-Options") == "DENY")
                #expect(r.headers.first(name: "Referrer-Policy") == "no-referrer")
                #expect(r.headers.first(name: "X-Content-Type-Options") == "nosniff")
                #expect(r.headers.first(name: "X-Request-Id") != nil)
            }
        }
    }

    @Test("unknown pages get a 404 page, JSON callers a JSON error, and no internals leak")
    func notFound() async throws {
        try await withVigilApp { app, _ in
            let b = TestBrowser(app)
            let page = try await b.get("/nothing/here")
            #expect(page.status == .notFound)
            #expect(page.body.contains("There is no page at this address."))
            let json = try await b.get("/api/v1/nothing")
            #expect(json.status == .notFound)
            #expect(json.headers.contentType == .json)
            #expect(json.body.contains(#""error":true"#))
        }
    }

    @Test(
        "a malformed form names the missing field (413 for oversized bodies is checked against a live server in Tests/e2e)"
    )
    func badInput() async throws {
        try await withVigilApp(configure: { $0.maxBodyBytes = 4096 }) { app, _ in
            let b = TestBrowser(app)
            try await b.get("/login")
            let missing = try await b.post("/login", form: [("username", "someone")])
            #expect(missing.status == .badRequest)
            #expect(missing.body.contains("password"))
            let wrongType = try await b.send(
                .POST, "/login", headers: ["Content-Type": "application/json"],
                body: #"{"username": 5, "password": "x", "_csrf": "x"}"#)
            #expect(wrongType.status == .forbidden || wrongType.status == .badRequest)
        }
    }

    @Test("an API key authenticates with Bearer, records its use, and stops working when revoked")
    func apiKeys() async throws {
        try await withVigilApp { app, clock in
            let keys = APIKeys(db: app.db, clock: clock, tokens: SystemTokenSource())
            let (row, secret) = try await keys.create(partner: "Example ISP", scopes: [.feedsRead], actor: .system)
            let b = TestBrowser(app)
            let ok = try await b.send(.GET, "/api/v1/whoami", headers: ["Authorization": "Bearer \(secret)"], body: nil)
            #expect(ok.status == .ok)
            #expect(ok.body.contains("Example ISP"))
            #expect(try await keys.list().first?.lastUsedAt == clock.now())
            let bad = try await b.send(
                .GET, "/api/v1/whoami", headers: ["Authorization": "Bearer vgl_wrong"], body: nil)
            #expect(bad.status == .unauthorized)
            try await keys.revoke(row.id.uuidString, actor: .system)
            let revoked = try await b.send(
                .GET, "/api/v1/whoami", headers: ["Authorization": "Bearer \(secret)"], body: nil)
            #expect(revoked.status == .unauthorized)
            // stored only as a hash
            #expect(
                try await APIKeyModel.query(on: app.db).all().allSatisfy {
                    $0.keyHash != secret && !$0.keyHash.contains(secret)
                })
        }
    }

    @Test("admins create and revoke keys in the UI; the key is shown once")
    func apiKeysUI() async throws {
        try await withVigilApp { app, clock in
            let (admin, _) = try await Staff.signedIn(app, clock: clock, username: "boss", role: .admin)
            let created = try await admin.post(
                "/admin/apikeys",
                form: [("partner", "Platform A"), ("scopes[]", "match:read"), ("scopes[]", "reports:write")])
            #expect(created.status == .ok)
            let secret = try #require(TestBrowser.capture(#"id="new-key">(vgl_[A-Za-z0-9_-]+)<"#, in: created.body))
            let list = try await admin.get("/admin/apikeys")
            #expect(!list.body.contains(secret), "the key is never shown again")
            #expect(list.body.contains("match:read,reports:write"))
            let none = try await admin.post("/admin/apikeys", form: [("partner", "Nobody")])
            #expect(none.status == .badRequest)
        }
    }

    @Test("the QR code for enrolment is an SVG drawn by libqrencode")
    func qrCode() async throws {
        try await withVigilApp { app, _ in
            let a = Accounts(
                db: app.db, clock: try app.vigil.clock, tokens: SystemTokenSource(),
                passwords: BcryptPasswords(cost: 4),
                configuration: try app.vigil.configuration, secrets: try app.secretSealer)
            let token = try await a.issueSetupLink(username: "admin", actor: .system)
            let b = TestBrowser(app)
            try await b.get("/setup/\(token)")
            try await b.post(
                "/setup/\(token)", form: [("password", "admin password 123"), ("confirm", "admin password 123")])
            let page = try await b.get("/setup/\(token)/mfa")
            #expect(page.body.contains("<svg"))
            #expect(page.body.contains("otpauth://totp/Vigil:admin?secret="))
            let short = try await b.post("/setup/\(token)", form: [("password", "short"), ("confirm", "short")])
            #expect(short.status != .seeOther)
        }
    }
}
