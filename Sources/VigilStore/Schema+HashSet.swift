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
}

/// `hash_digests`: the items' digests, unique per algorithm and value (0005).
enum HashDigests: String, SQLTableColumns {
    static let table = "hash_digests"

    case algorithm
    case value
    case itemID = "item_id"
}
