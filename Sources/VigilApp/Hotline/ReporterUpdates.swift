import Foundation
import VigilCore
import VigilStore

/// Tells a reporter who left an e-mail address that the public status of their report changed: the handler of the
/// `reporter-update` job, which the case workflow's `notifyReporterStatus` action queues (one job per report).
///
/// The message says only what the public status page says, in the language the report was made in, with the
/// reference and the status page's address; never anything about the case. The contact is opened only to send, and
/// stays sealed in the database until the retention period after closing deletes it. A phone number is not
/// written to (the update is recorded as not sent). A status that changed again before the job ran is skipped: the
/// newer change has its own job.
public struct ReporterUpdates: Sendable {
    public typealias Send = SMTPClient.Send

    let hotline: HotlineStore
    let sealer: ContactSealer
    let catalog: Catalog
    let configuration: VigilConfiguration
    let send: Send

    /// - Parameter send: delivers one message (the SMTP relay in production).
    public init(
        hotline: HotlineStore, sealer: ContactSealer, catalog: Catalog, configuration: VigilConfiguration,
        send: @escaping Send
    ) {
        self.hotline = hotline
        self.sealer = sealer
        self.catalog = catalog
        self.configuration = configuration
        self.send = send
    }

    /// Sends through the configured SMTP relay; without one the job fails and waits (nothing is lost).
    public static func smtp(_ c: VigilConfiguration) -> Send { SMTPClient.sender(c, waiting: "the reporter's update") }

    /// Runs one `reporter-update` job.
    public func run(_ job: JobQueue.Job) async throws {
        let update = try JSONDecoder().decode(HotlineStore.ReporterUpdate.self, from: Data(job.payload.utf8))
        guard let reference = ReportReference(update.reference),
            let current = try await hotline.publicStatus(of: reference), current == update.status,
            let (sealed, language) = try await hotline.sealedContact(reference: update.reference),
            let data = Data(base64Encoded: sealed)
        else { return }
        let contact = try sealer.open(data, reportID: update.reference)
        guard EmailAddress.isPlausible(contact) else {
            try await hotline.recordReporterUpdate(
                caseID: update.case, reference: update.reference, status: update.status, sent: false,
                why: "the contact is not an e-mail address")
            return
        }
        try await send(
            configuration.smtpFrom, contact,
            Self.message(
                reference: update.reference, status: update.status, to: contact,
                localizer: catalog.localizer(for: language), configuration: configuration, at: hotline.clock.now()))
        try await hotline.recordReporterUpdate(
            caseID: update.case, reference: update.reference, status: update.status, sent: true)
    }

    /// The message: the public status text and the status page, in the reporter's language (UTF-8, base64 body,
    /// an RFC 2047 subject).
    static func message(
        reference: String, status: PublicCaseStatus, to: String, localizer t: Localizer,
        configuration c: VigilConfiguration, at now: Date
    ) -> String {
        let link = c.baseURL + "/status?reference=" + reference
        let days = String(c.contactRetentionDays)
        let body = [
            t("update.intro", ["reference": reference, "site_name": c.siteName]),
            t(status.messageKey),
            t("status.explain"),
            t("update.check", ["link": link]),
            t("update.why", ["retention_days": days]),
        ].joined(separator: "\n\n")
        return MailMessage(
            from: "\(c.siteName) <\(c.smtpFrom)>", to: to,
            subject: t("update.subject", ["reference": reference, "site_name": c.siteName]), body: body, date: now,
            messageID: "update-\(reference)-\(status.rawValue)@vigil"
        ).text
    }
}

/// A plain-text e-mail in UTF-8: headers (the subject as an RFC 2047 encoded word when it is not ASCII) and a base64
/// body, so any relay carries any language.
public struct MailMessage: Sendable {
    public var from: String
    public var to: String
    public var subject: String
    public var body: String
    public var date: Date
    public var messageID: String

    public init(from: String, to: String, subject: String, body: String, date: Date, messageID: String) {
        self.from = from
        self.to = to
        self.subject = subject
        self.body = body
        self.date = date
        self.messageID = messageID
    }

    /// RFC 5322 date, in UTC.
    public static func dateHeader(_ date: Date) -> String {
        date.formatted(
            .dateTime.locale(Locale(identifier: "en_US_POSIX")).weekday(.abbreviated).day(.twoDigits).month(
                .abbreviated
            ).year().hour(.twoDigits(amPM: .omitted)).minute(.twoDigits).second(.twoDigits)) + " +0000"
    }

    /// A header value as is when it is printable ASCII, else as `=?utf-8?B?…?=` words of at most 45 bytes each.
    public static func encodedWord(_ text: String) -> String {
        if text.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7f }) { return text }
        var words: [String] = []
        var chunk = ""
        for ch in text {
            if chunk.utf8.count + String(ch).utf8.count > 45 {
                words.append(chunk)
                chunk = ""
            }
            chunk.append(ch)
        }
        if !chunk.isEmpty { words.append(chunk) }
        return words.map { "=?utf-8?B?" + Data($0.utf8).base64EncodedString() + "?=" }.joined(separator: "\r\n ")
    }

    public var text: String {
        let encodedBody = Data(body.utf8).base64EncodedString(options: [
            .lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed,
        ])
        return """
            From: \(from)
            To: <\(to)>
            Subject: \(Self.encodedWord(subject))
            Date: \(Self.dateHeader(date))
            Message-ID: <\(messageID)>
            Auto-Submitted: auto-generated
            MIME-Version: 1.0
            Content-Type: text/plain; charset=utf-8
            Content-Transfer-Encoding: base64

            \(encodedBody)
            """
    }
}
