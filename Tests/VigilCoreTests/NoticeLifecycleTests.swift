import Testing
import VigilCore

/// The notice lifecycle, every state × event: where it leads, what the store must do, or the refusal.
@Suite("Notice lifecycle")
struct NoticeLifecycleTests {
    enum Expect: Equatable {
        case to(NoticeState, [NoticeEffect])
        case refused
    }

    static let events: [NoticeEvent] = [
        .sent, .stillOnline(sends: 1, maxSends: 3), .stillOnline(sends: 3, maxSends: 3), .allRemoved, .permanentBounce,
        .reappeared(bouncedBefore: false), .reappeared(bouncedBefore: true),
    ]

    /// Rows: states; columns: `events`, in order.
    static let table: [NoticeState: [Expect]] = [
        .queued: [
            .to(.sent, []), .refused, .refused, .refused, .to(.bounced, []), .refused, .refused,
        ],
        .sent: [
            .to(.sent, []), .to(.sent, [.queueSend]), .to(.escalated, [.audit("notice.escalated")]),
            .to(.removed, [.audit("notice.removed")]), .to(.bounced, []), .to(.sent, []), .to(.bounced, []),
        ],
        .escalated: [
            .to(.escalated, []), .to(.escalated, [.queueSend]), .to(.escalated, []),
            .to(.removed, [.audit("notice.removed")]), .to(.bounced, []), .to(.sent, []), .to(.bounced, []),
        ],
        .removed: [
            .to(.removed, []), .refused, .refused, .to(.removed, []), .to(.removed, []), .to(.sent, []),
            .to(.bounced, []),
        ],
        .bounced: [
            .to(.bounced, []), .refused, .refused, .to(.removed, [.audit("notice.removed")]), .to(.bounced, []),
            .to(.bounced, []), .to(.bounced, []),
        ],
    ]

    @Test("every state × event", arguments: NoticeState.allCases)
    func exhaustive(state: NoticeState) throws {
        let row = try #require(Self.table[state])
        #expect(row.count == Self.events.count)
        for (event, expected) in zip(Self.events, row) {
            var lifecycle = NoticeLifecycle(state: state)
            let got: Expect
            do throws(NoticeLifecycleError) {
                let effects = try lifecycle.handle(event)
                got = .to(lifecycle.state, effects)
            } catch {
                #expect(error.state == state && error.event == event.name)
                #expect(lifecycle.state == state, "a refused event leaves the notice as it was")
                got = .refused
            }
            #expect(got == expected, "\(state) × \(event)")
        }
    }

    @Test("a notice is reminded until the last send, escalated once, then left for the supervisors")
    func reminders() throws {
        var n = NoticeLifecycle(state: .queued)
        try n.handle(.sent)
        var reminders = 0
        for sends in 1...5 {
            let effects = try n.handle(.stillOnline(sends: sends, maxSends: 3))
            reminders += effects.filter { $0 == .queueSend }.count
        }
        #expect(reminders == 2 && n.state == .escalated)
        #expect(try n.handle(.allRemoved) == [.audit("notice.removed")])
        #expect(try n.handle(.reappeared(bouncedBefore: false)).isEmpty && n.state == .sent)
    }

    @Test("the refusal names the event and the state")
    func refusalText() {
        var n = NoticeLifecycle(state: .queued)
        #expect(throws: NoticeLifecycleError(event: "all-removed", state: .queued)) { try n.handle(.allRemoved) }
        #expect(
            NoticeLifecycleError(event: "all-removed", state: .queued).description
                == "all-removed is not possible while the notice is queued")
    }
}
