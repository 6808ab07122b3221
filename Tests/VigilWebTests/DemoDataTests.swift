import Foundation
import Testing
import Vapor
import VigilApp
import VigilCore
import VigilStore
import VigilTestSupport
import VigilWeb

/// `make run`'s demonstration data shows every operations page something to show (#18).
@Suite("Demonstration data")
struct DemoDataTests {
    @Test("notices removed and escalated, appeals decided and open, a notify-after hold, a lapsed list entry")
    func operationsPages() async throws {
        try await withVigilApp(configure: { $0.demoData = true }) { app, clock in
            let notices = NoticeStore(db: app.db, clock: clock)
            let all = try await notices.notices(limit: 500)
            #expect(all.filter { $0.state == .removed }.count >= 3)
            #expect(all.contains { $0.state == .escalated })
            let timelines = try await notices.timelines()
            #expect(timelines.contains { $0.removedAt != nil })
            let list = BlockListStore(db: app.db, clock: clock)
            let appeals = try await list.appeals(openOnly: false)
            #expect(appeals.count == 2 && appeals.filter { $0.state.isOpen }.count == 1)
            let versions = try await list.versions(limit: 10)
            #expect(versions.contains { $0.removed > 0 } && versions.contains { $0.added > 0 })
            let cases = try await app.hotlineStoreForTests.queue(includeClosed: true, per: 500).cases
            #expect(cases.contains { $0.workflow.hold?.notifyAfter != nil })
            let (sup, _) = try await Staff.signedIn(app, clock: clock, username: "sue", role: .supervisor)
            let takedown = try await sup.get("/takedown")
            #expect(takedown.status == .ok && takedown.body.contains("escalated"))
            // the urgent path: a rota, and an alert acknowledged six minutes after the report
            #expect(takedown.body.contains("id=\"urgent-ack\"") && takedown.body.contains("<td>6.0</td>"))
            let rota = try await sup.get("/rota")
            #expect(rota.body.contains("nights@hotline.example.test") && rota.body.contains("acknowledged"))
            let appealsPage = try await sup.get("/list/appeals")
            #expect(appealsPage.body.contains("stays (generated example)"))
            // nothing but reserved names
            for n in all { #expect(n.contact.hasSuffix(".test"), "\(n.contact)") }
        }
    }
}

@Suite("Reserved names stay on the machine")
struct ReservedNameTests {
    @Test("a reserved name is never asked of a resolver off this machine; a loopback resolver may be asked")
    func reservedNames() async throws {
        // 192.0.2.1 is TEST-NET-1: were a query sent, it would go nowhere; the refusal comes before any packet.
        let away = DNSClient(server: "192.0.2.1", port: 53)
        await #expect(
            throws: OutboundRefusal.unresolved(
                host: "host-1.example.test", why: "reserved name (RFC 6761): not looked up outside this machine")
        ) {
            try await away.addresses(of: "host-1.example.test")
        }
        #expect(ReservedNames.contains("Demo.Example.TEST.") && ReservedNames.contains("example.com"))
        #expect(!ReservedNames.contains("example.community") && !ReservedNames.contains("testing.org"))
        #expect(DNSClient(server: "127.0.0.1", port: 9).isOnThisMachine && !away.isOnThisMachine)
    }
}
