import Vapor
import VigilCore
import VigilFormats
import VigilStore

/// `POST /api/v1/bounces`: the operator's mail system hands each message that arrives at the bounce address to Vigil
/// (a Postfix pipe or a fetchmail/procmail rule running `curl --data-binary @-`). The message's VERP token names the
/// notice; a permanent failure puts the notice in the supervisors' queue. A message Vigil cannot place is answered
/// 200 with `matched: false`, so a mail pipe never loops or retries it.
enum BouncesController {
    struct Outcome: Content {
        let matched: Bool
        let notice: Int64?
        let action: String?
        let status: String?
        let permanent: Bool
    }

    static func receive(_ req: Request) async throws -> Response {
        guard case .partner(_, let partner, let scopes) = req.caller, scopes.contains(.bouncesWrite) else {
            throw Abort(.forbidden, reason: "This API key does not have the bounces:write scope.")
        }
        guard let body = req.body.string, !body.isEmpty else {
            throw Abort(.badRequest, reason: "The body must be the returned e-mail message, as text.")
        }
        let localPart =
            try req.vigil.configuration.noticeBounceAddress.flatMap { $0.split(separator: "@").first.map(String.init) }
            ?? "bounces"
        let bounce = BounceMessage(parsing: body, localPart: localPart)
        let store = NoticeStore(db: req.db, clock: try req.vigil.clock)
        var outcome = Outcome(
            matched: false, notice: nil, action: bounce.action, status: bounce.status,
            permanent: bounce.isPermanentFailure)
        if let token = bounce.token, let action = bounce.action,
            let notice = try await store.notice(bounceToken: token),
            try await recipientMatches(bounce.recipient, notice: notice, store: store)
        {
            try await store.recordBounce(
                noticeID: notice, recipient: bounce.recipient, action: action, status: bounce.status,
                diagnostic: bounce.diagnostic, source: "bounce")
            outcome = Outcome(
                matched: true, notice: notice, action: action, status: bounce.status,
                permanent: bounce.isPermanentFailure)
        } else {
            req.logger.info(
                "bounce from \(partner) not placed",
                metadata: ["token": .string(bounce.token ?? "none"), "action": .string(bounce.action ?? "none")])
        }
        return try await outcome.encodeResponse(status: .ok, for: req)
    }

    /// A report that names the failed recipient must name the address the notice went to: the token travels in the
    /// notice, so the provider could otherwise stop its reminders with a made-up bounce.
    static func recipientMatches(_ recipient: String?, notice id: Int64, store: NoticeStore) async throws -> Bool {
        guard let recipient = recipient?.lowercased() else { return true }
        guard let notice = try await store.notice(id) else { return false }
        let address = try await store.channel(notice.contact)?.address ?? notice.contact
        return recipient == address.lowercased()
    }
}
