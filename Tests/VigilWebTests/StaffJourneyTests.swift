import Foundation
import Testing
import Vapor
import VigilCore
import VigilStore
import VigilTestSupport
import VigilWeb

@Suite("Staff sign-up and sign-in through the pages")
struct StaffJourneyTests {
    /// The admin's first setup link, as printed on first start.
    func adminLink(_ app: Application) async throws -> String {
        let a = Accounts(
            db: app.db, clock: try app.vigil.clock, tokens: SystemTokenSource(), passwords: BcryptPasswords(cost: 4),
            configuration: try app.vigil.configuration, secrets: try app.secretSealer)
        return "/setup/" + (try await a.issueSetupLink(username: "admin", actor: .system))
    }

    @Test("admin sets up, signs in, creates an analyst; the analyst enrols and cannot open admin pages")
    func fullJourney() async throws {
        try await withVigilApp { app, clock in
            // given the admin's setup link
            let admin = TestBrowser(app)
            let journey = StaffJourney(admin, clock: clock)
            let (adminTOTP, codes) = try await journey.completeSetup(
                link: try await adminLink(app), password: "admin password 123")
            #expect(codes.count == 10)
            // when the admin signs in
            let signedIn = try await journey.signIn("admin", "admin password 123", totp: adminTOTP)
            #expect(signedIn.status == .seeOther)
            #expect(signedIn.location == "/dashboard")
            let dash = try await admin.get("/dashboard")
            #expect(dash.status == .ok)
            #expect(dash.body.contains(#"id="whoami">admin<"#))
            #expect(dash.body.contains(#"href="/admin/users""#))
            // and creates an analyst
            let created = try await admin.post("/admin/users", form: [("username", "ana"), ("role", "analyst")])
            #expect(created.status == .ok)
            let link = try #require(TestBrowser.capture(#"id="setup-link">([^<]+)<"#, in: created.body))
            // then the analyst enrols and signs in
            let analyst = TestBrowser(app)
            let aj = StaffJourney(analyst, clock: clock)
            let (anaTOTP, _) = try await aj.completeSetup(link: link, password: "analyst password 1")
            #expect(try await aj.signIn("ana", "analyst password 1", totp: anaTOTP).status == .seeOther)
            let anaDash = try await analyst.get("/dashboard")
            #expect(anaDash.body.contains(#"id="whoami">ana<"#))
            #expect(
                !anaDash.body.contains(#"href="/admin/users""#), "the analyst's navigation must not offer admin pages")
            #expect(try await analyst.get("/admin/users").status == .forbidden)
            #expect(
                try await analyst.post("/admin/users", form: [("username", "mallory"), ("role", "admin")]).status
                    == .forbidden)
            // and the audit log records all of it
            let audit = try await admin.get("/audit?action=user.create")
            #expect(audit.body.contains("user:ana"))
            #expect(try await AuditLog.verify(on: app.db) > 5)
        }
    }

    @Test("a wrong code is refused and does not sign in")
    func wrongCode() async throws {
        try await withVigilApp { app, clock in
            let b = TestBrowser(app)
            let j = StaffJourney(b, clock: clock)
            let (totp, _) = try await j.completeSetup(link: try await adminLink(app), password: "admin password 123")
            let first = try await b.post("/login", form: [("username", "admin"), ("password", "admin password 123")])
            #expect(first.status == .seeOther)
            let wrong = String(format: "%06d", (Int(totp.code(at: clock.now()))! + 1) % 1_000_000)
            let res = try await b.post("/login/code", form: [("code", wrong)])
            #expect(res.status == .unauthorized)
            #expect(res.body.contains("That code is not right"))
            #expect(b.cookies["vigil_session"] == nil)
            #expect(try await b.get("/dashboard").status == .unauthorized)
        }
    }

    @Test("repeated bad passwords lock the account for a while")
    func lockoutThroughPages() async throws {
        try await withVigilApp { app, clock in
            let b = TestBrowser(app)
            let j = StaffJourney(b, clock: clock)
            let (totp, _) = try await j.completeSetup(link: try await adminLink(app), password: "admin password 123")
            for _ in 0..<4 {
                #expect(
                    try await b.post("/login", form: [("username", "admin"), ("password", "not the password")]).status
                        == .unauthorized)
            }
            let locked = try await b.post("/login", form: [("username", "admin"), ("password", "not the password")])
            // The same answer as a wrong password or an unknown name: the page does not confirm the account exists.
            #expect(locked.status == .unauthorized)
            #expect(locked.body.contains("repeated failures lock it for a while"))
            #expect(try await j.signIn("admin", "admin password 123", totp: totp).status == .unauthorized)
            clock.advance(by: 16 * 60)
            #expect(try await j.signIn("admin", "admin password 123", totp: totp).status == .seeOther)
        }
    }

    @Test("one address that keeps failing is throttled, whatever the user names")
    func addressThrottle() async throws {
        try await withVigilApp(configure: { $0.addressFailureLimit = 5 }) { app, _ in
            let b = TestBrowser(app)
            try await b.get("/login")
            for i in 0..<5 {
                #expect(
                    try await b.post("/login", form: [("username", "nobody\(i)"), ("password", "x")]).status
                        == .unauthorized)
            }
            #expect(
                try await b.post("/login", form: [("username", "nobody9"), ("password", "x")]).status
                    == .tooManyRequests)
        }
    }

    @Test("a form without its CSRF token is refused")
    func csrf() async throws {
        try await withVigilApp { app, clock in
            let (admin, _) = try await Staff.signedIn(app, clock: clock, username: "boss", role: .admin)
            let res = try await admin.post(
                "/admin/users", form: [("username", "x1"), ("role", "analyst")], csrf: false)
            #expect(res.status == .forbidden)
            #expect(
                try await Accounts(
                    db: app.db, clock: clock, tokens: SystemTokenSource(), passwords: BcryptPasswords(cost: 4),
                    configuration: app.vigil.configuration, secrets: app.secretSealer
                ).user(named: "x1") == nil)
        }
    }

    @Test("admin pages disable, re-enable, change roles and reset MFA")
    func adminActions() async throws {
        try await withVigilApp { app, clock in
            let (admin, _) = try await Staff.signedIn(app, clock: clock, username: "boss", role: .admin)
            let (victim, _) = try await Staff.signedIn(app, clock: clock, username: "sam", role: .analyst)
            #expect(try await victim.get("/dashboard").status == .ok)
            #expect(try await admin.post("/admin/users/sam", form: [("action", "disable")]).status == .ok)
            #expect(try await victim.get("/dashboard").status == .unauthorized, "disabling ends sessions")
            #expect(try await admin.post("/admin/users/sam", form: [("action", "enable")]).status == .ok)
            #expect(
                try await admin.post("/admin/users/sam", form: [("action", "role"), ("role", "supervisor")]).status
                    == .ok)
            let reset = try await admin.post("/admin/users/sam", form: [("action", "reset-mfa")])
            #expect(reset.body.contains("/setup/"))
            let a = Accounts(
                db: app.db, clock: clock, tokens: SystemTokenSource(), passwords: BcryptPasswords(cost: 4),
                configuration: try app.vigil.configuration, secrets: try app.secretSealer)
            let sam = try #require(try await a.user(named: "sam"))
            #expect(sam.role == .supervisor)
            #expect(!sam.mfaEnabled)
            #expect(try await admin.post("/admin/users/sam", form: [("action", "explode")]).status == .badRequest)
        }
    }
}
