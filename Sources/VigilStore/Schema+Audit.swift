import SQLKit

// The hash-chained audit log. Column names as they stand after every migration.

/// `audit_events`: the audit log's events (0004).
enum AuditEvents: String, SQLTableColumns {
    static let table = "audit_events"

    case seq
    case timeMS = "time_ms"
    case actorKind = "actor_kind"
    case actorID = "actor_id"
    case action
    case subject
    case details
    case prevHash = "prev_hash"
    case hash
}

/// `audit_head`: the audit chain's head: one row, `id` 1 (0004).
enum AuditHead: String, SQLTableColumns {
    static let table = "audit_head"

    case id
    case lastSeq = "last_seq"
    case lastHash = "last_hash"
}
