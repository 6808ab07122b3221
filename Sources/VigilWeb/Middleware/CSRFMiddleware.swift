import Vapor
import VigilCore

/// Double-submit CSRF protection for every form that changes state: a random cookie (SameSite=Strict)
/// whose value each form repeats in a hidden `_csrf` field. API requests (bearer keys, JSON) are exempt.
struct CSRFMiddleware: AsyncMiddleware {
    static let cookie = "vigil_csrf"
    static let field = "_csrf"
    let secure: Bool

    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let existing = req.cookies[Self.cookie]?.string
        let token = existing.flatMap { $0.count >= 32 ? $0 : nil } ?? req.vigil.tokens.urlSafeToken()
        req.storage[CSRFTokenKey.self] = token
        if [.POST, .PUT, .PATCH, .DELETE].contains(req.method), !req.url.path.hasPrefix("/api/") {
            // Collect the body within the size limit first (413 when it is larger), then read the field.
            _ = try await req.body.collect(max: req.vigil.configuration.maxBodyBytes).get()
            struct Field: Decodable { let _csrf: String? }
            let sent = (try? req.content.decode(Field.self))?._csrf ?? req.headers.first(name: "X-CSRF-Token")
            guard let sent, let existing, constantTimeEquals(sent, existing) else {
                throw Abort(.forbidden, reason: "This form has expired. Go back, reload the page and try again.")
            }
        }
        let res = try await next.respond(to: req)
        if existing != token {
            res.cookies[Self.cookie] = HTTPCookies.Value(
                string: token, maxAge: nil, path: "/", isSecure: secure, isHTTPOnly: true, sameSite: .strict)
        }
        return res
    }
}

struct CSRFTokenKey: StorageKey { typealias Value = String }

extension Request {
    /// The CSRF token to place in forms.
    var csrfToken: String { storage[CSRFTokenKey.self] ?? "" }
}
