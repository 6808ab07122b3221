import FluentKit
import Foundation
import SQLKit
import VigilCore

/// Reports and cases: a report is committed (with its case and audit event) before its reference is shown;
/// a report of something already in an open case joins that case. Workflow changes go through `CaseWorkflow`.
public struct HotlineStore: Sendable {
    public let db: any Database
    public let clock: any VigilClock
    public let tokens: any TokenSource
    public let sealer: ContactSealer?
    public let triage: TriagePolicy
    public let fourEyes: FourEyesPolicy
    /// The block-list criterion a case's URL is proposed under when an analyst decides to list it (the first of
    /// `list_criteria`).
    public var listCriterion = "A"

    /// The queued job that e-mails reporters who left an address the new public status of their report.
    public static let reporterUpdateJob = "reporter-update"

    public init(
        db: any Database, clock: any VigilClock, tokens: any TokenSource, sealer: ContactSealer?,
        triage: TriagePolicy, fourEyes: FourEyesPolicy = FourEyesPolicy()
    ) {
        self.db = db
        self.clock = clock
        self.tokens = tokens
        self.sealer = sealer
        self.triage = triage
        self.fourEyes = fourEyes
    }

    var sql: any SQLDatabase { db.sql }

    /// What is kept of a report (never the reporter's address; the contact is sealed separately).
    public struct Payload: Codable, Sendable, Equatable {
        public var kind: String
        public var target: String?
        public var messageID: String?
        public var service: String?
        public var serviceKind: String?
        public var profile: String?
        public var concerns: [String]
        public var details: String?
        public var danger: Bool
        public var source: String
        /// From platforms (CyberTipline-like): when the incident happened, the reported users, the files' hashes.
        public var incidentTime: String?
        public var reportedUsers: [String]?
        public var fileHashes: [String]?
        /// A web report's URL as given (with its port), for rechecks and notices.
        public var url: String?
    }

    static func payload(_ r: ValidatedReport) -> Payload {
        var p = Payload(
            kind: r.kind.rawValue, concerns: [], details: r.details, danger: r.childInImmediateDanger,
            source: r.source.rawValue)
        switch r.subject {
        case .web(let t):
            p.target = t.canonicalKey
            p.url = r.reportedURL
        case .p2p(let t): p.target = t.canonicalKey
        case .newsgroup(let t, let id):
            p.target = t.canonicalKey
            p.messageID = id
        case .profile(let kind, let service, let identifier, let address):
            p.serviceKind = kind.rawValue
            p.service = service
            p.profile = identifier
            p.target = address?.canonicalKey
        case .behaviour(let concerns): p.concerns = concerns.map(\.rawValue).sorted()
        }
        return p
    }

    /// A committed report.
    public struct Submitted: Sendable, Equatable {
        public let reference: ReportReference
        public let caseID: Int64
        public let joinedExistingCase: Bool
    }

    /// Stores a validated report in one transaction: the report, its case (new, or the open case with the same key),
    /// and the audit event. Only after this returns may the reference be shown.
    public func submit(_ report: ValidatedReport, language: String, actor: AuditActor, apiKey: String? = nil)
        async throws -> Submitted
    {
        try await submitBatch([Submission(report: report, language: language, actor: actor, apiKey: apiKey)])[0]
    }

    /// One report to store.
    public struct Submission: Sendable {
        public let report: ValidatedReport
        public let language: String
        public let actor: AuditActor
        public let apiKey: String?
        /// Platform fields kept with the report (already validated by the caller).
        public var incidentTime: String?
        public var reportedUsers: [String]?
        public var fileHashes: [String]?

        public init(report: ValidatedReport, language: String, actor: AuditActor, apiKey: String? = nil) {
            self.report = report
            self.language = language
            self.actor = actor
            self.apiKey = apiKey
        }
    }

    /// Stores several reports in one transaction (group commit: one disk flush for all of them), in order, so that
    /// a later report of the same thing joins the case an earlier one opened. All or none are stored.
    public func submitBatch(_ items: [Submission]) async throws -> [Submitted] {
        let now = clock.now()
        let ms = AuditChain.milliseconds(now)
        struct Prepared: Sendable {
            let item: Submission
            let reference: ReportReference
            let sealed: String?
            let payloadJSON: String
            let key: String?
        }
        var prepared: [Prepared] = []
        for item in items {
            let reference = ReportReference(randomFrom: tokens)
            let sealed: String? = try item.report.contact.map { c in
                guard let sealer else {
                    throw StoreError.invalid("contact details cannot be stored: no encryption key")
                }
                return try sealer.seal(c.text, reportID: reference.description).base64EncodedString()
            }
            var payload = Self.payload(item.report)
            payload.incidentTime = item.incidentTime
            payload.reportedUsers = item.reportedUsers
            payload.fileHashes = item.fileHashes
            prepared.append(
                Prepared(
                    item: item, reference: reference, sealed: sealed,
                    payloadJSON: String(decoding: try JSONEncoder().encode(payload), as: UTF8.self),
                    key: item.report.caseKey?.rawValue))
        }
        let fourEyes = self.fourEyes
        let triage = self.triage
        let all = prepared
        return try await AuditLog.transaction(db) { tx in
            let sql = tx.sql
            var out: [Submitted] = []
            var events: [AuditLog.Entry] = []
            var urgent: [(Int64, AuditActor)] = []
            // The next case number, read once: this transaction holds the write lock (the chain's head row is locked).
            var nextCaseID =
                (try await sql.select().column(
                    SQLFunction("coalesce", args: SQLFunction("max", args: Cases.id), SQLLiteral.numeric("0")),
                    as: "m"
                )
                .from(Cases.tableName).first()?.decode(column: "m", as: Int64.self) ?? 0) + 1
            for p in all {
                let report = p.item.report
                let key = p.key
                var caseID: Int64
                var joined = false
                if let key,
                    let row = try await sql.select().columns(
                        Cases.id, Cases.workflow, Cases.danger, Cases.reportCount, Cases.fastTrack, Cases.createdMS
                    ).from(Cases.tableName)
                        .where(Cases.caseKey, .equal, key).where(Cases.state, .notEqual, CaseState.closed.rawValue)
                        .orderBy(Cases.id).first()
                {
                    caseID = try row.decode(Cases.id, as: Int64.self)
                    var wf = try JSONDecoder().decode(
                        CaseWorkflow.self, from: Data(try row.decode(Cases.workflow, as: String.self).utf8))
                    let actions: [CaseAction]
                    actions = try wf.handle(.reportJoined, at: now)
                    let performer = CaseActionPerformer(
                        caseID: caseID, actor: p.item.actor, now: now, clock: clock, listCriterion: listCriterion)
                    events += try await performer.perform(actions, on: tx)
                    let count = try row.decode(Cases.reportCount, as: Int.self) + 1
                    let danger = try row.decode(Cases.danger, as: Bool.self) || report.childInImmediateDanger
                    let fast = try row.decode(Cases.fastTrack, as: Bool.self) || report.source.isFastTrack
                    let created = Date(
                        timeIntervalSince1970: Double(try row.decode(Cases.createdMS, as: Int64.self)) / 1000)
                    let deadline = triage.deadline(
                        for: TriageFacts(
                            childInImmediateDanger: danger, firstReportAt: created, reportCount: count,
                            fastTrackSince: fast ? created : nil))
                    let hold = Self.holdColumns(wf)
                    try await sql.update(Cases.tableName).set(
                        Cases.workflow, to: String(decoding: try JSONEncoder().encode(wf), as: UTF8.self)
                    )
                    .set(Cases.holdExpiresMS, to: hold.expires).set(Cases.holdNotifyAfterMS, to: hold.notifyAfter)
                    .set(Cases.reportCount, to: count).set(Cases.danger, to: danger).set(Cases.fastTrack, to: fast)
                    .set(Cases.deadlineMS, to: AuditChain.milliseconds(deadline)).set(Cases.updatedMS, to: ms)
                    .where(Cases.id, .equal, caseID).run()
                    joined = true
                } else {
                    caseID = nextCaseID
                    nextCaseID += 1
                    let wf = CaseWorkflow(fourEyes: fourEyes)
                    let deadline = triage.deadline(
                        for: TriageFacts(
                            childInImmediateDanger: report.childInImmediateDanger, firstReportAt: now, reportCount: 1,
                            fastTrackSince: report.source.isFastTrack ? now : nil))
                    try await sql.insert(into: Cases.tableName)
                        .columns(
                            Cases.id, Cases.caseKey, Cases.kind, Cases.state, Cases.workflow, Cases.danger,
                            Cases.reportCount, Cases.fastTrack, Cases.deadlineMS, Cases.createdMS, Cases.updatedMS
                        )
                        .values(
                            SQLBind(caseID), SQLBind(key), SQLBind(report.kind.rawValue), SQLBind(wf.state.rawValue),
                            SQLBind(String(decoding: try JSONEncoder().encode(wf), as: UTF8.self)),
                            SQLBind(report.childInImmediateDanger), SQLBind(1),
                            SQLBind(report.source.isFastTrack), SQLBind(AuditChain.milliseconds(deadline)), SQLBind(ms),
                            SQLBind(ms)
                        )
                        .run()
                }
                try await sql.insert(into: Reports.tableName)
                    .columns(
                        Reports.reference, Reports.caseID, Reports.kind, Reports.payload, Reports.contactSealed,
                        Reports.language, Reports.source, Reports.apiKey, Reports.createdMS
                    )
                    .values(
                        SQLBind(p.reference.description), SQLBind(caseID), SQLBind(report.kind.rawValue),
                        SQLBind(p.payloadJSON), SQLBind(p.sealed),
                        SQLBind(p.item.language), SQLBind(report.source.rawValue), SQLBind(p.item.apiKey), SQLBind(ms)
                    )
                    .run()
                events.append(
                    AuditLog.Entry(
                        time: now, actor: p.item.actor, action: joined ? "report.joined" : "report.received",
                        subject: "case:\(caseID)",
                        details: [
                            "reference": p.reference.description, "kind": report.kind.rawValue,
                            "danger": String(report.childInImmediateDanger),
                        ]))
                out.append(Submitted(reference: p.reference, caseID: caseID, joinedExistingCase: joined))
                if report.childInImmediateDanger {
                    urgent.append((caseID, p.item.actor))
                }
            }
            try await AuditLog.append(on: tx, events)
            // A child in immediate danger: the on-call rota is alerted now, not when someone next opens the queue.
            for (caseID, actor) in urgent {
                try await UrgentStore.raise(caseID: caseID, at: now, clock: clock, actor: actor, on: tx)
            }
            return out
        }
    }

    /// The public status of a report (nothing more revealing), or nil when the reference is unknown.
    public func publicStatus(of reference: ReportReference) async throws -> PublicCaseStatus? {
        guard
            let row = try await sql.select().column(Cases.state.qualified).from(Reports.tableName)
                .join(Cases.tableName, on: Reports.caseID.qualified, .equal, Cases.id.qualified)
                .where(Reports.reference.qualified, .equal, SQLBind(reference.description)).first(),
            let state = CaseState(rawValue: try row.decode(Cases.state, as: String.self))
        else { return nil }
        return state.publicStatus
    }

    /// One line of the analyst's queue.
    public struct CaseSummary: Sendable {
        public let id: Int64
        public let key: String?
        public let kind: String
        public let state: CaseState
        public let danger: Bool
        public let reportCount: Int
        public let deadline: Date
        public let createdAt: Date
        public let claimedBy: String?
        public let workflow: CaseWorkflow
        /// When the case was first referred to law enforcement (kept when it is reopened).
        public let referredAt: Date?
    }

    static func summary(_ r: any SQLRow) throws -> CaseSummary {
        CaseSummary(
            id: try r.decode(Cases.id, as: Int64.self), key: try r.decode(Cases.caseKey, as: String?.self),
            kind: try r.decode(Cases.kind, as: String.self),
            state: CaseState(rawValue: try r.decode(Cases.state, as: String.self)) ?? .received,
            danger: try r.decode(Cases.danger, as: Bool.self),
            reportCount: try r.decode(Cases.reportCount, as: Int.self),
            deadline: Date(timeIntervalSince1970: Double(try r.decode(Cases.deadlineMS, as: Int64.self)) / 1000),
            createdAt: Date(timeIntervalSince1970: Double(try r.decode(Cases.createdMS, as: Int64.self)) / 1000),
            claimedBy: try r.decode(Cases.claimedBy, as: String?.self),
            workflow: try JSONDecoder().decode(
                CaseWorkflow.self, from: Data(try r.decode(Cases.workflow, as: String.self).utf8)),
            referredAt: try r.decode(Cases.leReferredMS, as: Int64?.self).map {
                Date(timeIntervalSince1970: Double($0) / 1000)
            })
    }

    /// Open cases in priority order: danger first, then the service-level deadline, then more reports, then age.
    public func queue(
        includeClosed: Bool = false, kind: String? = nil, state: String? = nil, dangerOnly: Bool = false,
        page: Int = 1, per: Int = 50
    ) async throws -> (cases: [CaseSummary], total: Int) {
        func filtered(_ base: SQLSelectBuilder) -> SQLSelectBuilder {
            var q = base
            if let state, !state.isEmpty {
                q = q.where(Cases.state, .equal, state)
            } else if !includeClosed {
                q = q.where(Cases.state, .notEqual, CaseState.closed.rawValue)
            }
            if let kind, !kind.isEmpty { q = q.where(Cases.kind, .equal, kind) }
            if dangerOnly { q = q.where(Cases.danger, .equal, true) }
            return q
        }
        let q = filtered(sql.select().column("*").from(Cases.tableName))
        let total =
            try await filtered(
                sql.select().column(SQLFunction("count", args: SQLLiteral.all), as: "n").from(Cases.tableName)
            )
            .first()?.decode(column: "n", as: Int.self) ?? 0
        let rows = try await q.orderBy(Cases.danger, .descending).orderBy(Cases.deadlineMS).orderBy(
            Cases.reportCount, .descending
        ).orderBy(Cases.createdMS)
            .limit(per).offset((max(1, page) - 1) * per).all()
        return (try rows.map(Self.summary), total)
    }

    /// Which of these case keys were seen before in another case (an earlier, now closed case, or another open one).
    public func keysSeenElsewhere(_ cases: [CaseSummary]) async throws -> Set<Int64> {
        let keyed = cases.filter { $0.key != nil }
        guard !keyed.isEmpty else { return [] }
        let rows = try await sql.select().columns(Cases.id, Cases.caseKey).from(Cases.tableName).where(
            Cases.caseKey, .in, Array(Set(keyed.compactMap(\.key)))
        ).all()
        var ids: [String: Set<Int64>] = [:]
        for r in rows {
            ids[try r.decode(Cases.caseKey, as: String.self), default: []].insert(
                try r.decode(Cases.id, as: Int64.self))
        }
        return Set(keyed.filter { (ids[$0.key!]?.count ?? 0) > 1 }.map(\.id))
    }

    /// The hold columns that mirror a workflow's hold (both nil when the case is not held), written with the workflow.
    static func holdColumns(_ wf: CaseWorkflow) -> (expires: Int64?, notifyAfter: Int64?) {
        (wf.hold.map { AuditChain.milliseconds($0.expiresAt) }, wf.hold?.notifyAfter.map(AuditChain.milliseconds))
    }

    /// Ends law-enforcement holds whose expiry has passed, and releases the notices of holds whose notify-after date
    /// has passed, so that what they kept back leaves and is audited when it happens rather than at the case's next
    /// event. Returns how many holds ended or released notices.
    @discardableResult
    public func expireHolds() async throws -> Int {
        let now = clock.now()
        // Only holds that end or let notices leave by now (the index on hold_expires_ms narrows it to held cases).
        let cutoff = AuditChain.milliseconds(now)
        let rows = try await sql.select().columns(Cases.id, Cases.workflow).from(Cases.tableName).where(
            Cases.state, .notEqual, CaseState.closed.rawValue
        )
        .where(Cases.holdExpiresMS, .isNot, SQLLiteral.null)
        .where {
            $0.where(Cases.holdExpiresMS, .lessThanOrEqual, cutoff).orWhere(
                Cases.holdNotifyAfterMS, .lessThanOrEqual, cutoff)
        }
        .all()
        var ended = 0
        for r in rows {
            let wf = try JSONDecoder().decode(
                CaseWorkflow.self, from: Data(try r.decode(Cases.workflow, as: String.self).utf8))
            guard let hold = wf.hold else { continue }
            let id = try r.decode(Cases.id, as: Int64.self)
            if hold.expiresAt <= now {
                try await apply(.holdExpired, to: id, actor: .job("hold-expiry"))
            } else if wf.noticesDueForRelease(at: now) {
                try await apply(.holdNotifyAfterReached, to: id, actor: .job("hold-expiry"))
            } else {
                continue
            }
            ended += 1
        }
        return ended
    }

    /// Cases whose workflow has referred them to law enforcement.
    /// Referred cases, the most recently referred first, a page at a time; with the number of referred cases.
    public func referredToLawEnforcement(page: Int = 1, per: Int = 100) async throws -> (
        cases: [CaseSummary], total: Int
    ) {
        let rows = try await sql.select().column("*").from(Cases.tableName).where(
            Cases.leReferredMS, .isNot, SQLLiteral.null
        )
        .orderBy(Cases.leReferredMS, .descending).orderBy(Cases.id, .descending).limit(per).offset(
            max(0, page - 1) * per
        )
        .all()
        let total =
            try await sql.select().column(SQLFunction("count", args: SQLLiteral.all), as: "n").from(Cases.tableName)
            .where(Cases.leReferredMS, .isNot, SQLLiteral.null).first()?.decode(column: "n", as: Int.self) ?? 0
        return (try rows.map(Self.summary), total)
    }

    /// A stored report, for the case page and referral packages (the contact stays sealed).
    public struct StoredReport: Sendable {
        public let reference: String
        public let payload: Payload
        public let language: String
        public let source: String
        public let receivedAt: Date
        public let hasContact: Bool
    }

    /// One case without its reports (for jobs that only need its state and workflow).
    public func caseSummary(_ id: Int64) async throws -> CaseSummary? {
        try await sql.select().column("*").from(Cases.tableName).where(Cases.id, .equal, id).first().map(Self.summary)
    }

    public func caseDetail(_ id: Int64) async throws -> (CaseSummary, [StoredReport])? {
        guard let row = try await sql.select().column("*").from(Cases.tableName).where(Cases.id, .equal, id).first()
        else {
            return nil
        }
        let reports = try await sql.select().column("*").from(Reports.tableName).where(Reports.caseID, .equal, id)
            .orderBy(Reports.createdMS).all().map { r in
                StoredReport(
                    reference: try r.decode(Reports.reference, as: String.self),
                    payload: try JSONDecoder().decode(
                        Payload.self, from: Data(try r.decode(Reports.payload, as: String.self).utf8)),
                    language: try r.decode(Reports.language, as: String.self),
                    source: try r.decode(Reports.source, as: String.self),
                    receivedAt: Date(
                        timeIntervalSince1970: Double(try r.decode(Reports.createdMS, as: Int64.self)) / 1000),
                    hasContact: try r.decode(Reports.contactSealed, as: String?.self) != nil)
            }
        return (try Self.summary(row), reports)
    }

    /// Applies a workflow event to a case in one transaction, auditing it and every action it returns.
    @discardableResult
    public func apply(_ event: CaseEvent, to id: Int64, actor: AuditActor) async throws -> [CaseAction] {
        let now = clock.now()
        return try await AuditLog.transaction(db) { tx in
            let sql = tx.sql
            guard
                let row = try await sql.select().columns(Cases.workflow).from(Cases.tableName).where(
                    Cases.id, .equal, id
                ).first()
            else {
                throw StoreError.notFound("no case \(id)")
            }
            var wf = try JSONDecoder().decode(
                CaseWorkflow.self, from: Data(try row.decode(Cases.workflow, as: String.self).utf8))
            let actions: [CaseAction]
            // A refusal keeps its type (CaseWorkflowError): the faces map its kind and code.
            actions = try wf.handle(event, at: now)
            let hold = Self.holdColumns(wf)
            try await sql.update(Cases.tableName).set(
                Cases.workflow, to: String(decoding: try JSONEncoder().encode(wf), as: UTF8.self)
            )
            .set(Cases.holdExpiresMS, to: hold.expires).set(Cases.holdNotifyAfterMS, to: hold.notifyAfter)
            .set(Cases.state, to: wf.state.rawValue).set(Cases.claimedBy, to: wf.claimedBy).set(
                Cases.updatedMS, to: AuditChain.milliseconds(now)
            )
            .set(Cases.closedMS, to: wf.closedAt.map(AuditChain.milliseconds))
            .where(Cases.id, .equal, id).run()
            var details: [String: String] = ["state": wf.state.rawValue]
            if case .placeHold(let h) = event {
                details["expires"] = ISO8601DateFormatter().string(from: h.expiresAt)
                if let n = h.notifyAfter { details["notifyAfter"] = ISO8601DateFormatter().string(from: n) }
            }
            let ownAudits = Set(
                actions.compactMap { a -> String? in if case .audit(let name, _) = a { return name } else { return nil }
                })
            // A hold that let go of notices: URLs it kept out of notices already sent go now, not at the next reminder.
            switch event {
            case .liftHold, .holdExpired, .holdNotifyAfterReached:
                if !wf.holdsNotices(at: now) { try await NoticeStore.sendUnsentItems(caseID: id, clock: clock, on: tx) }
            default: break
            }
            // Content assessed illegal: trace where it is hosted, in a job that commits with the assessment.
            if case .assess(let assessment, _) = event, assessment.outcome.isIllegal {
                try await JobQueue(db: tx, clock: clock, owner: "hotline").enqueue(
                    NoticeStore.attributeJob, payload: "{\"case\":\(id)}", on: tx)
            }
            if !ownAudits.contains("case.\(event.name)") {
                try await AuditLog.append(
                    on: tx, at: now, actor: actor, action: "case.\(event.name)", subject: "case:\(id)", details: details
                )
            }
            let performer = CaseActionPerformer(
                caseID: id, actor: actor, now: now, clock: clock, listCriterion: listCriterion)
            try await AuditLog.append(on: tx, try await performer.perform(actions, on: tx))
            return actions
        }
    }

    /// The references of the case's reports that still carry their reporter's contact.
    static func referencesWithContact(caseID: Int64, on sql: any SQLDatabase) async throws -> [String] {
        try await sql.select().column(Reports.reference).from(Reports.tableName).where(Reports.caseID, .equal, caseID)
            .where(Reports.contactSealed, .isNot, SQLLiteral.null).orderBy(Reports.createdMS).all()
            .map { try $0.decode(Reports.reference, as: String.self) }
    }

    /// The payload of a `reporter-update` job: tell the reporter of `reference` that the status is now `status`.
    public struct ReporterUpdate: Codable, Sendable, Equatable {
        public let `case`: Int64
        public let reference: String
        public let status: PublicCaseStatus

        public init(case: Int64, reference: String, status: PublicCaseStatus) {
            self.case = `case`
            self.reference = reference
            self.status = status
        }

        func json() throws -> String { String(decoding: try JSONEncoder().encode(self), as: UTF8.self) }
    }

    /// A report's sealed contact and the language it was made in; nil when the contact is gone.
    public func sealedContact(reference: String) async throws -> (sealed: String, language: String)? {
        guard
            let row = try await sql.select().columns(Reports.contactSealed, Reports.language).from(Reports.tableName)
                .where(Reports.reference, .equal, reference).first(),
            let sealed = try row.decode(Reports.contactSealed, as: String?.self)
        else { return nil }
        return (sealed, try row.decode(Reports.language, as: String.self))
    }

    /// Records that a reporter was told a status (or why not), without their address.
    public func recordReporterUpdate(
        caseID: Int64, reference: String, status: PublicCaseStatus, sent: Bool, why: String? = nil
    ) async throws {
        let now = clock.now()
        try await AuditLog.transaction(db) { tx in
            var details = ["reference": reference, "status": status.rawValue]
            if let why { details["why"] = why }
            try await AuditLog.append(
                on: tx, at: now, actor: .job(Self.reporterUpdateJob),
                action: sent ? "report.update-sent" : "report.update-not-sent", subject: "case:\(caseID)",
                details: details)
        }
    }

    /// Deletes reporters' contact details once their case has been closed longer than the retention period;
    /// each deletion is audited. Returns how many reports lost their contact.
    @discardableResult
    public func purgeExpiredContacts(
        retention: ContactRetention = ContactRetention(), actor: AuditActor = .job("contact-retention")
    ) async throws -> Int {
        let now = clock.now()
        let cutoff = AuditChain.milliseconds(now - retention.period)
        return try await AuditLog.transaction(db) { tx in
            let sql = tx.sql
            let rows = try await sql.select().column(Reports.reference.qualified).column(Reports.caseID.qualified).from(
                Reports.tableName
            )
            .join(Cases.tableName, on: Reports.caseID.qualified, .equal, Cases.id.qualified)
            .where(Reports.contactSealed.qualified, .isNot, SQLLiteral.null)
            .where(Cases.state.qualified, .equal, SQLBind(CaseState.closed.rawValue))
            .where(Cases.closedMS.qualified, .lessThan, SQLBind(cutoff)).limit(10_000).all()
            for r in rows {
                let ref = try r.decode(Reports.reference, as: String.self)
                try await sql.update(Reports.tableName).set(Reports.contactSealed, to: SQLLiteral.null).where(
                    Reports.reference, .equal, ref
                ).run()
                try await AuditLog.append(
                    on: tx, at: now, actor: actor, action: "report.contact-deleted",
                    subject: "case:\(try r.decode(Reports.caseID, as: Int64.self))",
                    details: ["reference": ref, "reason": "retention period ended"])
            }
            return rows.count
        }
    }

    /// Cases assessed per analyst on the day containing `day` (for the supervisors' welfare view).
    public func assessmentsPerAnalyst(on day: Date) async throws -> [String: Int] {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let start = cal.startOfDay(for: day)
        let (events, _) = try await AuditLog.list(
            on: db, filter: .init(action: "case.assess", from: start, to: start + 86400), page: 1, per: 10_000)
        var out: [String: Int] = [:]
        for e in events { out[e.actor.identifier, default: 0] += 1 }
        return out
    }
}
