import SQLKit

// The national hash set (written by `HashSetStore`). Column names as they stand after every migration.

/// `hash_items`: one row per known item, its record as JSON (0005).
enum HashItems: String, SQLTableColumns {
    static let table = "hash_items"

    case id
    case record
    case knownBenign = "known_benign"
    case baseline
    case createdAt = "created_at"
    case updatedAt = "updated_at"
    /// Its bank, review state (indexed), review (JSON; NULL: confirmed before reviews existed) and version (0019).
    case bank
    case reviewState = "review_state"
    case review
    case version
}

/// `hash_banks`: the set's banks (0019). (`HashBanks` is the migration's name.)
enum HashBanksColumns: String, SQLTableColumns {
    static let table = "hash_banks"

    case name
    case label
    case kind
    case enabled
    case pdqRadius = "pdq_radius"
    case sampling
    case reviewed
    case updatedMS = "updated_ms"
}

/// `hash_digests`: the items' digests, unique per algorithm and value (0005).
enum HashDigests: String, SQLTableColumns {
    static let table = "hash_digests"

    case algorithm
    case value
    case itemID = "item_id"
}

/// `hash_videos`: a video item's vPDQ frames, the reference's lines (0023).
enum HashVideosColumns: String, SQLTableColumns {
    static let table = "hash_videos"

    case id
    case itemID = "item_id"
    case frames
    case frameCount = "frame_count"
    case duration
    case createdMS = "created_ms"
}
