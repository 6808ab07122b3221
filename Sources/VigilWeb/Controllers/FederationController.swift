import Vapor
import VigilCore
import VigilFormats
import VigilStore

/// `POST /api/v1/federation/inbox`: messages from partner hotlines (docs/federation/README.md).
///
/// Checks, in order: the API key (scope `federation:send`), size, syntax and fields, the signing key (known, its
/// partner enabled, the key not retired), that the API key belongs to the key's partner, the signature over the
/// canonical bytes, the signing time within the window, and the message id not seen before. Each refusal answers
/// with its status and code and is audited; an accepted message is kept for processing and answered 202.
enum FederationController {
    /// How far a message's `signed_at` may be from this server's clock, either way.
    static let windowSeconds = 300

    struct Received: Content {
        let received: String
    }

    static func inbox(_ req: Request) async throws -> Response {
        // The API's rate limit first: refusals are audited, so a flood must not reach the audit log unchecked.
        try await req.vigil.rateLimit(req)
        let store = FederationStore(db: req.db, clock: try req.vigil.clock)
        var partnerName: String?
        var messageID: String?
        do {
            guard case .partner(_, let keyPartner, let scopes) = req.caller else {
                throw FederationError.notAuthorised("send the API key the partner was issued: Authorization: Bearer …")
            }
            guard scopes.contains(.federationSend) else {
                throw FederationError.notAuthorised("the API key lacks the scope federation:send")
            }
            let bytes = req.body.data.map { Array($0.readableBytesView) } ?? []
            let opened = try FederationSigning.open(bytes)
            messageID = opened.message.id
            guard let (partner, key) = try await store.key(id: opened.message.keyID) else {
                throw FederationError.unknownKey(opened.message.keyID)
            }
            partnerName = partner.name
            guard partner.enabled else { throw FederationError.partnerDisabled(partner.name) }
            let now = store.clock.now()
            guard key.isCurrent(at: now) else { throw FederationError.keyRetired(key.id) }
            guard keyPartner == partner.name else {
                throw FederationError.notAuthorised(
                    "the API key was issued to '\(keyPartner)', not to '\(partner.name)'")
            }
            try opened.verify(publicKey: key.publicKey)
            try opened.checkTime(now: now, window: windowSeconds)
            let receipt = try await store.receive(
                messageID: opened.message.id, partner: partner.name, type: opened.message.type.rawValue,
                caseRef: opened.message.case, canonical: String(decoding: opened.canonical, as: UTF8.self),
                referral: opened.message.status?.referral ?? opened.message.known?.referral, actor: req.auditActor)
            if receipt == .duplicate {
                // Audited by the store as a duplicate; the sender counts it as delivered.
                return try refusal(.duplicate(opened.message.id), req)
            }
            let res = Response(status: .accepted)
            try res.content.encode(Received(received: opened.message.id), as: .json)
            return res
        } catch let error as FederationError {
            try await store.auditRefusal(
                code: error.code, partner: partnerName, messageID: messageID, reason: error.message,
                actor: req.auditActor)
            return try refusal(error, req)
        }
    }

    /// The API's error body (as every API error: error, status, code, message, requestID).
    static func refusal(_ error: FederationError, _ req: Request) throws -> Response {
        struct Body: Content {
            let error: Bool
            let status: Int
            let code: String
            let message: String
            let requestID: String
        }
        let res = Response(status: HTTPResponseStatus(statusCode: error.httpStatus))
        try res.content.encode(
            Body(error: true, status: error.httpStatus, code: error.code, message: error.message, requestID: req.id),
            as: .json)
        return res
    }
}
