import SQLKit

// The policy pages' own state. Column names as they stand after every migration.

/// `checklist_entries`: the national checklist's self-assessment, one row per item (0008).
enum ChecklistEntries: String, SQLTableColumns {
    static let table = "checklist_entries"

    case itemID = "item_id"
    case status
    case evidence
    case links
    case owner
    case reviewDate = "review_date"
    case updatedMS = "updated_ms"
    case updatedBy = "updated_by"
}

/// `awareness_revisions`: awareness pages' revisions; the newest is the page (0008).
enum AwarenessRevisions: String, SQLTableColumns {
    static let table = "awareness_revisions"

    case id
    case slug
    case language
    case body
    case createdMS = "created_ms"
    case author
}

/// `global_review_edits`: the operator's edits of the global legislation review (0008).
enum GlobalReviewEdits: String, SQLTableColumns {
    static let table = "global_review_edits"

    case country
    case meets
    case note
    case editedMS = "edited_ms"
    case editedBy = "edited_by"
}
