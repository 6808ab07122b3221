import Foundation
import Vapor
import VaporTesting
import VigilCore
import VigilStore

/// Drives the app in memory the way a browser would: keeps cookies and fills in each form's CSRF field.
public final class TestBrowser: @unchecked Sendable {
    public let app: Application
    public private(set) var cookies: [String: String] = [:]

    public init(_ app: Application) { self.app = app }

    func cookiesStorage(_ name: String, _ value: String) { cookies[name] = value }

    /// The last response's body as text.
    public struct Page: Sendable {
        public let status: HTTPResponseStatus
        public let headers: HTTPHeaders
        public let body: String
        public var location: String? { headers.first(name: .location) }
    }

    @discardableResult
    public func get(_ path: String, headers: HTTPHeaders = [:]) async throws -> Page {
        try await send(.GET, path, headers: headers, body: nil)
    }

    /// Posts a form, adding `_csrf` from the cookie jar unless `csrf` is false.
    @discardableResult
    public func post(_ path: String, form: [(String, String)], csrf: Bool = true) async throws -> Page {
        var fields = form
        if csrf, let token = cookies["vigil_csrf"] { fields.append(("_csrf", token)) }
        let body = fields.map { k, v in "\(Self.encode(k))=\(Self.encode(v))" }.joined(separator: "&")
        var headers = HTTPHeaders()
        headers.contentType = .urlEncodedForm
        return try await send(.POST, path, headers: headers, body: body)
    }

    public func send(_ method: HTTPMethod, _ path: String, headers: HTTPHeaders = [:], body: String?) async throws
        -> Page
    {
        var h = headers
        if !cookies.isEmpty {
            h.replaceOrAdd(
                name: .cookie, value: cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; "))
        }
        let res = try await app.testing().sendRequest(
            method, path, headers: h, body: body.map { ByteBuffer(string: $0) })
        for value in res.headers[.setCookie] {
            let first = value.split(separator: ";", maxSplits: 1).first ?? ""
            let parts = first.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            let expired = value.lowercased().contains("max-age=0")
            if expired || parts[1].isEmpty { cookies[parts[0]] = nil } else { cookies[parts[0]] = parts[1] }
        }
        return Page(status: res.status, headers: res.headers, body: String(buffer: res.body))
    }

    /// GETs `path` with a new partner key holding `scopes` as the bearer token.
    public func get(_ path: String, scopes: [APIScope]) async throws -> Page {
        let key = try await APIKeys(db: app.db, clock: SystemClock(), tokens: SystemTokenSource()).create(
            partner: "Monitoring \(UUID().uuidString.prefix(8))", scopes: scopes, actor: .system
        ).secret
        return try await get(path, headers: ["Authorization": "Bearer \(key)"])
    }

    static func encode(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    /// The first match of a regular expression's first capture group in `text`.
    public static func capture(_ pattern: String, in text: String) -> String? {
        guard let re = try? NSRegularExpression(pattern: pattern),
            let m = re.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)), m.numberOfRanges > 1,
            let r = Range(m.range(at: 1), in: text)
        else { return nil }
        return String(text[r])
    }
}

/// Signs people up and in through the real pages.
public struct StaffJourney {
    public let browser: TestBrowser
    public let clock: ManualClock

    public init(_ browser: TestBrowser, clock: ManualClock) {
        self.browser = browser
        self.clock = clock
    }

    /// Completes a setup link: sets the password, enrols TOTP; returns the TOTP secret and recovery codes.
    public func completeSetup(link: String, password: String) async throws -> (VigilCore.TOTP, [String]) {
        let path = link.range(of: "/setup/").map { String(link[$0.lowerBound...]) } ?? link
        try await browser.get(path)
        let r1 = try await browser.post(path, form: [("password", password), ("confirm", password)])
        guard r1.status == .seeOther || r1.status == .found else {
            throw JourneyError.step("set password: \(r1.status) \(r1.body)")
        }
        let enrol = try await browser.get(path + "/mfa")
        guard let secretText = TestBrowser.capture(#"id="totp-secret">([A-Z2-7 ]+)<"#, in: enrol.body),
            let secret = Base32.decode(secretText)
        else { throw JourneyError.step("no secret on the enrolment page") }
        let totp = VigilCore.TOTP(secret: secret)
        let done = try await browser.post(path + "/mfa", form: [("code", totp.code(at: clock.now()))])
        guard done.status == .ok else { throw JourneyError.step("enrol: \(done.status)") }
        let re = try NSRegularExpression(pattern: #"<li><code>([a-z0-9-]{14})</code></li>"#)
        let codes = re.matches(in: done.body, range: NSRange(done.body.startIndex..., in: done.body)).compactMap {
            Range($0.range(at: 1), in: done.body).map { String(done.body[$0]) }
        }
        return (totp, codes)
    }

    /// Signs in with password and a TOTP code; returns the final response (a redirect when it worked).
    @discardableResult
    public func signIn(_ username: String, _ password: String, totp: VigilCore.TOTP, next: String = "/dashboard")
        async throws -> TestBrowser.Page
    {
        let first = try await browser.post(
            "/login", form: [("username", username), ("password", password), ("next", next)])
        guard first.status == .seeOther else { return first }
        clock.advance(by: 30)  // a fresh time step, as codes cannot be replayed
        return try await browser.post("/login/code", form: [("code", totp.code(at: clock.now())), ("next", next)])
    }
}

public enum JourneyError: Error { case step(String) }
