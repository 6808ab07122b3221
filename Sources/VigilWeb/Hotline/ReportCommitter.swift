import Vapor
import VigilCore
import VigilStore

/// Group commit for reports: submissions that arrive while a transaction is being written wait and go together
/// into the next one, so many reporters share one disk flush. Each caller still gets its reference only after the
/// transaction holding its report has committed.
actor ReportCommitter {
    private var pending: [(HotlineStore.Submission, CheckedContinuation<HotlineStore.Submitted, any Error>)] = []
    private var flushing = false
    private let store: HotlineStore
    /// Most reports in one transaction.
    static let maxBatch = 256

    init(store: HotlineStore) { self.store = store }

    func submit(_ submission: HotlineStore.Submission) async throws -> HotlineStore.Submitted {
        try await withCheckedThrowingContinuation { continuation in
            pending.append((submission, continuation))
            if !flushing {
                flushing = true
                Task { await self.flush() }
            }
        }
    }

    private func flush() async {
        while !pending.isEmpty {
            let batch = Array(pending.prefix(Self.maxBatch))
            pending.removeFirst(batch.count)
            do {
                let results = try await store.submitBatch(batch.map(\.0))
                for (i, r) in results.enumerated() { batch[i].1.resume(returning: r) }
            } catch {
                for b in batch { b.1.resume(throwing: error) }
            }
        }
        flushing = false
    }
}

struct ReportCommitterKey: StorageKey { typealias Value = ReportCommitter }

extension Application {
    /// The process's report committer, made on first use.
    var reportCommitter: ReportCommitter {
        if let c = storage[ReportCommitterKey.self] { return c }
        let c = ReportCommitter(
            store: HotlineStore(
                db: db, clock: vigil.clock, tokens: vigil.tokens, sealer: hotline.sealer, triage: hotline.triage,
                fourEyes: hotline.fourEyes))
        storage[ReportCommitterKey.self] = c
        return c
    }
}
