import Foundation
import Testing
import VigilCore

@Suite("Hotline: triage priority and service levels")
struct HotlineTriageTests {
    /// An instant in UTC from `2026-12-04T15:00:00Z`.
    static func at(_ text: String) -> Date {
        guard let date = ISO8601DateFormatter().date(from: text) else { fatalError("bad test date \(text)") }
        return date
    }

    @Test("working days skip Saturday and Sunday and keep the time of day")
    func weekends() {
        let calendar = WorkingCalendar()
        // Friday 15:00 + 1 working day = Monday 15:00
        #expect(calendar.adding(workingDays: 1, to: Self.at("2026-12-04T15:00:00Z")) == Self.at("2026-12-07T15:00:00Z"))
        // Thursday + 3 = Tuesday
        #expect(calendar.adding(workingDays: 3, to: Self.at("2026-12-03T09:30:00Z")) == Self.at("2026-12-08T09:30:00Z"))
        // Monday + 10 = Monday two weeks later
        #expect(
            calendar.adding(workingDays: 10, to: Self.at("2026-11-30T08:00:00Z")) == Self.at("2026-12-14T08:00:00Z"))
        // Saturday counts from the start of Monday: due at the end of Monday
        #expect(calendar.adding(workingDays: 1, to: Self.at("2026-12-05T22:00:00Z")) == Self.at("2026-12-08T00:00:00Z"))
        #expect(!calendar.isWorkingDay(Self.at("2026-12-06T12:00:00Z")))
        #expect(calendar.isWorkingDay(Self.at("2026-12-07T12:00:00Z")))
    }

    @Test("the operator's holidays are skipped too, in the operator's time zone")
    func holidays() throws {
        // given Christmas and Boxing Day off in Paris
        let paris = try #require(TimeZone(identifier: "Europe/Paris"))
        let calendar = WorkingCalendar(
            timeZone: paris, holidays: [try #require(.init("2026-12-25")), .init(year: 2026, month: 12, day: 28)])
        // then Thursday 24th 10:00 Paris + 1 working day skips Friday 25th, the weekend and Monday 28th
        #expect(
            calendar.adding(workingDays: 1, to: Self.at("2026-12-24T09:00:00Z")) == Self.at("2026-12-29T09:00:00Z"))
        // and 23:30 UTC on Friday 25th is already Saturday in Paris
        #expect(calendar.day(of: Self.at("2026-12-25T23:30:00Z")) == .init(year: 2026, month: 12, day: 26))
        #expect(WorkingCalendar.Day("2026-12-25")?.description == "2026-12-25")
        for bad in ["2026-13-01", "26-12-01", "2026-1-01", "x", "2026-12-25T00"] {
            #expect(WorkingCalendar.Day(bad) == nil)
        }
    }

    @Test("fast-track cases are due in one working day, the rest in the configured 3 to 10")
    func deadlines() throws {
        let policy = try TriagePolicy(standardDays: 3)
        let monday = Self.at("2026-11-30T10:00:00Z")
        let standard = TriageFacts(childInImmediateDanger: false, firstReportAt: monday, reportCount: 1)
        #expect(policy.deadline(for: standard) == Self.at("2026-12-03T10:00:00Z"))
        // a police report joining on Tuesday makes the case due on Wednesday
        var fast = standard
        fast.fastTrackSince = TriageFacts.fastTrackSince(
            reports: [(monday, .publicReporter), (Self.at("2026-12-01T10:00:00Z"), .police)])
        #expect(policy.deadline(for: fast) == Self.at("2026-12-02T10:00:00Z"))
        // content found hosted in the country counts from when it was found
        #expect(
            TriageFacts.fastTrackSince(reports: [(monday, .publicReporter)], hostedInCountrySince: monday + 60)
                == monday + 60)
        #expect(TriageFacts.fastTrackSince(reports: [(monday, .professional), (monday, .publicReporter)]) == nil)
        // the standard level never makes a fast-track case later than its standard deadline
        fast.fastTrackSince = Self.at("2026-12-10T10:00:00Z")
        #expect(policy.deadline(for: fast) == policy.deadline(for: standard))
        #expect(throws: TriagePolicyError.standardDaysOutOfRange(2)) { try TriagePolicy(standardDays: 2) }
        #expect(throws: TriagePolicyError.standardDaysOutOfRange(11)) { try TriagePolicy(standardDays: 11) }
        #expect(try TriagePolicy(standardDays: 10).standardDays == 10)
    }

    @Test("the queue order: danger first, then deadline, then more reports, then older")
    func order() throws {
        let policy = try TriagePolicy(standardDays: 5)
        let monday = Self.at("2026-11-30T10:00:00Z")
        let items: [(String, TriageFacts)] = [
            ("old-public", TriageFacts(childInImmediateDanger: false, firstReportAt: monday, reportCount: 1)),
            ("new-danger", TriageFacts(childInImmediateDanger: true, firstReportAt: monday + 86_400, reportCount: 1)),
            (
                "platform",
                TriageFacts(
                    childInImmediateDanger: false, firstReportAt: monday + 3_600, reportCount: 1,
                    fastTrackSince: monday + 3_600)
            ),
            ("old-public-many", TriageFacts(childInImmediateDanger: false, firstReportAt: monday, reportCount: 4)),
            ("older-danger", TriageFacts(childInImmediateDanger: true, firstReportAt: monday, reportCount: 1)),
            (
                "same-deadline-younger",
                TriageFacts(childInImmediateDanger: false, firstReportAt: monday + 1, reportCount: 1)
            ),
        ]
        let sorted = items.sorted { policy.priority(of: $0.1) < policy.priority(of: $1.1) }.map(\.0)
        // deadlines: old-public* Monday+5 = Dec 7 10:00; younger Dec 7 10:00:01; platform Dec 1 11:00
        #expect(
            sorted == [
                "older-danger", "new-danger", "platform", "old-public-many", "old-public", "same-deadline-younger",
            ])
    }

    @Test("overdue once the deadline has passed")
    func overdue() throws {
        let policy = try TriagePolicy()
        let priority = policy.priority(
            of: TriageFacts(
                childInImmediateDanger: false, firstReportAt: Self.at("2026-12-04T15:00:00Z"), reportCount: 1,
                fastTrackSince: Self.at("2026-12-04T15:00:00Z")))
        #expect(priority.deadline == Self.at("2026-12-07T15:00:00Z"))
        #expect(!priority.isOverdue(at: Self.at("2026-12-07T15:00:00Z")))
        #expect(priority.isOverdue(at: Self.at("2026-12-07T15:00:01Z")))
    }
}
