import SQLKit

// The block list: entries, versions and their changes, feed downloads, appeals. Column names as they stand after
// every migration.

/// `list_entries`: block-list entries (0007; `fetch_origin` 0017).
enum ListEntries: String, SQLTableColumns {
    static let table = "list_entries"

    case id
    case kind
    case value
    case criterion
    case caseID = "case_id"
    case dedicatedReason = "dedicated_reason"
    case state
    case proposedBy = "proposed_by"
    case proposedMS = "proposed_ms"
    case verifiedBy = "verified_by"
    case verifiedMS = "verified_ms"
    case expiresMS = "expires_ms"
    case checkMS = "check_ms"
    case checkResult = "check_result"
    case checkDetail = "check_detail"
    case goneCount = "gone_count"
    case canary
    case removalReason = "removal_reason"
    case published
    case updatedMS = "updated_ms"
    case fetchOrigin = "fetch_origin"
}

/// `list_versions`: published list versions (0007).
enum ListVersions: String, SQLTableColumns {
    static let table = "list_versions"

    case version
    case createdMS = "created_ms"
    case entryCount = "entry_count"
    case added
    case removed
}

/// `list_changes`: the additions and removals that make each version (0007).
enum ListChanges: String, SQLTableColumns {
    static let table = "list_changes"

    case version
    case entryID = "entry_id"
    case kind
    case value
    case change
    case reason
}

/// `feed_downloads`: partners' feed downloads (0007).
enum FeedDownloads: String, SQLTableColumns {
    static let table = "feed_downloads"

    case id
    case apiKey = "api_key"
    case partner
    case format
    case version
    case timeMS = "time_ms"
}

/// `appeals`: appeals against entries (0007).
enum Appeals: String, SQLTableColumns {
    static let table = "appeals"

    case reference
    case target
    case entryID = "entry_id"
    case grounds
    case contactSealed = "contact_sealed"
    case language
    case state
    case outcome
    case decidedBy = "decided_by"
    case decidedMS = "decided_ms"
    case createdMS = "created_ms"
}
