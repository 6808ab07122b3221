import SQLKit

// Cases and the reports in them. Column names as they stand after every migration.

/// `cases`: cases (0006; `le_referred_ms` 0014; the hold columns 0018).
enum Cases: String, SQLTableColumns {
    static let table = "cases"

    case id
    case caseKey = "case_key"
    case kind
    case state
    case workflow
    case danger
    case reportCount = "report_count"
    case fastTrack = "fast_track"
    case deadlineMS = "deadline_ms"
    case claimedBy = "claimed_by"
    case createdMS = "created_ms"
    case updatedMS = "updated_ms"
    case closedMS = "closed_ms"
    case leReferredMS = "le_referred_ms"
    case holdExpiresMS = "hold_expires_ms"
    case holdNotifyAfterMS = "hold_notify_after_ms"
}

/// `reports`: reports, each in one case; the contact sealed (0006).
enum Reports: String, SQLTableColumns {
    static let table = "reports"

    case reference
    case caseID = "case_id"
    case kind
    case payload
    case contactSealed = "contact_sealed"
    case language
    case source
    case apiKey = "api_key"
    case createdMS = "created_ms"
}
