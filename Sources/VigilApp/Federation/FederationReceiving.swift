import FluentKit
import Foundation
import VigilCore
import VigilFormats
import VigilStore

/// The receiving side of the federation protocol: referrals become reports in our cases, and the progress of those
/// cases goes back to the referring partner as status messages, without anyone typing them.
extension FederationService {
    /// The protocol's outcome for an assessment (nil for one that is not an outcome, such as duplicate).
    static func outcome(_ o: AssessmentOutcome) -> String? {
        switch o {
        case .internationallyIllegal: "baseline"
        case .nationallyIllegal: "national"
        case .notIllegal: "not-illegal"
        case .outOfRemit: "out-of-remit"
        case .duplicate: nil
        }
    }

    /// Acts on received messages in arrival order; returns how many.
    ///
    /// - referral: each item is reported here (source `hotline`), opening or joining the case for its canonical
    ///   address; the case is linked to the referral, and the partner is answered `known` with our outcome when the
    ///   case was already assessed, else `received`;
    /// - status and known: kept as they are, for the referring case's timeline (nothing to do).
    public func process(limit: Int = 100) async throws -> Int {
        var done = 0
        for incoming in try await store.unprocessed(limit: limit) {
            // Claimed first: the queue worker and the scheduler (or two servers) never act on one message twice.
            guard try await store.claim(incoming.messageID) else { continue }
            do {
                if incoming.type == FederationMessage.Kind.referral.rawValue {
                    try await accept(incoming)
                }
                try await store.markProcessed(incoming.messageID)
            } catch let failure as any VigilFailure where failure.kind != .unavailable {
                try await store.markProcessed(incoming.messageID, failed: failure.description)
            }
            done += 1
        }
        return done
    }

    func accept(_ incoming: FederationStore.Incoming) async throws {
        let message = try JSONDecoder().decode(FederationMessage.self, from: Data(incoming.message.utf8))
        guard let referral = message.referral else { throw StoreError.invalid("a referral message without its body") }
        // Processed before (the answer was lost, or the job ran twice): nothing again.
        if try await store.link(partner: incoming.partner, referral: message.id) != nil {
            return
        }
        let label = try await store.partner(named: incoming.partner).label
        var caseID: Int64?
        for item in referral.items {
            var submission = ReportSubmission(
                kind: item.kind == "newsgroup" ? .newsgroup : item.kind == "p2p" ? .p2p : .url,
                details: """
                    Referred by \(label), their case \(message.case): \(referral.assessment.illegality), \
                    \(referral.assessment.contentType), \(referral.assessment.ageGroup); hosted in \
                    \(referral.hosting.country)\(referral.hosting.provider.map { " (\($0))" } ?? "").
                    """, source: .hotlinePartner)
            switch item.kind {
            case "newsgroup": submission.newsgroup = item.value
            case "p2p": submission.p2p = item.value
            default: submission.url = item.value
            }
            guard let valid = try? submission.validated() else { continue }
            var stored = HotlineStore.Submission(
                report: valid, language: "en", actor: .job(FederationStore.processJob))
            // The partner's media hashes stay with the report (for matching against the national set).
            stored.fileHashes = referral.media.isEmpty ? nil : referral.media.map { "\($0.algorithm):\($0.value)" }
            let submitted = try await hotline.submitBatch([stored])[0]
            caseID = caseID ?? submitted.caseID
        }
        guard let caseID else { throw StoreError.invalid("no item of the referral could be reported here") }
        let assessment = try await hotline.caseSummary(caseID)?.workflow.assessment
        let now = store.clock.now()
        let reply: FederationMessage
        var states = ["received"]
        if let assessment, let outcome = Self.outcome(assessment.outcome) {
            reply = FederationMessage(
                id: UUID().uuidString, from: installation, case: Self.reference(caseID),
                known: .init(
                    referral: message.id, value: referral.items[0].value, outcome: outcome,
                    assessedAt: FederationSigning.timestamp(now), reference: Self.reference(caseID)))
            states.append("assessed")
        } else {
            reply = FederationMessage(
                id: UUID().uuidString, from: installation, case: Self.reference(caseID),
                status: .init(
                    referral: message.id, state: .received, at: FederationSigning.timestamp(now),
                    reference: Self.reference(caseID)))
        }
        try reply.validateBody()
        let queued = try Self.queued(reply)
        let reported = states
        try await AuditLog.transaction(store.db) { tx in
            try await store.link(
                partner: incoming.partner, referral: message.id, caseID: caseID, theirCase: message.case,
                reported: reported, on: tx)
            try await store.enqueue(queued, partner: incoming.partner, on: tx)
        }
    }

    /// Sends each referring partner what happened to the cases its referrals opened since the last run: assessed
    /// (with our outcome), notice sent, removed. Returns how many statuses were queued.
    public func reportProgress() async throws -> Int {
        var queued = 0
        for link in try await store.links() where !link.reported.contains("removed") {
            guard let summary = try await hotline.caseSummary(link.caseID) else { continue }
            var due: [(FederationMessage.Status.State, Date, String?)] = []
            if !link.reported.contains("assessed"), let a = summary.workflow.assessment, let o = Self.outcome(a.outcome)
            {
                due.append((.assessed, store.clock.now(), o))
            }
            let items = try await notices.notices(forCase: link.caseID).flatMap(\.items).filter {
                $0.caseID == link.caseID
            }
            if !link.reported.contains("notice-sent"), let sent = items.compactMap(\.sentAt).min() {
                due.append((.noticeSent, sent, nil))
            }
            if let removed = items.compactMap(\.removedAt).max(), items.allSatisfy({ $0.removedAt != nil }) {
                due.append((.removed, removed, nil))
            }
            guard !due.isEmpty else { continue }
            let messages = try due.map { state, at, outcome in
                let m = FederationMessage(
                    id: UUID().uuidString, from: installation, case: Self.reference(link.caseID),
                    status: .init(
                        referral: link.referral, state: state, at: FederationSigning.timestamp(at), outcome: outcome,
                        reference: Self.reference(link.caseID)))
                try m.validateBody()
                return try Self.queued(m)
            }
            try await store.report(Array(zip(due.map(\.0.rawValue), messages)), for: link)
            queued += messages.count
        }
        return queued
    }
}
