import Foundation
import Vapor
import VigilCore
import VigilStore
import VigilWeb

/// Shortcuts that create enrolled staff and signed-in browsers without going through the pages.
public enum Staff {
    public static let password = "a sufficiently long password"

    /// Creates an enrolled user with `role` and returns a browser signed in as them, and their TOTP.
    public static func signedIn(_ app: Application, clock: ManualClock, username: String, role: Role) async throws -> (
        TestBrowser, VigilCore.TOTP
    ) {
        let a = Accounts(
            db: app.db, clock: clock, tokens: SystemTokenSource(), passwords: BcryptPasswords(cost: 4),
            configuration: try app.vigil.configuration, secrets: try app.secretSealer)
        let (_, token) = try await a.createUser(username: username, role: role, actor: .system)
        let totp = try await a.setInitialPassword(token: token, password: password)
        _ = try await a.confirmEnrolment(token: token, code: totp.code(at: clock.now()))
        clock.advance(by: 30)
        guard case .needsCode(let pending) = try await a.signIn(username: username, password: password),
            case .signedIn(let session) = try await a.verifyCode(
                sessionToken: pending, code: totp.code(at: clock.now()))
        else { throw JourneyError.step("sign-in for \(username)") }
        let browser = TestBrowser(app)
        try await browser.get("/login")  // picks up the CSRF cookie
        browser.setCookie("vigil_session", session)
        return (browser, totp)
    }
}

extension TestBrowser {
    /// Sets a cookie directly.
    public func setCookie(_ name: String, _ value: String) { cookiesStorage(name, value) }
}
