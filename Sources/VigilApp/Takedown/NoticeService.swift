import AsyncHTTPClient
import Crypto
import FluentKit
import Foundation
import NIOCore
import VigilApp
import VigilCore
import VigilStore

/// Sends notices to hosts and follows them up: the handlers of the `notice-prepare` and `notice-send` jobs, the
/// recheck of noticed URLs (the block list's safe fetcher: bodies discarded), and re-notification or escalation
/// while content stays online.
public struct NoticeService: Sendable {
    public let db: any Database
    public let clock: any VigilClock
    public let configuration: VigilConfiguration
    /// Automated attribution; nil in tests that record hosting by hand.
    public var attribution: Attribution?

    public var store: NoticeStore { NoticeStore(db: db, clock: clock) }

    public static func attribution(_ c: VigilConfiguration) -> Attribution {
        Attribution(
            dns: DNSClient.configured(c.dnsResolver), country: c.geoipCountryDB.flatMap(GeoDatabase.init(path:)),
            asn: c.geoipASNDB.flatMap(GeoDatabase.init(path:)), rdapBase: c.rdapURL, cache: RDAPCache(),
            fetcher: OutboundFetcher(c))
    }

    /// Traces where a case's URL is hosted and records it (an analyst's values stay when they set any).
    public func attribute(caseID: Int64) async throws {
        guard let attribution, let url = try await store.fetchableURL(caseID: caseID) else { return }
        let r = await attribution.attribute(url: url)
        if r.addresses.isEmpty, let previous = try await store.hosting(caseID: caseID), previous.abuseContact != nil {
            // A lookup that found nothing (the resolver down, the name gone) does not erase what an earlier one found:
            // the notice still goes to that contact, and the recheck judges whether the content is gone.
            try await store.recordAttributionProblem(caseID: caseID, problems: r.problems)
            return
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let details = String(decoding: try encoder.encode(r), as: UTF8.self)
        let network = r.asn.map { "AS\($0)" + (r.organisation.map { " \($0)" } ?? "") }
        try await store.recordAttribution(
            caseID: caseID, country: r.country, network: network, abuseContact: r.abuseContact,
            registrarContact: r.registrarAbuseContact, details: details)
    }

    public func attribute(_ job: JobQueue.Job) async throws {
        let p = try JSONDecoder().decode(CasePayload.self, from: Data(job.payload.utf8))
        try await attribute(caseID: p.case)
        // The job follows every illegal assessment: content hosted where a partner hotline works goes to it.
        try await PartnerRouter(db: db, clock: clock, ownCountry: configuration.country).routeIfDue(caseID: p.case)
    }

    public struct CasePayload: Codable { let `case`: Int64 }
    public struct NoticePayload: Codable { let notice: Int64 }

    public func prepare(_ job: JobQueue.Job) async throws {
        let p = try JSONDecoder().decode(CasePayload.self, from: Data(job.payload.utf8))
        // Trace hosting again before each notice: it may have moved since the assessment.
        if attribution != nil { try await attribute(caseID: p.case) }
        try await store.prepare(
            caseID: p.case, ownCountry: configuration.country, registrar: configuration.noticeRegistrar)
    }

    /// Sends one notice (or re-sends it), leaving out URLs already gone and URLs whose case is now under a hold.
    public func send(_ job: JobQueue.Job) async throws {
        let p = try JSONDecoder().decode(NoticePayload.self, from: Data(job.payload.utf8))
        // A removed notice has nothing to say; a bounced one would go to the same dead address.
        guard let notice = try await store.notice(p.notice), notice.state != .removed, notice.state != .bounced else {
            return
        }
        let hotline = HotlineStore(
            db: db, clock: clock, tokens: SystemTokenSource(), sealer: nil, triage: try TriagePolicy())
        let now = clock.now()
        var items: [NoticeStore.Item] = []
        var heldUntil: Date?
        for item in notice.items where item.removedAt == nil {
            if let release = try await hotline.caseSummary(item.caseID)?.workflow
                .noticeHeldUntil(at: now, toPartner: notice.route.hasPrefix("partner:"))
            {
                heldUntil = min(heldUntil ?? release, release)
                continue
            }
            items.append(item)
        }
        guard !items.isEmpty else {
            // Everything in it is held: try again when the first hold lets it go, so the notice is not left unsent.
            if let heldUntil {
                // (enqueued directly: this job, still running, would count as the pending send)
                try await JobQueue(db: db, clock: clock, owner: "notices").enqueue(
                    NoticeStore.sendJob, payload: NoticeStore.noticePayload(notice.id), runAt: heldUntil + 1)
            }
            return
        }
        let channel = try await store.channel(notice.contact)
        let language = channel?.language ?? "en"
        var template = try await store.template(language: language)
        if template == nil { template = try await store.template(language: "en") }
        let token = SystemTokenSource().urlSafeToken(bytes: 24)
        let confirmURL = "\(configuration.baseURL)/notices/confirm/\(token)"
        // Lower-case hex: mail systems may fold the case of a local part.
        let bounceToken = try await store.newConfirmation(
            notice.id, token: token,
            bounceToken: SystemTokenSource().hexToken(bytes: 12))
        do {
            if let channel, channel.delivery == .webhook {
                let removedClaimed = try await Self.deliverWebhook(
                    notice: notice, items: items, channel: channel, confirmURL: confirmURL,
                    fetcher: OutboundFetcher(configuration))
                if removedClaimed {
                    try await JobQueue(db: db, clock: clock, owner: "notices").enqueue(
                        Self.confirmedJob, payload: NoticeStore.noticePayload(notice.id))
                }
            } else {
                guard let client = SMTPClient(configuration) else {
                    throw StoreError.unreachable("no SMTP relay is configured (smtp_host): the notice waits")
                }
                let to = channel?.address ?? notice.contact
                let message = Self.compose(
                    notice: notice, items: items, configuration: configuration, at: clock.now(), template: template,
                    to: to, confirmURL: confirmURL, bounceToken: bounceToken)
                let refusal: SMTPClient.Failure?
                do {
                    try await client.send(
                        from: bounceToken.map { Self.envelopeSender(configuration, token: $0) }
                            ?? configuration.smtpFrom,
                        to: [to], message: message)
                    refusal = nil
                } catch {
                    guard error.isPermanent else { throw error }
                    refusal = error
                }
                if let refusal {
                    // The relay refused the recipient or the message outright: retrying cannot help. The notice goes
                    // to the supervisors' queue as bounced, like a bounce that comes back later.
                    try await store.recordBounce(
                        noticeID: notice.id, recipient: to, action: "failed",
                        status: Self.enhancedStatus(in: refusal.description),
                        diagnostic: refusal.description, source: "relay")
                    return
                }
            }
        } catch {
            try await store.recordError(notice.id, String(describing: error))
            throw error
        }
        try await store.markSent(notice.id, caseIDs: items.map(\.caseID))
    }

    public static let confirmedJob = "notice-confirmed"

    /// Tells an appellant the outcome of their appeal by e-mail (the contact is opened only for this, then deleted).
    /// A contact that is not an e-mail address is deleted unused: the appellant reads the outcome with the reference.
    public func appealOutcome(_ job: JobQueue.Job, sealer: ContactSealer?) async throws {
        struct P: Codable { let appeal: String }
        let p = try JSONDecoder().decode(P.self, from: Data(job.payload.utf8))
        let list = BlockListStore(db: db, clock: clock)
        guard let appeal = try await list.appeal(p.appeal), let sealed = try await list.sealedContact(p.appeal),
            let sealer
        else { return }
        let contact = try sealer.open(sealed, reportID: appeal.reference)
        guard EmailAddress.isPlausible(contact) else {
            try await list.forgetContact(
                appeal.reference, why: "not an e-mail address; the outcome is on the status page")
            return
        }
        guard let client = SMTPClient(configuration) else {
            throw StoreError.unreachable("no SMTP relay is configured (smtp_host): the outcome waits")
        }
        let decided =
            appeal.state == .upheld
            ? "upheld: the entry has been removed from the national block list"
            : "not upheld: the entry stays on the list"
        let message = """
            From: \(configuration.siteName) <\(configuration.smtpFrom)>
            To: <\(contact)>
            Subject: Your appeal \(appeal.reference): \(appeal.state == .upheld ? "upheld" : "not upheld")
            MIME-Version: 1.0
            Content-Type: text/plain; charset=utf-8

            Your appeal \(appeal.reference) against the block-list entry for \(appeal.target) has been decided: \(decided).

            Reasons: \(appeal.outcome ?? "")

            You can also read this at \(configuration.baseURL)/appeal/status?reference=\(appeal.reference). We have now deleted your contact details.
            """
        try await client.send(from: configuration.smtpFrom, to: [contact], message: message)
        try await list.forgetContact(appeal.reference, why: "the outcome was sent")
    }

    /// A provider said the content is gone (the one-time link, or its webhook's reply): recheck at once; the claim
    /// alone is never trusted.
    public func confirmed(_ job: JobQueue.Job, check: (String) async -> LinkChecker.Result) async throws {
        let p = try JSONDecoder().decode(NoticePayload.self, from: Data(job.payload.utf8))
        for item in try await store.openItems(notice: p.notice) {
            let r = await check(item.url)
            try await store.recordRecheck(
                noticeID: p.notice, caseID: item.caseID, gone: r.outcome == .gone,
                detail: "after the provider's confirmation: " + r.detail)
        }
    }

    /// POSTs the notice as JSON to the provider's or partner's webhook, signed `X-Vigil-Signature: sha256=HEX`
    /// (HMAC-SHA-256 of the body with the shared secret). A 2xx answer is delivery; `{"removed": true}` in it asks
    /// for an immediate recheck.
    public static func deliverWebhook(
        notice: NoticeStore.Notice, items: [NoticeStore.Item], channel: NoticeStore.Channel, confirmURL: String,
        fetcher: OutboundFetcher
    ) async throws -> Bool {
        struct Body: Encodable {
            let notice: Int64
            let reminder: Int
            let urls: [String]
            let confirm_url: String
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let body = try encoder.encode(
            Body(notice: notice.id, reminder: notice.sends, urls: items.map(\.url), confirm_url: confirmURL))
        let response = try await SignedWebhook.post(
            channel.address, body: body, secret: channel.secret, fetcher: fetcher)
        let json = try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
        return json?["removed"] as? Bool == true
    }

    /// The notice as an e-mail: a plain-text letter (the operator's template, `DATA_DIR/notice-template.txt`, when
    /// present) and the URLs attached as CSV.
    /// The envelope sender of a notice: `bounces+TOKEN@domain` when a bounce address is configured (VERP, so a
    /// bounce names its notice), else the From address.
    public static func envelopeSender(_ c: VigilConfiguration, token: String) -> String {
        guard let address = c.noticeBounceAddress, let at = address.firstIndex(of: "@") else { return c.smtpFrom }
        return address[..<at] + "+" + token + address[at...]
    }

    /// The RFC 3463 status code (`5.1.1`) in a reply, if it has one.
    public static func enhancedStatus(in text: String) -> String? {
        text.firstMatch(of: /\b([245]\.\d{1,3}\.\d{1,3})\b/).map { String($0.1) }
    }

    public static func compose(
        notice: NoticeStore.Notice, items: [NoticeStore.Item], configuration c: VigilConfiguration, at now: Date,
        template stored: String? = nil, to: String? = nil, confirmURL: String = "", bounceToken: String? = nil
    ) -> String {
        let templatePath = (c.dataDirectory as NSString).appendingPathComponent("notice-template.txt")
        let template = stored ?? (try? String(contentsOfFile: templatePath, encoding: .utf8)) ?? Self.defaultTemplate
        // A reminder only when every URL in it went out before (a URL a hold kept back is news to the provider).
        let again = notice.sends > 0 && items.allSatisfy { $0.sentAt != nil } ? "REMINDER \(notice.sends): " : ""
        var letter = template
        for (k, v) in [
            "site_name": c.siteName, "count": String(items.count), "notice_id": String(notice.id),
            "legal_basis": c.stopLegalBasis,
            "urls": items.map { "  " + $0.url }.joined(separator: "\n"), "reminder": again, "confirm_url": confirmURL,
        ] {
            letter = letter.replacingOccurrences(of: "{\(k)}", with: v)
        }
        var csv = "url,case,notice\r\n"
        for i in items {
            csv += "\"\(i.url.replacingOccurrences(of: "\"", with: "\"\""))\",\(i.caseID),\(notice.id)\r\n"
        }
        let boundary = "vigil-notice-\(notice.id)-\(notice.sends)"
        let date = MailMessage.dateHeader(now)
        return """
            From: \(c.siteName) <\(c.smtpFrom)>
            To: <\(to ?? notice.contact)>
            Subject: \(again)Notice of child sexual abuse material on your service (\(items.count) URL\(items.count == 1 ? "" : "s")) [notice \(notice.id)]
            Date: \(date)
            Message-ID: <notice-\(notice.id)-\(notice.sends + 1)@vigil>
            \(bounceToken.map { "X-Vigil-Notice: \($0)\n" } ?? "")MIME-Version: 1.0
            Content-Type: multipart/mixed; boundary="\(boundary)"

            --\(boundary)
            Content-Type: text/plain; charset=utf-8
            Content-Transfer-Encoding: 8bit

            \(letter)
            --\(boundary)
            Content-Type: text/csv; charset=utf-8; name="urls.csv"
            Content-Disposition: attachment; filename="urls.csv"
            Content-Transfer-Encoding: base64

            \(Data(csv.utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed]))
            --\(boundary)--
            """
    }

    public static let defaultTemplate = """
        {reminder}Dear abuse team,

        {site_name}, the national hotline, has assessed the following {count} address(es) on your service as
        child sexual abuse material, illegal under {legal_basis}. Please remove the material without delay and
        keep any data you hold about it for law enforcement. Do not forward the addresses to anyone else.

        {urls}

        The same addresses are attached as urls.csv. We check them regularly and will write again while they stay
        online. Once they are removed, you can tell us with this one-time link (we then check at once):
        {confirm_url}

        Please quote notice {notice_id} in any reply.
        """

    /// Rechecks every noticed URL not yet found removed, and those removed in the last 30 days (content comes back):
    /// a URL online again reopens its case and resumes the reminders. Returns how many were checked.
    public func recheck(limit: Int, check: (String) async -> LinkChecker.Result) async throws -> Int {
        var n = 0
        var checked = Set<String>()
        for (noticeID, item) in try await store.openItems(limit: limit) {
            checked.insert("\(noticeID)/\(item.caseID)")
            let result = await check(item.url)
            try await store.recordRecheck(
                noticeID: noticeID, caseID: item.caseID, gone: result.outcome == .gone, detail: result.detail)
            n += 1
        }
        let hotline = HotlineStore(
            db: db, clock: clock, tokens: SystemTokenSource(), sealer: nil, triage: try TriagePolicy())
        for (noticeID, item) in try await store.recentlyRemovedItems(window: 30 * 86_400, limit: limit)
        where !checked.contains("\(noticeID)/\(item.caseID)") {
            let result = await check(item.url)
            n += 1
            guard result.outcome == .live else { continue }
            try await store.recordReappearance(noticeID: noticeID, caseID: item.caseID, detail: result.detail)
            if try await hotline.caseSummary(item.caseID)?.state == .closed {
                try await hotline.apply(.reopen(by: "notice-recheck"), to: item.caseID, actor: .job("notice-recheck"))
            }
        }
        return n
    }
}

/// Runs queued jobs of the names it has handlers for: claim, run, complete or fail with back-off.
public struct QueueWorker: Sendable {
    public let queue: JobQueue
    public let handlers: [String: @Sendable (JobQueue.Job) async throws -> Void]
    /// Also run jobs that are waiting (back-off, batching window): `vigil jobs run` means now.
    public var evenIfDelayed = false
    /// How long a claimed job stays this process's.
    public var lease: TimeInterval = 300

    /// Runs up to `limit` due jobs of `name` (or of any handled name); returns how many ran (succeeded or not).
    /// Claims one job at a time, just before running it, so that a lease only has to cover one job: a batch
    /// claimed up front would outlive its leases and be taken up again by another process.
    public func drain(_ name: String? = nil, limit: Int) async throws -> Int {
        var ran = 0
        // A child in immediate danger first: its alerts never wait behind a backlog of notices.
        let order = handlers.keys.sorted {
            ($0 == UrgentStore.alertJob ? 0 : 1, $0) < ($1 == UrgentStore.alertJob ? 0 : 1, $1)
        }
        for handled in order where name == nil || name == handled {
            while ran < limit,
                let job = try await queue.claim(handled, limit: 1, lease: lease, evenIfDelayed: evenIfDelayed).first
            {
                do {
                    try await handlers[handled]!(job)
                    try await queue.complete(job)
                } catch {
                    try await queue.fail(job, error: String(describing: error))
                    ran += 1
                    // Run-now ignores back-off, so the failed job would be claimed again at once: stop at the first
                    // failure (it is recorded, and retried on its schedule).
                    if evenIfDelayed { break }
                    continue
                }
                ran += 1
            }
        }
        return ran
    }
}
