import Foundation

/// Where a notice to a host (or a partner hotline) stands.
public enum NoticeState: String, Sendable, Codable, CaseIterable {
    /// Collecting URLs for its contact; not sent yet.
    case queued
    /// Sent at least once; rechecked, and re-sent while the content stays online.
    case sent
    /// Still online after `notice_max_sends` sends: in the supervisors' queue.
    case escalated
    /// Every URL in it is gone.
    case removed
    /// The contact's mail system refused or returned it for good: in the supervisors' queue, which needs another
    /// contact. Rechecks go on measuring removal.
    case bounced
}

/// Something that happens to a notice.
public enum NoticeEvent: Sendable, Equatable {
    /// A send (first or again) went out.
    case sent
    /// The follow-up found the content still online `notice_renotify_hours` after the last send; `sends` so far.
    case stillOnline(sends: Int, maxSends: Int)
    /// The recheck found every URL in the notice gone.
    case allRemoved
    /// A permanent bounce came back.
    case permanentBounce
    /// A URL found removed is online again; `bouncedBefore` when the notice has a permanent bounce on record.
    case reappeared(bouncedBefore: Bool)

    /// The event's name in errors and audit details.
    public var name: String {
        switch self {
        case .sent: "sent"
        case .stillOnline: "still-online"
        case .allRemoved: "all-removed"
        case .permanentBounce: "permanent-bounce"
        case .reappeared: "reappeared"
        }
    }
}

/// What the store does after a notice event, besides saving the state.
public enum NoticeEffect: Sendable, Equatable {
    /// Queue another send (a reminder).
    case queueSend
    /// Write an audit event on the notice with this action.
    case audit(String)
}

/// Why a notice event was refused: it makes no sense in this state (the notice is unchanged).
public struct NoticeLifecycleError: Error, Sendable, Equatable, CustomStringConvertible {
    public let event: String
    public let state: NoticeState

    public init(event: String, state: NoticeState) {
        self.event = event
        self.state = state
    }

    public var description: String { "\(event) is not possible while the notice is \(state.rawValue)" }
}

/// The notice lifecycle: sent, reminded while online, escalated after the last reminder, removed, bounced, and back
/// to sent when removed content reappears. A value like `CaseWorkflow`: the store loads the state, asks, and saves.
///
/// | state \ event | sent | stillOnline (< max) | stillOnline (≥ max) | allRemoved | permanentBounce | reappeared |
/// |---|---|---|---|---|---|---|
/// | queued | sent | refused | refused | refused | bounced | refused |
/// | sent | sent | sent + remind | escalated + audit | removed + audit | bounced | sent (bounced if bounced before) |
/// | escalated | escalated | escalated + remind | escalated (once) | removed + audit | bounced | sent (or bounced) |
/// | removed | removed (a late send stands down) | refused | refused | removed | removed (recorded only) | sent (or bounced) |
/// | bounced | bounced (stands) | refused | refused | removed + audit | bounced | bounced |
public struct NoticeLifecycle: Sendable, Equatable {
    public private(set) var state: NoticeState

    public init(state: NoticeState) { self.state = state }

    /// Applies `event`, returning what the store must do; throws (leaving the state) when it makes no sense.
    @discardableResult
    public mutating func handle(_ event: NoticeEvent) throws(NoticeLifecycleError) -> [NoticeEffect] {
        func refuse() -> NoticeLifecycleError { NoticeLifecycleError(event: event.name, state: state) }
        switch (state, event) {
        case (.queued, .sent):
            state = .sent
            return []
        case (.sent, .sent), (.escalated, .sent), (.bounced, .sent), (.removed, .sent):
            // A bounce, an escalation or a removal recorded while the send was under way stands.
            return []

        case (.sent, .stillOnline(let sends, let max)), (.escalated, .stillOnline(let sends, let max)):
            if sends < max { return [.queueSend] }
            guard state == .sent else { return [] }
            state = .escalated
            return [.audit("notice.escalated")]
        case (.queued, .stillOnline), (.removed, .stillOnline), (.bounced, .stillOnline):
            throw refuse()

        case (.sent, .allRemoved), (.escalated, .allRemoved), (.bounced, .allRemoved):
            state = .removed
            return [.audit("notice.removed")]
        case (.removed, .allRemoved):
            return []
        case (.queued, .allRemoved):
            throw refuse()

        case (.removed, .permanentBounce):
            return []  // the content is gone: the bounce is recorded, the notice stays removed
        case (.queued, .permanentBounce), (.sent, .permanentBounce), (.escalated, .permanentBounce),
            (.bounced, .permanentBounce):
            state = .bounced
            return []

        case (.sent, .reappeared(let bounced)), (.escalated, .reappeared(let bounced)),
            (.removed, .reappeared(let bounced)):
            // Reminders resume, unless the notice had bounced: it still needs another contact.
            state = bounced ? .bounced : .sent
            return []
        case (.bounced, .reappeared):
            return []
        case (.queued, .reappeared):
            throw refuse()
        }
    }

    /// States whose URLs the recheck looks at (sent at least once and not known removed).
    public static let rechecked: [NoticeState] = [.sent, .escalated, .bounced]
    /// States the follow-up reminds or escalates.
    public static let followedUp: [NoticeState] = [.sent, .escalated]
}
