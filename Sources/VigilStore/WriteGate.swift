import FluentKit
import SQLKit

/// Lets one write transaction at a time into SQLite, in order, without spinning.
///
/// SQLite allows one writer per database; sqlite-nio's busy handler retries at once, so writers that collide
/// spin on the lock (measured: most of the CPU under load went to `btreeBeginTrans` and `unixShmLock`). Queuing
/// writers here instead keeps the CPU for work. PostgreSQL needs no gate and skips it.
public actor WriteGate {
    /// The process-wide gate (one SQLite database per process).
    public static let shared = WriteGate()

    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        if !busy {
            busy = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty { busy = false } else { waiters.removeFirst().resume() }
    }

    /// Runs `body` in a transaction, behind the gate when the database is SQLite.
    public static func transaction<T: Sendable>(
        _ db: any Database, _ body: @escaping @Sendable (any Database) async throws -> T
    ) async throws -> T {
        guard (db as? any SQLDatabase)?.dialect.name == "sqlite" else { return try await db.transaction(body) }
        await shared.acquire()
        do {
            let result = try await db.transaction(body)
            await shared.release()
            return result
        } catch {
            await shared.release()
            throw error
        }
    }
}
