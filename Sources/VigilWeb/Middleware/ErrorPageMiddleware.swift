import Vapor
import VigilCore

/// Turns every error into a plain page or a JSON body. Details are logged with the request ID;
/// clients see only the status and, for client errors, the message written for them.
struct ErrorPageMiddleware: AsyncMiddleware {
    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        do {
            return try await next.respond(to: req)
        } catch {
            return await Self.response(for: error, on: req)
        }
    }

    static func response(for error: any Error, on req: Request) async -> Response {
        let status: HTTPResponseStatus
        var message: String
        var headers = HTTPHeaders()
        var code: String?
        switch error {
        // A domain error no controller presented itself: its kind decides the status, never a 500 for bad input.
        case let failure as any VigilFailure:
            status = failure.kind.httpStatus
            code = failure.code
            message = status.code < 500 ? sentence(failure.description) : "Something went wrong on our side."
            // A member of the public reads it in their language when it is not English and there is a translation;
            // staff, API callers and English readers get the description, which names the detail.
            if status.code < 500, req.caller == nil, !req.isAPI, let l = try? req.localizer,
                l.language != (try? req.hotline.catalog.fallbackLanguage), l.has(failure.messageKey)
            {
                message = l(failure.messageKey)
            }
        // Before AbortError: Vapor makes DecodingError one, with Swift's own description of the coding path.
        case let decoding as DecodingError:
            status = .badRequest
            message = Self.describe(decoding)
        case let abort as any AbortError:
            status = abort.status
            message = status.code < 500 ? abort.reason : "Something went wrong on our side."
            headers = abort.headers
        default:
            status = .internalServerError
            message = "Something went wrong on our side."
        }
        if status == .notFound, message == "Not Found" { message = "There is no page at this address." }
        if status == .forbidden, message == "Forbidden" { message = "You do not have access to this page." }
        if status == .payloadTooLarge { message = "The request is too large." }
        if status.code >= 500 {
            req.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
        } else {
            req.logger.debug("request refused", metadata: ["status": "\(status.code)", "reason": "\(message)"])
        }
        headers.remove(name: .contentType)
        if req.isAPI {
            struct Body: Content {
                let error: Bool; let status: UInt; let code: String?; let message: String; let requestID: String
            }
            let body = Body(error: true, status: status.code, code: code, message: message, requestID: req.id)
            let res = Response(status: status, headers: headers)
            try? res.content.encode(body, as: .json)
            return res
        }
        struct Page: Encodable {
            let layout: Layout; let status: UInt; let title: String; let message: String; let requestID: String
        }
        let title = status.reasonPhrase
        let page = Page(
            layout: Layout(req, title: title), status: status.code, title: title, message: message, requestID: req.id)
        if let view = try? await req.view.render("error", page), let res = try? await view.encodeResponse(for: req) {
            res.status = status
            for (k, v) in headers { res.headers.replaceOrAdd(name: k, value: v) }
            return res
        }
        let res = Response(
            status: status, headers: headers, body: .init(string: "\(status.code) \(title): \(message)\n"))
        res.headers.contentType = .plainText
        return res
    }

    /// Names the field for a malformed form or JSON body, without internal detail.
    static func describe(_ error: DecodingError) -> String {
        func path(_ c: [any CodingKey]) -> String { c.map(\.stringValue).joined(separator: ".") }
        switch error {
        case .keyNotFound(let key, let ctx):
            let p = path(ctx.codingPath + [key])
            return "The field '\(p)' is required."
        case .valueNotFound(_, let ctx): return "The field '\(path(ctx.codingPath))' is required."
        case .typeMismatch(_, let ctx): return "The field '\(path(ctx.codingPath))' has the wrong type."
        case .dataCorrupted(let ctx):
            let p = path(ctx.codingPath)
            return p.isEmpty ? "The request body could not be read." : "The field '\(p)' is not valid."
        @unknown default: return "The request body could not be read."
        }
    }
}

extension FailureKind {
    /// The one mapping from a domain error's kind to an HTTP status.
    var httpStatus: HTTPResponseStatus {
        switch self {
        case .invalid: .unprocessableEntity
        case .notFound: .notFound
        case .conflict: .conflict
        case .forbidden: .forbidden
        case .unavailable: .serviceUnavailable
        case .internalFailure: .internalServerError
        }
    }
}
