import SQLKit

// The shared job queue. Column names as they stand after every migration.

/// `jobs`: queued, running, done and failed jobs (0009).
enum Jobs: String, SQLTableColumns {
    static let table = "jobs"

    case id
    case name
    case payload
    case state
    case runAtMS = "run_at_ms"
    case attempts
    case maxAttempts = "max_attempts"
    case leaseUntilMS = "lease_until_ms"
    case lockedBy = "locked_by"
    case lastError = "last_error"
    case createdMS = "created_ms"
    case updatedMS = "updated_ms"
}
