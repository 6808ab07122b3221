import Vapor

/// Security headers on every response, errors included. The CSP allows no inline script.
struct SecurityHeadersMiddleware: AsyncMiddleware {
    let secure: Bool

    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let res = try await next.respond(to: req)
        let h = res.headers
        var headers = h
        // A handler that needs one narrow exception (the filter check's canary object) sets its own whole policy.
        if headers.first(name: "Content-Security-Policy") == nil {
            headers.replaceOrAdd(name: "Content-Security-Policy", value: Self.policy(objectSource: "'none'"))
        }
        headers.replaceOrAdd(name: "X-Frame-Options", value: "DENY")
        headers.replaceOrAdd(name: "Referrer-Policy", value: "no-referrer")
        headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        headers.replaceOrAdd(name: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=()")
        headers.replaceOrAdd(name: "Cross-Origin-Opener-Policy", value: "same-origin")
        if secure { headers.replaceOrAdd(name: "Strict-Transport-Security", value: "max-age=31536000") }
        if headers.first(name: .cacheControl) == nil, !req.url.path.hasPrefix("/static/") {
            headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        }
        headers.replaceOrAdd(name: "X-Request-Id", value: req.id)
        res.headers = headers
        return res
    }

    static func policy(objectSource: String) -> String {
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src \(objectSource); "
            + "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    }
}
