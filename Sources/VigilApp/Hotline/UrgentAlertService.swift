import FluentKit
import Foundation
import VigilCore
import VigilStore

/// Performs the urgent path: plans an alert when it is raised (who on the rota is on duty now, else the fallback
/// addresses, then law enforcement's 24/7 contact), sends each step by e-mail (each recipient their own one-time
/// acknowledgement link) and to the paging webhook, and moves unacknowledged alerts on after `urgent_ack_minutes`.
/// An alert carries the case link and never the reported content.
public struct UrgentAlertService: Sendable {
    /// Delivers one message (the SMTP relay in production).
    public typealias Send = SMTPClient.Send

    public let store: UrgentStore
    public let configuration: VigilConfiguration
    let fetcher: OutboundFetcher
    let send: Send

    public init(
        db: any Database, clock: any VigilClock, configuration: VigilConfiguration, fetcher: OutboundFetcher,
        send: @escaping Send
    ) {
        store = UrgentStore(db: db, clock: clock)
        self.configuration = configuration
        self.fetcher = fetcher
        self.send = send
    }

    /// The SMTP relay as `Send`; without one, alerts wait (the job is retried) and the webhook still pages.
    public static func smtp(_ c: VigilConfiguration) -> Send {
        SMTPClient.sender(c, waiting: "the urgent alert e-mail")
    }

    var ackAfter: TimeInterval { configuration.urgentAckMinutes * 60 }

    /// The escalation of an alert raised now.
    public func plan() async throws -> UrgentAlert {
        let rota = OnCallRota(
            shifts: try await store.shifts().map(\.shift),
            timeZone: TimeZone(identifier: configuration.timeZone) ?? TimeZone(identifier: "UTC")!)
        return UrgentAlert(
            onDuty: rota.onDuty(at: store.clock.now()), fallback: configuration.urgentAlertTo,
            lawEnforcement: configuration.urgentLEContact)
    }

    /// Runs one `urgent-alert` job: plans the alert if it is new, then sends every step not yet sent.
    public func run(_ job: JobQueue.Job) async throws {
        struct P: Decodable { let alert: Int64 }
        try await deliver(alert: try JSONDecoder().decode(P.self, from: Data(job.payload.utf8)).alert)
    }

    /// Plans the alert if it is new (unless someone already took it), then sends each step up to the current one
    /// that has not gone yet. Each recipient is claimed before it is sent, so two processes never both send it, and
    /// one recipient's failure neither blocks the others nor later steps; what failed is retried by the queue.
    public func deliver(alert id: Int64) async throws {
        guard var alert = try await store.alert(id), alert.state != "acknowledged" else { return }
        if alert.alert == nil {
            try await store.apply(.raise, to: id, actor: .job(UrgentStore.alertJob), plan: { try await plan() })
            alert = try await store.alert(id) ?? alert
        }
        guard let value = alert.alert, alert.state != "acknowledged", value.step > alert.notifiedStep else { return }
        var failures: [String] = []
        for step in max(0, alert.notifiedStep + 1)...value.step {
            let failed = try await notify(alert, step: step)
            // A step counts as sent only when it and every step before it are: a later step's success must not
            // hide an earlier recipient still waiting for a retry.
            if failed.isEmpty && failures.isEmpty { try await store.markNotified(id, step: step) }
            failures += failed
        }
        if !failures.isEmpty { throw StoreError.unreachable(failures.joined(separator: "; ")) }
    }

    /// Sends one step: an e-mail to each of its addresses and the paging webhook, each claimed first (skipped when
    /// sent already or being sent by another process). Returns what failed, each in a sentence.
    func notify(_ alert: UrgentStore.Alert, step: Int) async throws -> [String] {
        guard let value = alert.alert else { return [] }
        let caseURL = "\(configuration.baseURL)/cases/\(alert.caseID)"
        let target = step < value.steps.count ? value.steps[step] : nil
        var failures: [String] = []
        for address in target?.addresses ?? [] {
            guard let token = try await store.claimDelivery(alert: alert.id, step: step, address: address) else {
                continue
            }
            do {
                try await send(
                    configuration.smtpFrom, address,
                    Self.message(
                        configuration, to: address, caseID: alert.caseID, caseURL: caseURL,
                        ackURL: "\(configuration.baseURL)/urgent/\(token)", step: step, kind: target?.kind,
                        waited: configuration.urgentAckMinutes))
                try await store.deliverySent(alert: alert.id, step: step, address: address)
            } catch {
                try await store.releaseDelivery(alert: alert.id, step: step, address: address)
                failures.append("\(address): \(String(describing: error).prefix(160))")
            }
        }
        if let url = configuration.urgentAlertWebhook,
            let token = try await store.claimDelivery(alert: alert.id, step: step, address: "webhook")
        {
            do {
                guard let secret = configuration.urgentWebhookSecret, !secret.isEmpty else {
                    throw StoreError.invalid(
                        "urgent_webhook_secret is not set: the paging webhook is not called unsigned")
                }
                let body = try Self.webhookBody(
                    alert: alert.id, caseID: alert.caseID, caseURL: caseURL,
                    ackURL: "\(configuration.baseURL)/urgent/\(token)", step: step, target: target,
                    at: store.clock.now())
                _ = try await SignedWebhook.post(url, body: body, secret: secret, fetcher: fetcher)
                try await store.deliverySent(alert: alert.id, step: step, address: "webhook")
            } catch {
                try await store.releaseDelivery(alert: alert.id, step: step, address: "webhook")
                failures.append("webhook: \(String(describing: error).prefix(160))")
            }
        }
        return failures
    }

    /// Moves every alert whose step waited `urgent_ack_minutes` to its next step (queued to be sent), and sends
    /// alerts raised over a minute ago whose job has not planned them (failed, or never ran). Returns how many moved.
    public func escalate() async throws -> Int {
        var moved = 0
        for id in try await store.stalePending(olderThan: 60) {
            do { try await deliver(alert: id) } catch { continue }  // its job retries what failed
        }
        for id in try await store.due(ackAfter: ackAfter) {
            do {
                let actions = try await store.apply(
                    .deadlinePassed(ackAfter: ackAfter), to: id, actor: .job(UrgentStore.escalateJob))
                if !actions.isEmpty { moved += 1 }
            } catch StoreError.conflict {
                continue  // acknowledged meanwhile
            }
        }
        return moved
    }

    /// The alert e-mail: the case link and the acknowledgement link, never the reported content.
    static func message(
        _ c: VigilConfiguration, to: String, caseID: Int64, caseURL: String, ackURL: String, step: Int,
        kind: UrgentAlert.Step.Kind?, waited: Double
    ) -> String {
        let minutes = UrgentAlert.minutes(waited)
        let why: String =
            switch (kind, step) {
            case (.lawEnforcement?, _):
                "You are the law-enforcement 24/7 contact: no one at the hotline acknowledged this alert in time."
            case (_, 0): "You are on duty for urgent reports."
            default: "No one acknowledged this alert within \(minutes) minutes, so it comes to you."
            }
        return """
            From: \(c.siteName) <\(c.smtpFrom)>
            To: <\(to)>
            Subject: URGENT: a child may be in immediate danger (case \(caseID))
            MIME-Version: 1.0
            Content-Type: text/plain; charset=utf-8
            Auto-Submitted: auto-generated
            X-Priority: 1

            A report received by \(c.siteName) says a child is in immediate danger.

            \(why)

            Acknowledge that you are handling it (one click; the next person is alerted if no one does):
            \(ackURL)

            The case (sign in to see it; this message carries none of the reported content):
            \(caseURL)
            """
    }

    /// The paging webhook's JSON: what a paging service needs to page someone, and nothing of the content.
    static func webhookBody(
        alert: Int64, caseID: Int64, caseURL: String, ackURL: String, step: Int, target: UrgentAlert.Step?, at: Date
    ) throws -> Data {
        struct Body: Encodable {
            let event: String
            let alert: Int64
            let `case`: Int64
            let case_url: String
            let acknowledge_url: String
            let step: Int
            let escalated: Bool
            let to: String?
            let kind: String?
            let at: String
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(
            Body(
                event: "urgent-alert", alert: alert, case: caseID, case_url: caseURL, acknowledge_url: ackURL,
                step: step, escalated: step > 0, to: target?.name, kind: target?.kind.rawValue,
                at: ISO8601DateFormatter().string(from: at)))
    }
}
