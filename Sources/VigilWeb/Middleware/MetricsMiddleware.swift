import Vapor

/// Counts requests and measures latency by route pattern (never by concrete path, which may hold identifiers).
struct MetricsMiddleware: AsyncMiddleware {
    let metrics: Metrics

    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let start = ContinuousClock.now
        let route = req.route.map { "/" + $0.path.map(\.description).joined(separator: "/") } ?? "unmatched"
        let method = req.method.rawValue
        do {
            let res = try await next.respond(to: req)
            record(route: route, method: method, status: res.status.code, start: start)
            return res
        } catch {
            let status = (error as? any AbortError)?.status.code ?? 500
            record(route: route, method: method, status: status, start: start)
            throw error
        }
    }

    private func record(route: String, method: String, status: UInt, start: ContinuousClock.Instant) {
        metrics.requestCounter(route: route, method: method, status: status).increment()
        metrics.requestDuration(route: route, method: method).record(ContinuousClock.now - start)
    }
}
