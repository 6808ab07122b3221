import Foundation
import Testing
import VigilCore
import VigilStore
import VigilTestSupport

@Suite("Policy store: checklist, awareness pages, global review edits")
struct PolicyStoreTests {
    @Test("a checklist change is stored and audited with what changed; an unchanged save records nothing")
    func checklist() async throws {
        try await withVigilApp { app, clock in
            // given
            let store = PolicyStore(db: app.db, clock: clock)
            let before = try await AuditLog.verify(on: app.db)
            // when
            let saved = try await store.updateChecklist(
                ChecklistEntry(
                    itemID: "ka-3", status: .inProgress, evidence: "Hotline opened",
                    links: ["https://example.test/hotline"], owner: "Ministry", reviewDate: "2027-01-31"),
                by: "sam")
            clock.advance(by: 60)
            let same = try await store.updateChecklist(
                ChecklistEntry(
                    itemID: "ka-3", status: .inProgress, evidence: "Hotline opened",
                    links: ["https://example.test/hotline"], owner: "Ministry", reviewDate: "2027-01-31"),
                by: "sam")
            clock.advance(by: 60)
            try await store.updateChecklist(
                ChecklistEntry(
                    itemID: "ka-3", status: .inPlace, evidence: "Hotline opened",
                    links: ["https://example.test/hotline"], owner: "Ministry", reviewDate: "2027-01-31"), by: "ann")
            // then
            #expect(saved?.updatedBy == "sam")
            #expect(same == nil)
            let entries = try await store.checklistEntries()
            #expect(entries["ka-3"]?.status == .inPlace)
            #expect(entries["ka-3"]?.links == ["https://example.test/hotline"])
            #expect(entries["ka-3"]?.updatedBy == "ann")
            let history = try await store.checklistHistory()
            #expect(history.count == 2)
            #expect(history.first?.actor == .user("ann"))
            #expect(history.first?.subject == "checklist:ka-3")
            #expect(history.first?.detailsJSON.contains("in-place") == true)
            #expect(history.last?.detailsJSON.contains("Ministry") == true)
            #expect(try await AuditLog.verify(on: app.db) == before + 2)
            await #expect(throws: ChecklistError.self) {
                try await store.updateChecklist(
                    ChecklistEntry(itemID: "ka-3", links: ["javascript:alert(1)"]), by: "sam")
            }
        }
    }

    @Test("awareness pages keep every revision; the newest is the page")
    func awareness() async throws {
        try await withVigilApp { app, clock in
            let store = PolicyStore(db: app.db, clock: clock)
            try await store.saveAwarenessPage(slug: "parents", language: "fr", body: "# Parents\n\nv1", by: "root")
            clock.advance(by: 10)
            try await store.saveAwarenessPage(slug: "parents", language: "fr", body: "# Parents\n\nv2", by: "root")
            let current = try await store.currentAwarenessPages()
            #expect(current["parents/fr"]?.body == "# Parents\n\nv2")
            let history = try await store.awarenessHistory(slug: "parents", language: "fr")
            #expect(history.map(\.body) == ["# Parents\n\nv2", "# Parents\n\nv1"])
            let events = try await AuditLog.list(on: app.db, filter: .init(action: "awareness.saved"), page: 1, per: 10)
                .events
            #expect(events.count == 2 && events[0].subject == "learn:parents/fr")
            await #expect(throws: StoreError.self) {
                try await store.saveAwarenessPage(slug: "../etc", language: "fr", body: "x", by: "root")
            }
            await #expect(throws: StoreError.self) {
                try await store.saveAwarenessPage(slug: "ok", language: "not a tag", body: "x", by: "root")
            }
        }
    }

    @Test("the operator's edit of their country's row is kept with its date and audited")
    func reviewEdit() async throws {
        try await withVigilApp { app, clock in
            let store = PolicyStore(db: app.db, clock: clock)
            try await store.editReview(
                country: "Kenya", meets: [.specificLegislation, .definition], note: "Act 2024", by: "root")
            let edit = try #require(try await store.reviewEdit(country: "Kenya"))
            #expect(edit.meets == [.specificLegislation, .definition])
            #expect(edit.editedAt == clock.now())
            #expect(try await store.reviewEdit(country: "Chile") == nil)
            let events = try await AuditLog.list(
                on: app.db, filter: .init(action: "global-review.edited"), page: 1, per: 10
            ).events
            #expect(events.count == 1)
        }
    }
}
