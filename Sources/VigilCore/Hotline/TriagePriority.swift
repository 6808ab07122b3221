import Foundation

/// Working days: Monday to Friday in the operator's time zone, less the operator's public holidays.
public struct WorkingCalendar: Sendable, Equatable {
    /// A calendar date without a time.
    public struct Day: Sendable, Hashable, Comparable, CustomStringConvertible {
        /// The year, such as 2026.
        public var year: Int
        /// The month, 1 to 12.
        public var month: Int
        /// The day of the month, 1 to 31.
        public var day: Int

        /// A date from its parts.
        public init(year: Int, month: Int, day: Int) {
            self.year = year
            self.month = month
            self.day = day
        }

        /// Reads `YYYY-MM-DD`; nil for anything else.
        public init?(_ text: String) {
            let parts = text.split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
                let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]), (1...12).contains(m),
                (1...31).contains(d)
            else { return nil }
            self.init(year: y, month: m, day: d)
        }

        /// Calendar order.
        public static func < (a: Day, b: Day) -> Bool { (a.year, a.month, a.day) < (b.year, b.month, b.day) }

        /// `YYYY-MM-DD`.
        public var description: String {
            let m = month < 10 ? "0\(month)" : "\(month)"
            let d = day < 10 ? "0\(day)" : "\(day)"
            return "\(year)-\(m)-\(d)"
        }
    }

    /// The operator's time zone: where a day begins and ends.
    public var timeZone: TimeZone
    /// Days off besides Saturday and Sunday.
    public var holidays: Set<Day>

    /// A calendar in `timeZone` (UTC by default) with `holidays` off.
    public init(timeZone: TimeZone = TimeZone(identifier: "UTC") ?? .current, holidays: Set<Day> = []) {
        self.timeZone = timeZone
        self.holidays = holidays
    }

    private var calendar: Calendar {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = timeZone
        return c
    }

    /// The calendar date of `date` in the operator's time zone.
    public func day(of date: Date) -> Day {
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        return Day(year: c.year ?? 0, month: c.month ?? 0, day: c.day ?? 0)
    }

    /// Whether `date` falls on a working day.
    public func isWorkingDay(_ date: Date) -> Bool {
        let weekday = calendar.component(.weekday, from: date)
        return weekday != 1 && weekday != 7 && !holidays.contains(day(of: date))
    }

    /// The instant `count` working days after `date`, at the same time of day.
    ///
    /// Something received on a weekend or holiday counts from the start of the next working day, so a report
    /// received on Saturday with one working day is due at the end of Monday (Tuesday 00:00), and one received on
    /// Friday at 15:00 is due on Monday at 15:00.
    public func adding(workingDays count: Int, to date: Date) -> Date {
        let c = calendar
        var t = date
        if !isWorkingDay(t) { t = nextWorkingDay(after: c.startOfDay(for: t), calendar: c) }
        for _ in 0..<max(0, count) { t = nextWorkingDay(after: t, calendar: c) }
        return t
    }

    /// The same time of day on the next working day (searching at most ten years ahead).
    private func nextWorkingDay(after date: Date, calendar c: Calendar) -> Date {
        var t = date
        for _ in 0..<3_660 {
            t = c.date(byAdding: .day, value: 1, to: t) ?? t.addingTimeInterval(86_400)
            if isWorkingDay(t) { break }
        }
        return t
    }
}

extension ReportSource {
    /// Whether reports from this source get the short service level (one working day): hotlines, police and
    /// platforms.
    public var isFastTrack: Bool {
        switch self {
        case .hotlinePartner, .police, .platform: true
        case .publicReporter, .professional: false
        }
    }
}

/// The operator's service levels, in the style of the IWF's: one working day for reports from partner hotlines,
/// police and platforms and for content hosted in the country, three to ten working days for the rest.
public struct TriagePolicy: Sendable, Equatable {
    /// Working days for fast-track cases.
    public static let fastTrackDays = 1
    /// The range allowed for ``standardDays``.
    public static let standardDaysRange = 3...10

    /// Working days for other cases.
    public let standardDays: Int
    /// The working days the levels count.
    public var calendar: WorkingCalendar

    /// - Throws: ``TriagePolicyError/standardDaysOutOfRange(_:)`` unless `standardDays` is 3 to 10.
    public init(standardDays: Int = 5, calendar: WorkingCalendar = WorkingCalendar()) throws(TriagePolicyError) {
        guard Self.standardDaysRange.contains(standardDays) else { throw .standardDaysOutOfRange(standardDays) }
        self.standardDays = standardDays
        self.calendar = calendar
    }

    /// The deadline of a case: the earlier of its first report plus the standard level and, when it has one, its
    /// fast-track time plus one working day.
    public func deadline(for facts: TriageFacts) -> Date {
        let standard = calendar.adding(workingDays: standardDays, to: facts.firstReportAt)
        guard let fast = facts.fastTrackSince else { return standard }
        return min(standard, calendar.adding(workingDays: Self.fastTrackDays, to: fast))
    }

    /// The queue position of a case.
    public func priority(of facts: TriageFacts) -> TriagePriority {
        TriagePriority(
            childInImmediateDanger: facts.childInImmediateDanger, deadline: deadline(for: facts),
            reportCount: facts.reportCount, firstReportAt: facts.firstReportAt)
    }
}

/// A service-level setting is out of range.
public enum TriagePolicyError: Error, Sendable, Equatable, CustomStringConvertible {
    case standardDaysOutOfRange(Int)

    /// A message for the operator.
    public var description: String {
        switch self {
        case .standardDaysOutOfRange(let n): "the standard service level must be 3 to 10 working days, not \(n)"
        }
    }
}

/// What the queue needs to know about a case.
public struct TriageFacts: Sendable, Equatable {
    /// Any report in the case says a child is in immediate danger.
    public var childInImmediateDanger: Bool
    /// When the first report arrived.
    public var firstReportAt: Date
    /// How many reports the case has.
    public var reportCount: Int
    /// Since when the case is fast-track: the first report from a hotline, the police or a platform, or the time
    /// the content was found hosted in the country; nil when it is not.
    public var fastTrackSince: Date?

    /// The facts of one case.
    public init(childInImmediateDanger: Bool, firstReportAt: Date, reportCount: Int, fastTrackSince: Date? = nil) {
        self.childInImmediateDanger = childInImmediateDanger
        self.firstReportAt = firstReportAt
        self.reportCount = reportCount
        self.fastTrackSince = fastTrackSince
    }

    /// The fast-track time for reports `(time, source)` and the time hosting in the country was found.
    public static func fastTrackSince(
        reports: [(receivedAt: Date, source: ReportSource)], hostedInCountrySince: Date? = nil
    ) -> Date? {
        let times =
            reports.filter { $0.source.isFastTrack }.map(\.receivedAt) + [hostedInCountrySince].compactMap { $0 }
        return times.min()
    }
}

/// A case's place in the analysts' queue. Sorting ascending puts the most urgent first: a child in immediate danger,
/// then the earliest deadline, then more reports, then the oldest.
public struct TriagePriority: Sendable, Hashable, Comparable {
    /// A child is in immediate danger: first in the queue.
    public let childInImmediateDanger: Bool
    /// The service-level deadline.
    public let deadline: Date
    /// More reports come first among equal deadlines.
    public let reportCount: Int
    /// Older cases come first among the rest.
    public let firstReportAt: Date

    /// A priority from its parts (see ``TriagePolicy/priority(of:)``).
    public init(childInImmediateDanger: Bool, deadline: Date, reportCount: Int, firstReportAt: Date) {
        self.childInImmediateDanger = childInImmediateDanger
        self.deadline = deadline
        self.reportCount = reportCount
        self.firstReportAt = firstReportAt
    }

    /// Whether the deadline has passed at `time`.
    public func isOverdue(at time: Date) -> Bool { deadline < time }

    /// Whether `a` is more urgent than `b`.
    public static func < (a: TriagePriority, b: TriagePriority) -> Bool {
        if a.childInImmediateDanger != b.childInImmediateDanger { return a.childInImmediateDanger }
        if a.deadline != b.deadline { return a.deadline < b.deadline }
        if a.reportCount != b.reportCount { return a.reportCount > b.reportCount }
        return a.firstReportAt < b.firstReportAt
    }
}
