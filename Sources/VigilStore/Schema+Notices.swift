import SQLKit

// Notice and takedown: hosting, notices, their URLs, channels, templates, bounces. Column names as they stand after
// every migration.

/// `hosting`: where a case's content is hosted (0010; `registrar_contact` 0012). Named `…Columns`:
/// `NoticeStore.Hosting` is the value read from it.
enum HostingColumns: String, SQLTableColumns {
    static let table = "hosting"

    case caseID = "case_id"
    case country
    case network
    case abuseContact = "abuse_contact"
    case source
    case details
    case updatedBy = "updated_by"
    case updatedMS = "updated_ms"
    case registrarContact = "registrar_contact"
}

/// `notices`: notices, one per abuse contact and batch (0010; `token`, `route` 0011; `bounce_token` 0012).
enum Notices: String, SQLTableColumns {
    static let table = "notices"

    case id
    case contact
    case state
    case createdMS = "created_ms"
    case firstSentMS = "first_sent_ms"
    case lastSentMS = "last_sent_ms"
    case sends
    case removedMS = "removed_ms"
    case lastError = "last_error"
    case token
    case route
    case bounceToken = "bounce_token"
}

/// `notice_items`: the URLs in each notice (0010; `sent_ms` 0015).
enum NoticeItems: String, SQLTableColumns {
    static let table = "notice_items"

    case noticeID = "notice_id"
    case caseID = "case_id"
    case url
    case addedMS = "added_ms"
    case removedMS = "removed_ms"
    case checkDetail = "check_detail"
    case sentMS = "sent_ms"
}

/// `channels`: partner hotlines and webhook providers (0011).
enum Channels: String, SQLTableColumns {
    static let table = "channels"

    case key
    case kind
    case name
    case language
    case delivery
    case address
    case secret
    case updatedBy = "updated_by"
    case updatedMS = "updated_ms"
}

/// `notice_templates`: notice templates per language (0011).
enum NoticeTemplates: String, SQLTableColumns {
    static let table = "notice_templates"

    case language
    case body
    case updatedBy = "updated_by"
    case updatedMS = "updated_ms"
}

/// `notice_bounces`: bounces of notices (0012).
enum NoticeBounces: String, SQLTableColumns {
    static let table = "notice_bounces"

    case id
    case noticeID = "notice_id"
    case receivedMS = "received_ms"
    case recipient
    case action
    case status
    case diagnostic
    case source
}
