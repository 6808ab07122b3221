import SQLKit

// Federation between hotlines (written by `FederationStore`). Column names as they stand after every migration.

/// `federation_partners`: partner hotlines (0020).
enum FederationPartners: String, SQLTableColumns {
    static let table = "federation_partners"

    case name
    case label
    case countries
    case baseURL = "base_url"
    case apiKeySealed = "api_key_sealed"
    case enabled
    case createdMS = "created_ms"
    case updatedMS = "updated_ms"
}

/// `federation_keys`: partners' Ed25519 public keys, with the end of a rotated key's overlap (0020).
enum FederationKeys: String, SQLTableColumns {
    static let table = "federation_keys"

    case keyID = "key_id"
    case partner
    case publicKey = "public_key"
    case addedMS = "added_ms"
    case retireAfterMS = "retire_after_ms"
}

/// `federation_inbox`: every message received, by id (0020).
enum FederationInbox: String, SQLTableColumns {
    static let table = "federation_inbox"

    case messageID = "message_id"
    case partner
    case type
    case caseRef = "case_ref"
    case message
    case receivedMS = "received_ms"
    case state
    case processedMS = "processed_ms"
    /// The referral a status or known message answers (0021).
    case referral
    /// Arrival order (0021).
    case arrival
}

/// `federation_links`: the case a partner's referral opened or joined, and the statuses sent back for it (0021).
enum FederationLinksColumns: String, SQLTableColumns {
    static let table = "federation_links"

    case partner
    case referral
    case caseID = "case_id"
    case theirCase = "their_case"
    /// The states already sent back, comma-separated.
    case reported
    case createdMS = "created_ms"
}

/// `federation_outbox`: messages to send, in order (`seq`) per partner (0020).
enum FederationOutbox: String, SQLTableColumns {
    static let table = "federation_outbox"

    case seq
    case messageID = "message_id"
    case partner
    case caseRef = "case_ref"
    case type
    case message
    case state
    case attempts
    case nextAttemptMS = "next_attempt_ms"
    case lastError = "last_error"
    case createdMS = "created_ms"
    case deliveredMS = "delivered_ms"
}
