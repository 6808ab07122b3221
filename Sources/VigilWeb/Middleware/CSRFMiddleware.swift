import Crypto
import Foundation
import Vapor
import VigilCore

/// Signed double-submit CSRF protection for every form that changes state: a cookie (SameSite=Strict) holding a
/// random value and the server's HMAC of it, which each form repeats in a hidden `_csrf` field. A token the
/// server did not issue (a cookie a client or another site chose) is refused. API requests (bearer keys, JSON)
/// are exempt.
struct CSRFMiddleware: AsyncMiddleware {
    static let cookie = "vigil_csrf"
    static let field = "_csrf"
    let secure: Bool
    /// Derived from the data folder's key, so every process of an installation accepts the others' tokens.
    let key: SymmetricKey

    /// `RANDOM.MAC`, both base64url.
    static func issue(random: String, key: SymmetricKey) -> String {
        random + "." + Data(HMAC<SHA256>.authenticationCode(for: Data(random.utf8), using: key)).base64URLEncoded()
    }

    /// Whether the server issued `token`.
    static func isIssued(_ token: String, key: SymmetricKey) -> Bool {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count >= 22 else { return false }
        return constantTimeEquals(issue(random: String(parts[0]), key: key), token)
    }

    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let existing = (req.cookies[Self.cookie]?.string).flatMap { Self.isIssued($0, key: key) ? $0 : nil }
        let token = try existing ?? Self.issue(random: req.vigil.tokens.urlSafeToken(), key: key)
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
        if req.cookies[Self.cookie]?.string != token {
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
