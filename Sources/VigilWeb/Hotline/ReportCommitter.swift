import Vapor
import VigilCore
import VigilStore

/// Group commit for reports: submissions that arrive while a transaction is being written wait and go together
/// into the next one, so many reporters share one disk flush. Each caller still gets its reference only after the
/// transaction holding its report has committed.
///
/// No background task: the caller that finds no write in progress leads. It writes its own report with up to
/// `maxBatch - 1` waiting ones, answers them, and hands the lead to the next waiter, which writes the next batch with
/// its own report first. So every write happens inside a request's own task (cancelled with it, finished before the
/// server stops), and no caller waits for more than one batch beyond its own.
actor ReportCommitter {
    /// What a waiting caller is resumed with: its result, or the lead for the next batch.
    private enum Turn: Sendable {
        case done(HotlineStore.Submitted)
        case lead
    }

    private var pending: [(HotlineStore.Submission, CheckedContinuation<Turn, any Error>)] = []
    private var writing = false
    private let store: HotlineStore
    /// Most reports in one transaction.
    static let maxBatch = 256

    init(store: HotlineStore) { self.store = store }

    func submit(_ submission: HotlineStore.Submission) async throws -> HotlineStore.Submitted {
        if writing {
            let turn = try await withCheckedThrowingContinuation { pending.append((submission, $0)) }
            if case .done(let submitted) = turn { return submitted }
            // Handed the lead: `writing` stayed true, and this submission left the queue with the hand-over.
        } else {
            writing = true
        }
        let others = Array(pending.prefix(Self.maxBatch - 1))
        pending.removeFirst(others.count)
        let own: Result<HotlineStore.Submitted, any Error>
        do {
            let results = try await store.submitBatch([submission] + others.map(\.0))
            own = .success(results[0])
            for (i, r) in results.dropFirst().enumerated() { others[i].1.resume(returning: .done(r)) }
        } catch {
            own = .failure(error)
            for o in others { o.1.resume(throwing: error) }
        }
        if pending.isEmpty {
            writing = false
        } else {
            pending.removeFirst().1.resume(returning: .lead)
        }
        return try own.get()
    }
}

struct ReportCommitterKey: StorageKey { typealias Value = ReportCommitter }

extension Application {
    /// The process's report committer, made on first use.
    var reportCommitter: ReportCommitter {
        get throws {
            if let c = storage[ReportCommitterKey.self] { return c }
            let (services, hotline) = (try vigil, try hotline)
            let c = ReportCommitter(
                store: HotlineStore(
                    db: db, clock: services.clock, tokens: services.tokens, sealer: hotline.sealer,
                    triage: hotline.triage, fourEyes: hotline.fourEyes))
            storage[ReportCommitterKey.self] = c
            return c
        }
    }
}
