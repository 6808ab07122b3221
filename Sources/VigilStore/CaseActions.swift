import FluentKit
import Foundation
import SQLKit
import VigilCore

/// Performs what a case workflow decided, in the transaction that saves the workflow.
///
/// `CaseWorkflow` decides and returns ``CaseAction``s; this is the one place they are carried out, with an exhaustive
/// `switch` (no `default:`), so an action nobody performs does not compile. Work that leaves the machine (a notice,
/// a referral, an e-mail to the reporter) is queued here as a job that commits with the decision: the job queue is
/// the outbox, and `vigil serve` (or `vigil jobs run NAME`) delivers it with retries and back-off.
///
/// | Action | Performed as |
/// |---|---|
/// | `sendNotice` | job `notice-prepare`: trace hosting again, add the URL to the host's notice |
/// | `referToLawEnforcement` | the case joins the liaison's list (`cases.le_referred_ms`) |
/// | `referToPartner(CC)` | job `case-refer-partner`: a notice to the partner hotline registered for CC |
/// | `proposeListEntry` | a block-list proposal of the case's URL under the first list criterion (desk verifies) |
/// | `withdrawListEntry` | that proposal, if still unverified, is rejected |
/// | `publishListEntry` | job `list-publish`: a new list version once the entry is verified |
/// | `notifyReporterStatus` | a job `reporter-update` per report with a contact: the public status by e-mail |
/// | `audit` | an audit event |
struct CaseActionPerformer {
    let caseID: Int64
    let actor: AuditActor
    let now: Date
    let clock: any VigilClock
    /// The list criterion a case's URL is proposed under.
    let listCriterion: String

    /// Performs `actions` in order on `tx` (which holds the chain lock); returns the audit events to append.
    func perform(_ actions: [CaseAction], on tx: any Database) async throws -> [AuditLog.Entry] {
        let sql = tx.sql
        let jobs = JobQueue(db: tx, clock: clock, owner: "hotline")
        var audits: [AuditLog.Entry] = []
        func audit(_ action: String, _ details: [String: String]) {
            audits.append(
                AuditLog.Entry(time: now, actor: actor, action: action, subject: "case:\(caseID)", details: details))
        }
        let casePayload = "{\"case\":\(caseID)}"
        for action in actions {
            switch action {
            case .audit(let name, let details):
                audit(name, details)
                continue
            case .sendNotice:
                try await jobs.enqueue(NoticeStore.prepareJob, payload: casePayload, on: tx)
            case .referToLawEnforcement:
                // Once referred, a case stays on the liaison's list (a reopened case keeps its first referral time).
                try await sql.update(Cases.tableName).set(Cases.leReferredMS, to: AuditChain.milliseconds(now))
                    .where(Cases.id, .equal, caseID).where(Cases.leReferredMS, .is, SQLLiteral.null).run()
            case .referToPartner(let country):
                try await jobs.enqueue(
                    NoticeStore.partnerReferralJob, payload: "{\"case\":\(caseID),\"country\":\"\(country)\"}", on: tx)
            case .proposeListEntry:
                if let note = try await proposeListEntry(on: tx) { audit("case.list-proposal-skipped", ["why": note]) }
            case .withdrawListEntry:
                try await withdrawListEntry(on: tx)
            case .publishListEntry:
                try await BlockListStore.requestPublication(jobs: jobs, on: tx)
            case .notifyReporterStatus(let status):
                // One job per reporter, so that a retry never writes to someone twice.
                let references = try await HotlineStore.referencesWithContact(caseID: caseID, on: sql)
                guard !references.isEmpty else { continue }
                for reference in references {
                    try await jobs.enqueue(
                        HotlineStore.reporterUpdateJob,
                        payload: try HotlineStore.ReporterUpdate(case: caseID, reference: reference, status: status)
                            .json(),
                        on: tx)
                }
            }
            audit("case.action", ["action": action.name])
        }
        return audits
    }

    /// Proposes the case's URL for the block list; returns why not when it cannot (the desk can still propose).
    private func proposeListEntry(on tx: any Database) async throws -> String? {
        let sql = tx.sql
        guard let url = try await NoticeStore.fetchableURL(caseID: caseID, on: sql) else {
            return "the case is not about a web address: propose its target on the list desk"
        }
        let target: ListTarget
        do throws(ListEntryError) { target = try ListTarget(kind: .url, parsing: url) } catch {
            return "the address cannot be listed (\(error.description)): propose it on the list desk"
        }
        let by: String
        if case .user(let name) = actor { by = name } else { by = "case-workflow" }
        do {
            _ = try await BlockListStore.insertProposal(
                target: target, criterion: listCriterion, caseID: caseID, dedicatedReason: nil, canary: false,
                origin: url, actor: actor, by: by, at: now, on: tx)
        } catch StoreError.conflict(let why) {
            return why
        }
        return nil
    }

    /// Rejects the unverified list proposals made from this case (the decision to list was declined).
    private func withdrawListEntry(on tx: any Database) async throws {
        let sql = tx.sql
        let rows = try await sql.select().column("*").from(ListEntries.tableName).where(
            ListEntries.caseID, .equal, caseID
        )
        .where(ListEntries.state, .equal, ListEntryState.proposed.rawValue).all()
        let by: String
        if case .user(let name) = actor { by = name } else { by = "case-workflow" }
        for row in rows {
            var entry = try BlockListStore.entry(row)
            let reason = "the decision to list case \(caseID) was declined"
            do throws(ListEntryError) { try ListPolicy().reject(&entry, by: by, reason: reason) } catch { continue }
            try await BlockListStore.save(entry, detail: nil, on: sql, at: now)
            try await AuditLog.append(
                on: tx, at: now, actor: actor, action: "list.reject", subject: "list-entry:\(entry.id)",
                details: ["reason": reason, "state": entry.state.rawValue])
        }
    }
}
