import AsyncHTTPClient
import Crypto
import FluentKit
import Foundation
import NIOCore
import VigilCore
import VigilFormats
import VigilStore

/// Sends this hotline's side of the federation protocol: builds referrals from cases and delivers the outbox to
/// partners, signed, in order per partner, retried with back-off until each is accepted.
public struct FederationService: Sendable {
    public let store: FederationStore
    let hotline: HotlineStore
    let notices: NoticeStore
    let fetcher: OutboundFetcher
    let signingKey: Curve25519.Signing.PrivateKey?
    /// What this installation calls itself in messages (`from`).
    let installation: String

    public init(
        store: FederationStore, hotline: HotlineStore, notices: NoticeStore, fetcher: OutboundFetcher,
        signingKey: Curve25519.Signing.PrivateKey?, installation: String
    ) {
        self.store = store
        self.hotline = hotline
        self.notices = notices
        self.fetcher = fetcher
        self.signingKey = signingKey
        self.installation = installation
    }

    /// Wait before the next attempt after `attempts` failed ones: 30 s doubling, at most an hour.
    public static func backoff(attempts: Int) -> TimeInterval {
        min(3600, 30 * pow(2, Double(max(0, attempts - 1))))
    }

    // MARK: referrals

    /// Refers the case to `partner`: the case's items, its assessment in shared vocabulary, the hosting attribution
    /// and the reported hashes, never the reporter. Queued in the outbox (delivered within seconds).
    /// - Throws: ``StoreError/invalid(_:)`` when the case has no illegal assessment to refer.
    public func refer(caseID: Int64, country: String, to partner: FederationPartner) async throws {
        guard let (summary, reports) = try await hotline.caseDetail(caseID) else {
            throw StoreError.notFound("no case \(caseID)")
        }
        guard let assessment = summary.workflow.assessment, assessment.outcome.isIllegal else {
            throw StoreError.invalid("case \(caseID) has no illegal assessment to refer")
        }
        var items: [FederationMessage.Referral.Item] = []
        var media: [FederationMessage.Referral.Media] = []
        for report in reports {
            let p = report.payload
            let kind = ["url", "newsgroup", "p2p"].contains(p.kind) ? p.kind : "url"
            if let value = p.url ?? p.target, !items.contains(where: { $0.value == value }) {
                items.append(.init(kind: kind, value: value))
            }
            for h in p.fileHashes ?? [] {
                let parts = h.split(separator: ":", maxSplits: 1).map(String.init)
                guard parts.count == 2, let a = HashAlgorithm(rawValue: parts[0].lowercased()),
                    let d = try? HashDigest(a, parts[1]), a != .photodna,
                    !media.contains(where: { $0.value == d.value })
                else { continue }
                media.append(.init(algorithm: a.rawValue, value: d.value))
            }
        }
        if items.isEmpty, let key = summary.key { items.append(.init(kind: summary.kind, value: key)) }
        let hosting = try await notices.hosting(caseID: caseID)
        let referral = FederationMessage.Referral(
            items: items,
            assessment: .init(
                contentType: assessment.mediaType?.rawValue ?? "other",
                illegality: assessment.outcome == .internationallyIllegal ? "baseline" : "national",
                ageGroup: assessment.apparentAgeGroup?.rawValue ?? "not-determined"),
            hosting: .init(country: country.uppercased(), provider: hosting?.network),
            media: Array(media.prefix(1000)), reportedAt: FederationSigning.timestamp(summary.createdAt),
            assessedAt: FederationSigning.timestamp(store.clock.now()))
        let message = FederationMessage(
            id: UUID().uuidString, from: installation, case: Self.reference(caseID), referral: referral)
        try message.validateBody()
        try await AuditLog.transaction(store.db) { tx in
            try await store.enqueue(try Self.queued(message), partner: partner.name, on: tx)
        }
    }

    /// The case reference partners see (the case's number here).
    public static func reference(_ caseID: Int64) -> String { "case-\(caseID)" }

    static func queued(_ message: FederationMessage) throws -> FederationStore.QueuedMessage {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return .init(
            id: message.id, type: message.type.rawValue, caseRef: message.case,
            json: String(decoding: try encoder.encode(message), as: UTF8.self))
    }

    // MARK: delivery

    /// Delivers due messages: each partner's strictly in order (a message waiting for a retry holds back that
    /// partner's later ones); returns how many were accepted. `ignoringBackoff` tries waiting messages now (an
    /// operator's `vigil jobs run federation-deliver`).
    public func deliver(limit: Int = 200, ignoringBackoff: Bool = false) async throws -> Int {
        guard let signingKey else { throw StoreError.unreachable("no signing key to sign federation messages") }
        let now = store.clock.now()
        // Only enabled partners' messages are read: a disabled or long-down partner's backlog never hides others'.
        let partners = Dictionary(
            uniqueKeysWithValues: try await store.partners().filter(\.enabled).map { ($0.name, $0) })
        var blocked: Set<String> = []
        var delivered = 0
        for message in try await store.pending(partners: Array(partners.keys), limit: limit)
        where !blocked.contains(message.partner) {
            guard message.nextAttempt <= now || ignoringBackoff, let partner = partners[message.partner] else {
                blocked.insert(message.partner)
                continue
            }
            // A referral waits while a law-enforcement hold lasts (placed after it was queued, or while the partner
            // was down): like a notice to a partner, it leaves only when the hold ends.
            if message.type == FederationMessage.Kind.referral.rawValue, let id = Self.caseID(message.caseRef),
                let until = try await hotline.caseSummary(id)?.workflow.noticeHeldUntil(at: now, toPartner: true)
            {
                try await store.record(
                    .retry(next: until, error: "held for law enforcement until \(until.formatted(.iso8601))"),
                    for: message)
                blocked.insert(message.partner)
                continue
            }
            let attempt = await send(message, to: partner, key: signingKey, at: now)
            try await store.record(attempt, for: message)
            switch attempt {
            case .delivered: delivered += 1
            case .retry: blocked.insert(message.partner)
            case .failed: break
            }
        }
        return delivered
    }

    /// Our case id from a reference we wrote (`case-N`).
    static func caseID(_ reference: String) -> Int64? {
        reference.hasPrefix("case-") ? Int64(reference.dropFirst("case-".count)) : nil
    }

    /// One attempt: signs the message now and posts it to the partner's inbox.
    func send(
        _ message: FederationStore.Outgoing, to partner: FederationPartner, key: Curve25519.Signing.PrivateKey,
        at now: Date
    ) async -> FederationStore.Attempt {
        let retry = { (why: String) in
            FederationStore.Attempt.retry(
                next: now.addingTimeInterval(Self.backoff(attempts: message.attempts + 1)), error: why)
        }
        do {
            guard let apiKey = try await store.apiKey(for: partner.name) else {
                return retry("no API key stored for \(partner.name) (vigil partner set-api-key)")
            }
            let decoded = try JSONDecoder().decode(FederationMessage.self, from: Data(message.message.utf8))
            let envelope = try FederationSigning.seal(decoded, with: key, at: now).envelope
            var request = HTTPClientRequest(url: partner.inboxURL)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "Authorization", value: "Bearer \(apiKey)")
            request.body = .bytes(ByteBuffer(bytes: envelope))
            let response = try await fetcher.fetch(request, timeout: .seconds(30), maxBytes: 64 << 10)
            let body = String(decoding: response.body.readableBytesView.prefix(300), as: UTF8.self)
            switch response.status {
            case 200..<300: return .delivered
            case 409 where body.contains("federation.duplicate"): return .delivered
            case 429, 500...: return retry("HTTP \(response.status) from \(partner.inboxURL)")
            default:
                // A refusal for a key or a clock is the link's fault, not the message's: retried, not dropped.
                if [401, 403].contains(response.status) || body.contains("federation.stale") {
                    return retry("HTTP \(response.status): \(body)")
                }
                return .failed(error: "HTTP \(response.status): \(body)")
            }
        } catch let refusal as OutboundRefusal {
            return retry("\(refusal)")
        } catch let error as FederationError {
            return .failed(error: error.message)
        } catch {
            return retry("\(error)")
        }
    }
}

extension FederationMessage {
    /// Validates what a message carries before it has a key id and signing time.
    func validateBody() throws {
        var probe = self
        probe.keyID = "ed25519:0000000000000000"
        probe.signedAt = FederationSigning.timestamp(Date())
        try probe.validate()
    }
}
