import SQLKit

// The urgent path (written by `UrgentStore`). Column names as they stand after every migration.

/// `rota_shifts`: the on-call rota, in alerting order (0022).
enum RotaShifts: String, SQLTableColumns {
    static let table = "rota_shifts"

    case id
    case position
    case username
    case email
    case days
    case startMin = "start_min"
    case endMin = "end_min"
    case createdMS = "created_ms"
}

/// `urgent_alerts`: one alert per urgent report's case, its escalation as JSON (0022).
enum UrgentAlertsColumns: String, SQLTableColumns {
    static let table = "urgent_alerts"

    case id
    case caseID = "case_id"
    case state
    case alert
    case notifiedStep = "notified_step"
    case stepStartedMS = "step_started_ms"
    case raisedMS = "raised_ms"
    case ackMS = "ack_ms"
    case ackBy = "ack_by"
}

/// `urgent_tokens`: each recipient's delivery of a step, with its acknowledgement link by SHA-256 (0022).
enum UrgentTokens: String, SQLTableColumns {
    static let table = "urgent_tokens"

    case tokenHash = "token_hash"
    case alertID = "alert_id"
    case step
    case address
    case createdMS = "created_ms"
    case sentMS = "sent_ms"
    case usedMS = "used_ms"
}
