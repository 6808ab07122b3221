import Foundation
import Testing
import VigilCore

@Suite(
    "Urgent alerts: the rota says who is on duty; an unacknowledged alert moves to the next person, then law enforcement"
)
struct UrgentAlertTests {
    let paris = TimeZone(identifier: "Europe/Paris")!

    /// 2026-12-04 (a Friday) at `hh:mm` in Paris.
    func friday(_ hh: Int, _ mm: Int = 0) -> Date {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = paris
        return c.date(from: DateComponents(year: 2026, month: 12, day: 4, hour: hh, minute: mm))!
    }

    @Test("shifts cover their days and hours in the hotline's time zone, overnight shifts past midnight")
    func covers() {
        let day = RotaShift(username: "ana", email: "ana@hotline.test", days: [1, 2, 3, 4, 5], start: 540, end: 1020)
        #expect(day.covers(friday(9), in: paris))
        #expect(day.covers(friday(16, 59), in: paris))
        #expect(!day.covers(friday(17), in: paris))
        #expect(!day.covers(friday(8, 59), in: paris))
        #expect(!day.covers(friday(12) + 86400, in: paris), "Saturday")
        #expect(!day.covers(friday(9, 30), in: TimeZone(identifier: "UTC")!), "09:30 in Paris is 08:30 in UTC")
        let night = RotaShift(username: "bob", email: "bob@hotline.test", days: [5], start: 1320, end: 360)
        #expect(night.covers(friday(23), in: paris))
        #expect(night.covers(friday(5) + 86400, in: paris), "Saturday 05:00, the Friday shift's end")
        #expect(!night.covers(friday(5), in: paris), "Friday 05:00 belongs to a Thursday shift")
        let allDay = RotaShift(username: "cy", email: "cy@hotline.test", days: [6, 7], start: 0, end: 0)
        #expect(allDay.covers(friday(12) + 86400, in: paris) && !allDay.covers(friday(12), in: paris))
        #expect(
            RotaShift.minutes("07:05") == 425 && RotaShift.minutes("24:00") == nil && RotaShift.clock(425) == "07:05")
        #expect(RotaShift.problem(username: "ana", email: "nope", days: [1], start: 0, end: 60) != nil)
        #expect(RotaShift.problem(username: "ana", email: "a@b.test", days: [], start: 0, end: 60) != nil)
        #expect(RotaShift.problem(username: "ana", email: "a@b.test", days: [8], start: 0, end: 60) != nil)
        #expect(RotaShift.problem(username: "ana", email: "a@b.test", days: [1], start: nil, end: 60) != nil)
        #expect(RotaShift.problem(username: "ana", email: "a@b.test", days: [1], start: 0, end: 60) == nil)
    }

    @Test("on duty: in rota order, each person once")
    func onDuty() {
        let rota = OnCallRota(
            shifts: [
                RotaShift(username: "ana", email: "ana@hotline.test", days: [5], start: 480, end: 1200),
                RotaShift(username: "bob", email: "bob@hotline.test", days: [5], start: 600, end: 1080),
                RotaShift(username: "Ana", email: "ana2@hotline.test", days: [5], start: 0, end: 0),
            ], timeZone: paris)
        #expect(rota.onDuty(at: friday(11)).map(\.username) == ["ana", "bob"])
        #expect(rota.onDuty(at: friday(7)).map(\.username) == ["Ana"])
    }

    @Test("the plan: people on duty, else the fallback addresses, then law enforcement's 24/7 contact")
    func plan() {
        let on = [
            RotaShift(username: "ana", email: "ana@hotline.test", days: [5], start: 0, end: 0),
            RotaShift(username: "bob", email: "bob@hotline.test", days: [5], start: 0, end: 0),
        ]
        let a = UrgentAlert(onDuty: on, fallback: ["desk@hotline.test"], lawEnforcement: "247@police.test")
        #expect(a.steps.map(\.kind) == [.onCall, .onCall, .lawEnforcement])
        #expect(a.steps.map(\.addresses) == [["ana@hotline.test"], ["bob@hotline.test"], ["247@police.test"]])
        let nobody = UrgentAlert(onDuty: [], fallback: ["desk@hotline.test", "head@hotline.test"], lawEnforcement: nil)
        #expect(
            nobody.steps == [
                .init(kind: .fallback, name: "urgent_alert_to", addresses: ["desk@hotline.test", "head@hotline.test"])
            ])
        #expect(UrgentAlert(onDuty: [], fallback: [], lawEnforcement: nil).steps.isEmpty)
    }

    @Test("raise, escalate step by step, unanswered after the last; acknowledged once, by whoever came first")
    func lifecycle() throws {
        let t = friday(12)
        var a = UrgentAlert(
            onDuty: [RotaShift(username: "ana", email: "ana@hotline.test", days: [5], start: 0, end: 0)], fallback: [],
            lawEnforcement: "247@police.test")
        #expect(throws: UrgentAlert.Refusal.notRaised) { try a.handle(.acknowledge(by: "x", via: "link"), at: t) }
        #expect(try a.handle(.deadlinePassed(ackAfter: 900), at: t).isEmpty, "nothing to escalate before it is raised")
        let raised = try a.handle(.raise, at: t)
        #expect(raised.first == .notify(step: 0))
        #expect(a.deadline(ackAfter: 900) == t + 900)
        #expect(try a.handle(.raise, at: t).isEmpty, "raised once")
        #expect(try a.handle(.deadlinePassed(ackAfter: 900), at: t + 899).isEmpty, "not before the wait has passed")
        let escalated = try a.handle(.deadlinePassed(ackAfter: 900), at: t + 900)
        #expect(
            try a.handle(.deadlinePassed(ackAfter: 900), at: t + 900).isEmpty,
            "a second process asking at the same moment moves nothing: the new step's wait has just begun")
        #expect(escalated.first == .notify(step: 1) && a.step == 1 && a.steps[1].kind == .lawEnforcement)
        #expect(a.deadline(ackAfter: 900) == t + 1800)
        #expect(
            try a.handle(.deadlinePassed(ackAfter: 900), at: t + 1800) == [.audit("urgent.unanswered", ["steps": "2"])])
        #expect(a.state == .unanswered && a.deadline(ackAfter: 900) == nil)
        #expect(try a.handle(.deadlinePassed(ackAfter: 900), at: t + 2700).isEmpty)
        let ack = try a.handle(.acknowledge(by: "247@police.test", via: "link"), at: t + 2000)
        #expect(ack == [.audit("urgent.acknowledged", ["by": "247@police.test", "via": "link", "step": "1"])])
        #expect(a.state == .acknowledged && a.acknowledgedAt == t + 2000)
        #expect(throws: UrgentAlert.Refusal.alreadyAcknowledged(by: "247@police.test")) {
            try a.handle(.acknowledge(by: "ana", via: "case-page"), at: t + 2100)
        }
        #expect(
            try a.handle(.deadlinePassed(ackAfter: 900), at: t + 9000).isEmpty, "an acknowledged alert goes no further")
    }
}
