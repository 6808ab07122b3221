import Foundation
import Testing
import VigilCore

@Suite("Audit chain")
struct AuditChainTests {
    func chain(_ n: Int) -> [AuditEvent] {
        var events: [AuditEvent] = []
        for i in 0..<n {
            let prev = events.last.map { ($0.sequence, $0.hash) }
            events.append(
                AuditChain.next(
                    after: prev, time: Date(timeIntervalSince1970: 1_800_000_000 + Double(i)), actor: .user("alice"),
                    action: "case.assess", subject: "case:\(i)", details: ["outcome": "illegal", "n": String(i)]))
        }
        return events
    }

    func verify(_ events: [AuditEvent]) throws(AuditChain.Failure) {
        var v = AuditChain.Verifier()
        for e in events { try v.check(e) }
    }

    @Test("an untouched chain verifies")
    func intact() throws {
        try verify(chain(20))
    }

    @Test("a modified field is found at its event")
    func modified() {
        var events = chain(10)
        events[4].subject = "case:999"
        #expect(throws: AuditChain.Failure.modified(sequence: 5)) { try verify(events) }
    }

    @Test("a deleted event is found")
    func deleted() {
        var events = chain(10)
        events.remove(at: 6)
        #expect(throws: AuditChain.Failure.gap(expected: 7, found: 8)) { try verify(events) }
    }

    @Test("swapping two events is found")
    func reordered() {
        var events = chain(10)
        events.swapAt(2, 3)
        #expect(throws: AuditChain.Failure.gap(expected: 3, found: 4)) { try verify(events) }
    }

    @Test("rewriting an event and renumbering breaks the link to the next")
    func rehashed() {
        var events = chain(10)
        // An attacker recomputes event 5's own hash after editing it, but cannot fix event 6's link.
        let e = events[4]
        events[4] = AuditChain.next(
            after: (events[3].sequence, events[3].hash), time: e.time, actor: e.actor, action: e.action,
            subject: "forged", details: [:])
        #expect(throws: AuditChain.Failure.broken(sequence: 6, expectedPrevious: events[4].hash)) { try verify(events) }
    }

    @Test("details serialise canonically, whatever the insertion order")
    func canonical() {
        #expect(AuditChain.canonicalJSON(["b": "2", "a": "1/x"]) == #"{"a":"1/x","b":"2"}"#)
        #expect(AuditChain.canonicalJSON([:]) == "{}")
    }
}
