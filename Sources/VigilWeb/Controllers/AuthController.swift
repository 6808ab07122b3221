import Vapor
import VigilCore
import VigilStore

/// Sign-in (password, then code), sign-out, and the one-time setup link (password + MFA enrolment).
enum AuthController {
    static let pendingCookie = "vigil_pending"

    // MARK: sign-in

    struct LoginPage: Encodable {
        let layout: Layout
        let next: String
        let username: String
        let error: String?
    }

    static func loginPage(_ req: Request, next: String? = nil, status: HTTPResponseStatus = .ok) async throws
        -> Response
    {
        let target = safeNext(next ?? req.query[String.self, at: "next"])
        let page = LoginPage(layout: Layout(req, title: "Sign in"), next: target, username: "", error: nil)
        let res = try await req.view.render("login", page).encodeResponse(status: status, for: req)
        return res
    }

    struct LoginForm: Content {
        let username: String
        let password: String
        let next: String?
    }

    static func login(_ req: Request) async throws -> Response {
        let form = try req.content.decode(LoginForm.self)
        let next = safeNext(form.next)
        let throttle = try req.vigil.addressThrottle
        func refuse(_ message: String, status: HTTPResponseStatus) async throws -> Response {
            let page = LoginPage(
                layout: Layout(req, title: "Sign in"), next: next, username: form.username, error: message)
            return try await req.view.render("login", page).encodeResponse(status: status, for: req)
        }
        guard await throttle.allows(try req.clientAddress) else {
            try req.vigil.metrics.login("throttled")
            return try await refuse(
                "Too many failed sign-ins from this address. Wait a few minutes and try again.",
                status: .tooManyRequests)
        }
        let username = form.username.trimmingCharacters(in: .whitespaces).lowercased()
        switch try await req.accounts.signIn(username: username, password: form.password) {
        case .needsCode(let token):
            let res = req.redirect(
                to:
                    "/login/code?next=\(next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/dashboard")",
                redirectType: .normal)
            res.cookies[pendingCookie] = try cookie(token, req, maxAge: 600)
            return res
        case .locked:
            // The same answer as an unknown name or a wrong password: a locked account is a known one.
            try req.vigil.metrics.login("locked")
            await throttle.recordFailure(try req.clientAddress)
            return try await refuse(Accounts.refusal, status: .unauthorized)
        case .refused(let message):
            try req.vigil.metrics.login("failure")
            await throttle.recordFailure(try req.clientAddress)
            return try await refuse(message, status: .unauthorized)
        case .signedIn:
            throw Abort(.internalServerError)
        }
    }

    struct CodePage: Encodable {
        let layout: Layout
        let next: String
        let error: String?
    }

    static func codePage(_ req: Request) async throws -> Response {
        guard req.cookies[pendingCookie]?.string != nil else { return req.redirect(to: "/login") }
        let page = CodePage(
            layout: Layout(req, title: "Enter your code"), next: safeNext(req.query[String.self, at: "next"]),
            error: nil)
        return try await req.view.render("login-code", page).encodeResponse(for: req)
    }

    struct CodeForm: Content {
        let code: String
        let next: String?
    }

    static func code(_ req: Request) async throws -> Response {
        let form = try req.content.decode(CodeForm.self)
        let next = safeNext(form.next)
        guard let pending = req.cookies[pendingCookie]?.string else { return req.redirect(to: "/login") }
        let throttle = try req.vigil.addressThrottle
        guard await throttle.allows(try req.clientAddress) else {
            return try await loginError(
                req, "Too many failed sign-ins from this address. Wait a few minutes and try again.",
                status: .tooManyRequests)
        }
        switch try await req.accounts.verifyCode(sessionToken: pending, code: form.code) {
        case .signedIn(let token):
            try req.vigil.metrics.login("success")
            let res = req.redirect(to: next, redirectType: .normal)
            res.cookies[AccessMiddleware.sessionCookie] = try cookie(
                token, req, maxAge: Int(try req.vigil.configuration.sessionAbsoluteTimeout))
            res.cookies[pendingCookie] = try expired(req)
            return res
        case .locked(let until):
            try req.vigil.metrics.login("locked")
            await throttle.recordFailure(try req.clientAddress)
            return try await loginError(req, lockedMessage(until), status: .tooManyRequests)
        case .refused(let message):
            try req.vigil.metrics.login("failure")
            await throttle.recordFailure(try req.clientAddress)
            // A wrong code ends the half-open session: start again from the password.
            return try await loginError(
                req,
                message == "Your sign-in has expired. Please start again."
                    ? message : "That code is not right. Sign in again.", status: .unauthorized)
        case .needsCode:
            throw Abort(.internalServerError)
        }
    }

    private static func loginError(_ req: Request, _ message: String, status: HTTPResponseStatus) async throws
        -> Response
    {
        let page = LoginPage(layout: Layout(req, title: "Sign in"), next: "/dashboard", username: "", error: message)
        let res = try await req.view.render("login", page).encodeResponse(status: status, for: req)
        res.cookies[pendingCookie] = try expired(req)
        return res
    }

    static func logout(_ req: Request) async throws -> Response {
        if let token = req.cookies[AccessMiddleware.sessionCookie]?.string {
            try await req.accounts.signOut(sessionToken: token)
        }
        let res = req.redirect(to: "/login", redirectType: .normal)
        res.cookies[AccessMiddleware.sessionCookie] = try expired(req)
        return res
    }

    // MARK: setup link

    struct SetupPage: Encodable {
        let layout: Layout
        let token: String
        let username: String
        let error: String?
    }

    static func setupPage(_ req: Request) async throws -> Response {
        let token = try req.parameters.require("token")
        guard let user = try await req.accounts.userForSetup(token: token) else { throw invalidLink }
        if user.passwordSet, user.hasTOTPSecret { return req.redirect(to: "/setup/\(token)/mfa") }
        return try await req.view.render(
            "setup",
            SetupPage(
                layout: Layout(req, title: "Set up your account"), token: token, username: user.username, error: nil)
        ).encodeResponse(for: req)
    }

    struct PasswordForm: Content {
        let password: String
        let confirm: String
    }

    static func setPassword(_ req: Request) async throws -> Response {
        let token = try req.parameters.require("token")
        let form = try req.content.decode(PasswordForm.self)
        guard let user = try await req.accounts.userForSetup(token: token) else { throw invalidLink }
        func again(_ message: String) async throws -> Response {
            try await req.view.render(
                "setup",
                SetupPage(
                    layout: Layout(req, title: "Set up your account"), token: token, username: user.username,
                    error: message)
            ).encodeResponse(status: .badRequest, for: req)
        }
        guard form.password == form.confirm else { return try await again("The two passwords are not the same.") }
        do {
            _ = try await req.accounts.setInitialPassword(token: token, password: form.password)
        } catch StoreError.invalid(let message) {
            return try await again(sentence(message))
        }
        return req.redirect(to: "/setup/\(token)/mfa", redirectType: .normal)
    }

    struct EnrolPage: Encodable {
        let layout: Layout
        let token: String
        let username: String
        let qrSVG: String
        let secret: String
        let uri: String
        let error: String?
    }

    static func enrolPage(_ req: Request, error: String? = nil, status: HTTPResponseStatus = .ok) async throws
        -> Response
    {
        let token = try req.parameters.require("token")
        guard let user = try await req.accounts.userForSetup(token: token) else { throw invalidLink }
        guard user.passwordSet, let secret = try await req.accounts.totpSecret(of: user),
            let bytes = Base32.decode(secret)
        else {
            return req.redirect(to: "/setup/\(token)")
        }
        let totp = VigilCore.TOTP(secret: bytes)
        let uri = totp.provisioningURI(account: user.username, issuer: try req.vigil.configuration.siteName)
        let page = EnrolPage(
            layout: Layout(req, title: "Set up two-step sign-in"), token: token, username: user.username,
            qrSVG: QRCodeSVG.render(uri) ?? "", secret: grouped(secret), uri: uri, error: error)
        return try await req.view.render("setup-mfa", page).encodeResponse(status: status, for: req)
    }

    struct EnrolForm: Content { let code: String }

    struct DonePage: Encodable {
        let layout: Layout
        let username: String
        let codes: [String]
    }

    static func enrol(_ req: Request) async throws -> Response {
        let token = try req.parameters.require("token")
        let form = try req.content.decode(EnrolForm.self)
        guard let user = try await req.accounts.userForSetup(token: token) else { throw invalidLink }
        do {
            let codes = try await req.accounts.confirmEnrolment(token: token, code: form.code)
            return try await req.view.render(
                "setup-done",
                DonePage(layout: Layout(req, title: "You are set up"), username: user.username, codes: codes)
            ).encodeResponse(for: req)
        } catch StoreError.invalid(let message) {
            return try await enrolPage(req, error: sentence(message), status: .badRequest)
        }
    }

    // MARK: helpers

    static let invalidLink = Abort(
        .notFound,
        reason:
            "This setup link is not valid: it was already used, has expired, or was mistyped. Ask an administrator for a new one."
    )

    /// Only local paths (``LocalRedirect``), so the `next` parameter cannot send anyone to another site.
    static func safeNext(_ next: String?) -> String {
        guard let n = LocalRedirect.path(next), !n.hasPrefix("/login"), !n.hasPrefix("/logout") else {
            return "/dashboard"
        }
        return n
    }

    static func cookie(_ value: String, _ req: Request, maxAge: Int) throws -> HTTPCookies.Value {
        try HTTPCookies.Value(
            string: value, maxAge: maxAge, path: "/", isSecure: req.vigil.configuration.cookiesAreSecure,
            isHTTPOnly: true, sameSite: .strict)
    }

    static func expired(_ req: Request) throws -> HTTPCookies.Value {
        try HTTPCookies.Value(
            string: "", expires: Date(timeIntervalSince1970: 0), maxAge: 0, path: "/",
            isSecure: req.vigil.configuration.cookiesAreSecure, isHTTPOnly: true, sameSite: .strict)
    }

    static func lockedMessage(_ until: Date) -> String {
        let f = DateFormatter()
        f.dateFormat = "HH:mm"
        f.timeZone = TimeZone(identifier: "UTC")
        return
            "This account is locked after repeated failed sign-ins. Try again after \(f.string(from: until)) UTC, or ask an administrator."
    }

    static func grouped(_ s: String) -> String {
        stride(from: 0, to: s.count, by: 4).map { i in
            let a = s.index(s.startIndex, offsetBy: i)
            return String(s[a..<s.index(a, offsetBy: min(4, s.count - i))])
        }.joined(separator: " ")
    }
}
